"""Class-args validators of the builtin algorithms, kept free of numpy.

Checking a config (in the launching process and again in the manager) must not import numpy or
the tuners themselves: that would add a tenth of a second to every ``Experiment.start()``. The
tuner modules re-export their validator, so NNI's paths (``tpe_tuner.TpeClassArgsValidator``)
still work. A new builtin adds its validator here and points the registry at it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Literal, NamedTuple

from nni.utils import ClassArgsValidator

__all__ = [
    'EvolutionClassArgsValidator',
    'HyperoptClassArgsValidator',
    'RandomClassArgsValidator',
    'TpeArguments',
    'TpeClassArgsValidator',
]


class TpeArguments(NamedTuple):
    """Tuning knobs of :class:`TpeTuner` (class arg ``tpe_args``).

    Attributes
    ----------
    constant_liar_type
        Loss assumed for trials still running when suggesting in parallel: ``'best'`` (lowest loss
        seen), ``'worst'`` (highest; the default here, NNI's is ``'best'``) or ``'mean'``; ``None``
        disables the liar. With ``'best'`` the running trials join TPE's small "good" group and
        pull the next suggestions towards themselves, so parallel suggestions bunch up; ``'worst'``
        pushes them apart (e.g. on Hartmann6, 4 at a time: regret 0.17 against 0.45).
    n_startup_jobs
        Number of results a parameter needs before TPE models it; until then it is drawn at random.
        10 here (NNI: 20, which leaves TPE almost nothing to do on budgets of 25 to 50 trials).
    n_ei_candidates
        Candidates drawn from the "good" density per parameter; the best ratio wins.
    linear_forgetting
        The newest this-many observations of a group have full weight; older ones ramp down.
    prior_weight
        Weight of the search space's prior in each density.
    gamma
        Share of "good" observations: ``ceil(gamma * sqrt(n))``, at most ``linear_forgetting``.
    multivariate
        Model the parameters that are active together jointly (ours; the default) instead of each
        on its own as NNI does (``False``).
    """

    constant_liar_type: Literal['best', 'worst', 'mean'] | None = "worst"
    n_startup_jobs: int = 10
    n_ei_candidates: int = 24
    linear_forgetting: int = 25
    prior_weight: float = 1.0
    gamma: float = 0.25
    multivariate: bool = True


def _check_arguments(args: TpeArguments) -> TpeArguments:
    liar = args.constant_liar_type
    if isinstance(liar, str) and liar.lower() == "none":
        args = args._replace(constant_liar_type=None)
    elif liar not in ("best", "worst", "mean", None):
        raise ValueError(f"tpe_args.constant_liar_type must be 'best', 'worst', 'mean' or None, got {liar!r}")
    if not _is_int(args.n_startup_jobs) or args.n_startup_jobs < 0:
        raise ValueError(f"tpe_args.n_startup_jobs must be an integer >= 0, got {args.n_startup_jobs!r}")
    if not _is_int(args.n_ei_candidates) or args.n_ei_candidates < 1:
        raise ValueError(f"tpe_args.n_ei_candidates must be an integer >= 1, got {args.n_ei_candidates!r}")
    if not _is_int(args.linear_forgetting) or args.linear_forgetting < 1:
        raise ValueError(
            f"tpe_args.linear_forgetting must be an integer >= 1, got {args.linear_forgetting!r}"
        )
    if not _is_number(args.prior_weight) or not args.prior_weight > 0:
        raise ValueError(f"tpe_args.prior_weight must be a number > 0, got {args.prior_weight!r}")
    if not _is_number(args.gamma) or not 0 < args.gamma <= 1:
        raise ValueError(f"tpe_args.gamma must be a number in (0, 1], got {args.gamma!r}")
    if not isinstance(args.multivariate, bool):
        raise ValueError(f"tpe_args.multivariate must be true or false, got {args.multivariate!r}")
    return args


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)



class RandomClassArgsValidator(ClassArgsValidator):
    """Checks ``classArgs`` of ``Random``: optional ``optimize_mode`` (str) and ``seed`` (int)."""

    def validate_class_args(self, **kwargs: Any) -> None:
        self.check(kwargs, {"optimize_mode": str, "seed": (int, type(None))})


class TpeClassArgsValidator(ClassArgsValidator):
    """Checks ``classArgs`` of ``TPE``: ``optimize_mode``, ``seed`` and ``tpe_args``, all optional."""

    def validate_class_args(self, **kwargs: Any) -> None:
        self.check(
            kwargs,
            {
                "optimize_mode": self.choices("optimize_mode", "maximize", "minimize"),
                "seed": (int, type(None)),
                "tpe_args": [(dict, type(None)), _check_tpe_args],
            },
        )


def _check_tpe_args(value: dict[str, Any] | None) -> None:
    if not value:
        return
    unknown = sorted(set(value) - set(TpeArguments._fields))
    if unknown:
        raise ValueError(
            f"tpe_args has unknown field(s) {_names(unknown)}; known: {_names(TpeArguments._fields)}"
        )
    _check_arguments(TpeArguments(**value))


def _names(names: Iterable[str]) -> str:
    return ", ".join(names)


class HyperoptClassArgsValidator(ClassArgsValidator):
    """Checks ``classArgs`` of ``Anneal`` and ``TPE_legacy`` (:class:`HyperoptTuner`).

    All optional: ``optimize_mode`` (maximize | minimize), ``parallel_optimize`` (bool),
    ``constant_liar_type`` (min | max | mean), plus ``algorithm_name`` (tpe | random_search | anneal,
    normally fixed by the builtin) and ``seed`` (int, an addition of ours).
    """

    def validate_class_args(self, **kwargs: Any) -> None:
        self.check(
            kwargs,
            {
                "algorithm_name": self.choices("algorithm_name", "tpe", "random_search", "anneal"),
                "optimize_mode": self.choices("optimize_mode", "maximize", "minimize"),
                "parallel_optimize": bool,
                "constant_liar_type": self.choices("constant_liar_type", "min", "max", "mean"),
                "seed": (int, type(None)),
            },
        )


class EvolutionClassArgsValidator(ClassArgsValidator):
    """Checks ``classArgs`` of ``Evolution``.

    ``optimize_mode`` (maximize | minimize) is required, as in NNI; ``population_size`` is an int in
    [1, 99999] (NNI lets 0 through and fails at the first trial); ``seed`` (int) is ours.
    """

    def validate_class_args(self, **kwargs: Any) -> None:
        self.check(
            kwargs,
            {
                "optimize_mode": self.choices("optimize_mode", "maximize", "minimize"),
                "population_size": self.range("population_size", int, 1, 99999),
                "seed": (int, type(None)),
            },
            required=["optimize_mode"],
        )
