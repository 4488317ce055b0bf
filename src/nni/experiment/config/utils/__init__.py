"""Helpers of the config package.

``public`` holds what users and the manager import (``PathLike``, ``parse_time``,
``parse_memory_size``); ``internal`` holds the machinery of the config classes.
"""

from __future__ import annotations

from .diff import diff
from .public import PathLike, parse_memory_size, parse_time

__all__ = ['PathLike', 'diff', 'parse_memory_size', 'parse_time']
