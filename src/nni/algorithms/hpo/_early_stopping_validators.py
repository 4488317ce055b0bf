"""Class-args validators of the assessors (Medianstop, Curvefitting) and advisors (Hyperband, BOHB).

Stdlib only, like :mod:`.validators`: a config is checked before anything starts, and that must
not import numpy, scipy or statsmodels. The algorithm modules re-export these classes under NNI's
paths (``medianstop_assessor.MedianstopClassArgsValidator`` and so on).

Differences from NNI's validators (each one rejects something that would fail later anyway, or
accepts something harmless):

* numbers written as ints are accepted where a float is expected (``threshold: 1``,
  ``bandwidth_factor: 3``); NNI rejects them with "should be float type!".
* ``eta`` must be >= 2 and ``R`` / budgets > 0 (NNI accepts 0 and then divides by zero or loops);
  BOHB's ``max_budget`` must not be below ``min_budget``; ``random_fraction`` lies in [0, 1].
* ``seed`` (int) is accepted by all four: the runs become repeatable.
"""

from __future__ import annotations

from typing import Any

from nni.utils import ClassArgsError, ClassArgsValidator

__all__ = [
    "BOHBClassArgsValidator",
    "CurvefittingClassArgsValidator",
    "HyperbandClassArgsValidator",
    "MedianstopClassArgsValidator",
]

_NUMBER = (int, float)
_OPTIONAL_SEED = (int, type(None))


def _number_in(key: str, low: float | None, high: float | None, strictly_above_low: bool = False) -> Any:
    """A rule: an int or float (not a bool) inside [low, high] (or (low, high] when strict)."""

    def rule(value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, _NUMBER):
            raise ClassArgsError(f"{key} should be a number, got {value!r}")
        too_low = low is not None and (value <= low if strictly_above_low else value < low)
        if too_low or (high is not None and value > high):
            opening = "(" if strictly_above_low else "["
            raise ClassArgsError(f"{key} should be in range {opening}{low}, {high}], got {value!r}")
        return True

    return rule


class MedianstopClassArgsValidator(ClassArgsValidator):
    """Checks ``classArgs`` of ``Medianstop``: optional ``optimize_mode`` and ``start_step`` (int >= 0)."""

    def validate_class_args(self, **kwargs: Any) -> None:
        self.check(kwargs, {
            "optimize_mode": self.choices("optimize_mode", "maximize", "minimize"),
            "start_step": self.range("start_step", int, 0, 9999),
        })


class CurvefittingClassArgsValidator(ClassArgsValidator):
    """Checks ``classArgs`` of ``Curvefitting``.

    ``epoch_num`` (int in [1, 9999]) is required, as in NNI; ``start_step`` int in [0, 9999],
    ``threshold`` a number in [0, 9999], ``gap`` int in [1, 9999].
    """

    def validate_class_args(self, **kwargs: Any) -> None:
        self.check(kwargs, {
            "epoch_num": self.range("epoch_num", int, 1, 9999),
            "start_step": self.range("start_step", int, 0, 9999),
            "threshold": _number_in("threshold", 0, 9999),
            "gap": self.range("gap", int, 1, 9999),
        }, required=["epoch_num"])


class HyperbandClassArgsValidator(ClassArgsValidator):
    """Checks ``classArgs`` of ``Hyperband``.

    ``optimize_mode`` is required, as in NNI; ``R`` int >= 1, ``eta`` int >= 2, ``exec_mode``
    ``serial`` | ``parallelism``; ``seed`` int (ours).
    """

    def validate_class_args(self, **kwargs: Any) -> None:
        self.check(kwargs, {
            "optimize_mode": self.choices("optimize_mode", "maximize", "minimize"),
            "R": self.range("R", int, 1, None),
            "eta": self.range("eta", int, 2, None),
            "exec_mode": self.choices("exec_mode", "serial", "parallelism"),
            "seed": _OPTIONAL_SEED,
        }, required=["optimize_mode"])


class BOHBClassArgsValidator(ClassArgsValidator):
    """Checks ``classArgs`` of ``BOHB``.

    ``optimize_mode`` is required, as in NNI. ``min_budget`` and ``max_budget`` are numbers > 0 with
    ``min_budget <= max_budget``; ``eta`` int in [2, 9999]; ``min_points_in_model`` int in [0, 9999];
    ``top_n_percent`` int in [1, 99]; ``num_samples`` int in [1, 9999]; ``random_fraction`` in [0, 1];
    ``bandwidth_factor`` and ``min_bandwidth`` numbers > 0; ``exec_mode`` and ``seed`` (ours) as
    for Hyperband. ``config_space``
    (a ConfigSpace file) is refused with a message: the search space is read in NNI's format.
    """

    def validate_class_args(self, **kwargs: Any) -> None:
        self.check(kwargs, {
            "optimize_mode": self.choices("optimize_mode", "maximize", "minimize"),
            "min_budget": _number_in("min_budget", 0, 9999, strictly_above_low=True),
            "max_budget": _number_in("max_budget", 0, 9999, strictly_above_low=True),
            "eta": self.range("eta", int, 2, 9999),
            "min_points_in_model": [(int, type(None)), _optional(self.range("min_points_in_model", int, 0, 9999))],
            "top_n_percent": self.range("top_n_percent", int, 1, 99),
            "num_samples": self.range("num_samples", int, 1, 9999),
            "random_fraction": _number_in("random_fraction", 0, 1),
            "bandwidth_factor": _number_in("bandwidth_factor", 0, 9999, strictly_above_low=True),
            "min_bandwidth": _number_in("min_bandwidth", 0, 9999, strictly_above_low=True),
            "config_space": _no_config_space,
            "exec_mode": self.choices("exec_mode", "serial", "parallelism"),
            "seed": _OPTIONAL_SEED,
        }, required=["optimize_mode"])
        low, high = kwargs.get("min_budget", 1), kwargs.get("max_budget", 3)
        if low > high:
            raise ClassArgsError(f"min_budget ({low}) should not be larger than max_budget ({high})")


def _no_config_space(value: Any) -> bool:
    if value is None:
        return True
    raise ClassArgsError(
        f"config_space ({value!r}): ConfigSpace files are not supported; write the search space in NNI's "
        "format (searchSpace / searchSpaceFile), which BOHB reads directly")


def _optional(rule: Any) -> Any:
    def check(value: Any) -> bool:
        return True if value is None else rule(value)

    return check
