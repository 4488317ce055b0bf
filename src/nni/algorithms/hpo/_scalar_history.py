"""Intermediate results as numbers, for the assessors."""

from __future__ import annotations

import math
from typing import Any

from nni.utils import extract_scalar_reward

__all__ = ["scalar_history"]


def scalar_history(trial_history: list[Any]) -> list[float]:
    """The numbers of a history; an item that is not a number (or a dict with one) becomes NaN.

    One trial reporting something odd must not stop the whole experiment, so such items are
    skipped by the assessors instead of raising (as ``nni.utils.extract_scalar_history`` does).
    """
    values = []
    for item in trial_history:
        try:
            values.append(float(extract_scalar_reward(item)))
        except (RuntimeError, TypeError, ValueError):
            values.append(math.nan)
    return values
