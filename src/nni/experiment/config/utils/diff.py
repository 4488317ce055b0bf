"""``diff(config1, config2)``: what differs between two configs, as a unified diff of their JSON.

NNI's ``nni.experiment.config.utils.diff``; ``Experiment.resume``/``view`` and users use it to
say how a stored config differs from the one in hand.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

__all__ = ['diff']


def _lines(config: Any) -> list[str]:
    data = config.json() if hasattr(config, 'json') else config
    return json.dumps(data, indent=4, sort_keys=True, ensure_ascii=False, default=str).splitlines()


def diff(config1: Any, config2: Any, from_: str = '', to_: str = '') -> str:
    """Compare two configs in their canonical JSON form.

    Parameters
    ----------
    config1, config2
        Config objects (anything with ``json()``) or JSON-compatible dicts.
    from_, to_
        Labels of the two sides in the diff header.

    Returns
    -------
    str
        A unified diff, one line per change; ``''`` when the canonical forms are equal.
    """
    return '\n'.join(difflib.unified_diff(_lines(config1), _lines(config2), from_, to_, lineterm=''))
