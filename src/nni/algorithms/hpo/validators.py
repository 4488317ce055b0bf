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
    'DNGOClassArgsValidator',
    'EvolutionClassArgsValidator',
    'GPClassArgsValidator',
    'MetisClassArgsValidator',
    'PBTClassArgsValidator',
    'RegularizedEvolutionClassArgsValidator',
    'SMACClassArgsValidator',
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
    """Checks ``classArgs`` of ``TPE``: ``optimize_mode``, ``seed`` and ``tpe_args``, all optional.

    ``optimize_mode`` may also map two or more metric names to directions (multi-objective TPE,
    :mod:`nni.common.objectives`).
    """

    def validate_class_args(self, **kwargs: Any) -> None:
        single_mode = self.choices("optimize_mode", "maximize", "minimize")

        def mode_rule(value: Any) -> bool:
            if isinstance(value, dict):
                from nni.common.objectives import parse_objectives

                parse_objectives(value)
                return True
            return single_mode(value)

        self.check(
            kwargs,
            {
                "optimize_mode": mode_rule,
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


# -- model-based tuners (GP, Metis, SMAC, DNGO) and population tuners (PBT, RegularizedEvolution) --
# NNI's validators are strict about float vs int ("kappa: 5" fails); ours accept an int where a
# float is meant, and check ranges NNI leaves to a crash at the first trial.

_MODE = ClassArgsValidator().choices("optimize_mode", "maximize", "minimize")


def _number(key: str, low: float | None = None, high: float | None = None, *, open_low: bool = False) -> Any:
    def rule(value: Any) -> bool:
        if not _is_number(value):
            raise ValueError(f"{key} should be a number, got {value!r}")
        if low is not None and (value < low or (open_low and value == low)):
            bound = f"> {low}" if open_low else f">= {low}"
            raise ValueError(f"{key} should be {bound}, got {value!r}")
        if high is not None and value > high:
            raise ValueError(f"{key} should be <= {high}, got {value!r}")
        return True

    return rule


def _integer(key: str, low: int, high: int | None = None) -> Any:
    def rule(value: Any) -> bool:
        if not _is_int(value):
            raise ValueError(f"{key} should be an integer, got {value!r}")
        if value < low or (high is not None and value > high):
            where = f">= {low}" if high is None else f"in [{low}, {high}]"
            raise ValueError(f"{key} should be {where}, got {value!r}")
        return True

    return rule


_SEED = (int, type(None))


class GPClassArgsValidator(ClassArgsValidator):
    """Checks ``classArgs`` of ``GP``; all optional, as in NNI (``seed`` is ours)."""

    def validate_class_args(self, **kwargs: Any) -> None:
        self.check(
            kwargs,
            {
                "optimize_mode": _MODE,
                "utility": self.choices("utility", "ei", "ucb", "poi"),
                "kappa": _number("kappa", 0),
                "xi": _number("xi", 0),
                "nu": _number("nu", 0, open_low=True),
                "alpha": _number("alpha", 0, open_low=True),
                "cold_start_num": _integer("cold_start_num", 1),
                "selection_num_warm_up": _integer("selection_num_warm_up", 1),
                "selection_num_starting_points": _integer("selection_num_starting_points", 0),
                "seed": _SEED,
            },
        )


class MetisClassArgsValidator(ClassArgsValidator):
    """Checks ``classArgs`` of ``Metis``; all optional.

    ``exploration_probability`` is accepted here (NNI's validator forgets it, so it could not be set
    from a config); ``seed`` is ours.
    """

    def validate_class_args(self, **kwargs: Any) -> None:
        self.check(
            kwargs,
            {
                "optimize_mode": _MODE,
                "no_resampling": bool,
                "no_candidates": bool,
                "selection_num_starting_points": _integer("selection_num_starting_points", 1),
                "cold_start_num": _integer("cold_start_num", 1),
                "exploration_probability": _number("exploration_probability", 0, 1),
                "seed": _SEED,
            },
        )


class SMACClassArgsValidator(ClassArgsValidator):
    """Checks ``classArgs`` of ``SMAC``: ``optimize_mode`` (required, as in NNI), ``config_dedup``, ``seed``."""

    def validate_class_args(self, **kwargs: Any) -> None:
        self.check(
            kwargs,
            {"optimize_mode": _MODE, "config_dedup": bool, "seed": _SEED},
            required=["optimize_mode"],
        )


class DNGOClassArgsValidator(ClassArgsValidator):
    """Checks ``classArgs`` of ``DNGO`` (NNI's validator accepts anything; this one checks each)."""

    def validate_class_args(self, **kwargs: Any) -> None:
        self.check(
            kwargs,
            {
                "optimize_mode": _MODE,
                "sample_size": _integer("sample_size", 1),
                "trials_per_update": _integer("trials_per_update", 1),
                "num_epochs_per_training": _integer("num_epochs_per_training", 1),
                "seed": _SEED,
            },
        )


class PBTClassArgsValidator(ClassArgsValidator):
    """Checks ``classArgs`` of ``PBT``.

    ``optimize_mode`` is required (as in NNI). NNI's validator names the perturbation ``factors``
    while the tuner takes ``factor``, and forgets ``resample_probability``; both spellings and
    ``resample_probability`` are accepted here.
    """

    def validate_class_args(self, **kwargs: Any) -> None:
        self.check(
            kwargs,
            {
                "optimize_mode": _MODE,
                "all_checkpoint_dir": (str, type(None)),
                "population_size": _integer("population_size", 1, 99999),
                "factor": _number("factor", 0, open_low=True),
                "factors": _number("factors", 0, open_low=True),
                "resample_probability": _number("resample_probability", 0, 1),
                "fraction": _number("fraction", 0, 0.5, open_low=True),
                "seed": _SEED,
            },
            required=["optimize_mode"],
        )
        if "factor" in kwargs and "factors" in kwargs:
            raise ValueError("set factor or its alias factors, not both")


class RegularizedEvolutionClassArgsValidator(ClassArgsValidator):
    """Checks ``classArgs`` of ``RegularizedEvolutionTuner`` (NNI calls it ``EvolutionClassArgsValidator``).

    ``optimize_mode`` is required; ``population_size`` in [1, 99999] and ``sample_size`` in [1, 9999]
    (NNI lets 0 through and fails later); ``seed`` is ours.
    """

    def validate_class_args(self, **kwargs: Any) -> None:
        self.check(
            kwargs,
            {
                "optimize_mode": _MODE,
                "population_size": _integer("population_size", 1, 99999),
                "sample_size": _integer("sample_size", 1, 9999),
                "seed": _SEED,
            },
            required=["optimize_mode"],
        )
