"""Helpers that users and the manager import: path type alias and unit parsing.

Durations and memory sizes stay verbatim in a config's JSON (as NNI keeps them); whoever
needs a number (the manager, a training service) converts them with :func:`parse_time` and
:func:`parse_memory_size`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Union

__all__ = ['PathLike', 'parse_time', 'parse_memory_size']

#: Type of config fields holding a file system path; resolved to an absolute ``str`` in the
#: canonical form. (``typing.Union`` rather than ``|`` so that it is a usable runtime alias.)
PathLike = Union[Path, str]

# Checked in this order: the first suffix that matches wins, so 'ms' is read as 'm' + 's'
# (and then fails to parse) exactly like NNI does.
_TIME_UNITS: tuple[tuple[str, int], ...] = (('d', 86400), ('h', 3600), ('m', 60), ('s', 1))
_SIZE_UNITS: tuple[tuple[str, int], ...] = (
    ('tb', 1024**4),
    ('gb', 1024**3),
    ('mb', 1024**2),
    ('kb', 1024),
    ('b', 1),
)


def _parse_with_units(value: str, units: tuple[tuple[str, int], ...], target: int) -> int:
    text = value.strip().lower()
    for suffix, factor in units:
        if text.endswith(suffix):
            number = float(text[: -len(suffix)])
            if not math.isfinite(number):
                raise ValueError(f'Bad number in "{text}": must be finite')
            return math.ceil(number * factor / target)
    supported = ', '.join(suffix for suffix, _ in units)
    raise ValueError(f'Bad unit in "{text}", supported units are {supported}')


def parse_time(value: str | int) -> int:
    """Convert a duration to whole seconds, rounding up.

    Parameters
    ----------
    value
        An ``int`` (already seconds, returned unchanged) or a string made of a number and one
        unit: ``d``, ``h``, ``m`` or ``s`` (case-insensitive, e.g. ``'1.5h'``, ``'10m'``).

    Returns
    -------
    int
        Number of seconds, rounded up (``'0.1s'`` gives 1).

    Raises
    ------
    ValueError
        If the string has no known unit or its number cannot be parsed.

    Examples
    --------
    >>> parse_time('1.5h')
    5400
    >>> parse_time(60)
    60
    """
    if not isinstance(value, str):
        return value
    return _parse_with_units(value, _TIME_UNITS, 1)


def parse_memory_size(value: str | int) -> int:
    """Convert a memory size to whole mebibytes ("MB" as NNI uses it), rounding up.

    Parameters
    ----------
    value
        An ``int`` (already MB, returned unchanged) or a string made of a number and one unit:
        ``tb``, ``gb``, ``mb``, ``kb`` or ``b`` (case-insensitive, powers of 1024).

    Returns
    -------
    int
        Size in MB, rounded up (``'512b'`` gives 1).

    Raises
    ------
    ValueError
        If the string has no known unit or its number cannot be parsed.

    Examples
    --------
    >>> parse_memory_size('1.5gb')
    1536
    >>> parse_memory_size(8192)
    8192
    """
    if not isinstance(value, str):
        return value
    return _parse_with_units(value, _SIZE_UNITS, 1024**2)
