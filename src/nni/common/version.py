"""Versions of the packages a saved object depends on (NNI's ``nni.common.version``).

``version_dump()`` records them next to something serialised; ``version_check()`` compares such a
record with the running environment. Versions are read from the installed distributions'
metadata, so nothing (no torch, no tensorflow) is imported to learn them.
"""

from __future__ import annotations

import sys
import warnings
from importlib import metadata

__all__ = ['version_dump', 'version_check', 'torch_version_is_2']

# record key -> distribution names to try, in order
_DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    'numpy': ('numpy',),
    'torch': ('torch',),
    'pytorch_lightning': ('pytorch-lightning', 'lightning'),
    'tensorflow': ('tensorflow', 'tensorflow-cpu'),
    'cloudpickle': ('cloudpickle',),
    'json_tricks': ('json-tricks', 'json_tricks'),
    'pyyaml': ('PyYAML',),
    'nni': ('nni',),
}


def _minor_version(text: str) -> tuple[int, int] | None:
    parts = text.split('.')
    try:
        return int(parts[0]), int(''.join(ch for ch in parts[1] if ch.isdigit()) or 0)
    except (IndexError, ValueError):
        return None


def _installed(names: tuple[str, ...]) -> tuple[int, int] | None:
    for name in names:
        try:
            return _minor_version(metadata.version(name))
        except metadata.PackageNotFoundError:
            continue
    return None


def version_dump() -> dict[str, tuple[int, int] | None]:
    """Return ``{package: (major, minor) or None}`` for Python and the packages NNI records.

    Returns
    -------
    dict
        Keys ``python``, ``numpy``, ``torch``, ``pytorch_lightning``, ``tensorflow``,
        ``cloudpickle``, ``json_tricks``, ``pyyaml`` and ``nni``; ``None`` for a package that is
        not installed.
    """
    versions: dict[str, tuple[int, int] | None] = {'python': tuple(sys.version_info[:2])}  # type: ignore[dict-item]
    for key, names in _DISTRIBUTIONS.items():
        versions[key] = _installed(names)
    if versions['nni'] is None:
        from nni import __version__

        versions['nni'] = _minor_version(__version__)
    return versions


def version_check(expect: dict, raise_error: bool = False) -> None:
    """Compare a :func:`version_dump` record with the running environment.

    Parameters
    ----------
    expect
        ``{package: (major, minor)}`` (lists are fine, as after JSON); ``None`` values are skipped.
    raise_error
        Raise ``RuntimeError`` on a mismatch instead of warning (``UserWarning``).
    """
    current = version_dump()
    for package, version in expect.items():
        if not version:
            continue
        wanted = tuple(version)
        if package not in current:
            problem = f'{package} is missing in current environment'
        elif current[package] != wanted:
            problem = f'Expect {package} to have version {wanted}, but {current[package]} found'
        else:
            continue
        if raise_error:
            raise RuntimeError('Version check failed: ' + problem)
        warnings.warn('Version check with warning: ' + problem, UserWarning, stacklevel=2)


def torch_version_is_2() -> bool:
    """Whether the installed PyTorch is 2.x or later (``False`` without PyTorch)."""
    version = _installed(_DISTRIBUTIONS['torch'])
    return version is not None and version >= (2, 0)
