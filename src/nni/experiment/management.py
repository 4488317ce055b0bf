"""Experiment ids and folders."""

from __future__ import annotations

import re
import secrets
import string
from pathlib import Path

__all__ = ['create_experiment_directory', 'generate_experiment_id', 'is_valid_experiment_id']

_ID_CHARS = string.ascii_lowercase + string.digits
_VALID_ID = re.compile(r'[A-Za-z0-9_\-]{1,32}')

# A system RNG rather than the ``random`` module: training scripts often call random.seed(), which
# would make every experiment of such a script get the same id.
_rng = secrets.SystemRandom()


def generate_experiment_id() -> str:
    """
    A new random experiment id: 8 distinct characters from ``[a-z0-9]``, as NNI.

    Returns
    -------
    str
        The id, e.g. ``'p43ny6ew'``.
    """
    return ''.join(_rng.sample(_ID_CHARS, 8))


def is_valid_experiment_id(experiment_id: str) -> bool:
    """
    Whether ``experiment_id`` is acceptable: 1 to 32 characters among letters, digits, ``_`` and ``-``.

    Parameters
    ----------
    experiment_id
        Candidate id.
    """
    return isinstance(experiment_id, str) and _VALID_ID.fullmatch(experiment_id) is not None


def create_experiment_directory(experiment_id: str, base: str | Path | None = None) -> Path:
    """
    Create (if needed) and return the experiment's folder.

    Parameters
    ----------
    experiment_id
        Experiment id.
    base
        Experiment working directory; default ``~/nni-experiments`` (as NNI).

    Returns
    -------
    Path
        ``<base>/<experiment_id>``.
    """
    root = Path(base).expanduser() if base is not None else Path.home() / 'nni-experiments'
    path = root / experiment_id
    path.mkdir(parents=True, exist_ok=True)
    return path
