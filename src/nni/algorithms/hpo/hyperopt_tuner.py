"""NNI's hyperopt-based tuners (builtins ``Anneal`` and ``TPE_legacy``), implemented here.

NNI 3.0 wraps the ``hyperopt`` package (0.1.2) in :class:`HyperoptTuner`. This module keeps the
class, its import path and its arguments, but runs algorithms of its own, without hyperopt:

* ``algorithm_name='tpe'``: the Tree-structured Parzen Estimator of :mod:`.tpe_tuner`, with
  hyperopt's defaults (which are also NNI's TPE defaults). With ``parallel_optimize`` the
  ``constant_liar_type`` is used for trials still running; without it none is;
* ``algorithm_name='random_search'``: :class:`~.random_tuner.RandomTuner`;
* ``algorithm_name='anneal'``: simulated-annealing style local search (below).

Anneal, as hyperopt describes it: start from the prior, then sample closer and closer to the best
observations. Here each new configuration copies a parent picked among the best results (rank
drawn from a geometric distribution, so the best one is picked 70% of the time) and moves every
parameter near the parent's value, on a scale that shrinks as results come in. After ``n`` results
that have the parameter (so each parameter of a nested branch on its own clock): a continuous one
is drawn uniformly from a window of ``1 / (1 + 0.1 n)`` of its range around the parent's value
(shifted to stay inside the bounds, as Hyperopt's annealing does); a choice changes with that
probability (at least 10%); q types, ``randint`` and the normal family take a normal step of
``1 / (1 + 0.3 n)`` of their range. A parameter the parent lacks (another nested branch) starts
from a good result of that branch, picked the same way, and moves like the others.

Differences from NNI, all deliberate: no hyperopt dependency; ``constant_liar_type`` is read in
loss terms (``'min'`` is always the optimistic lie, whatever ``optimize_mode``; NNI computed it
before negating maximized metrics) and defaults to ``'max'`` (NNI: ``'min'``); parameter sets are not
repeated while new ones are left, and once a finite space is used up the tuner keeps suggesting
(repeats), as NNI's does; ``import_data`` keeps records whose value is ``0`` (NNI skipped
falsy values); ``trial_end`` is honoured; a ``seed`` argument makes runs reproducible.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from nni.common.hpo_utils import (
    Deduplicator,
    FormattedParameters,
    FormattedSearchSpace,
    ParameterSpec,
    deformat_parameters,
    format_search_space,
    sample_parameters,
    validate_search_space,
)
from nni.tuner import Tuner
from nni.utils import OptimizeMode

from ._local_moves import build_child, has_window, move, window_draw
from ._scored_history import ScoredHistoryTuner
from .random_tuner import RandomTuner, make_rng, prefer_new
from .tpe_tuner import TpeTuner
from .validators import HyperoptClassArgsValidator

__all__ = ["HyperoptClassArgsValidator", "HyperoptTuner", "json2parameter", "json2space", "json2vals"]

_logger = logging.getLogger(__name__)

_ALGORITHMS = ("tpe", "random_search", "anneal")
# constant_liar_type of NNI's HyperoptTuner -> constant_liar_type of TpeTuner (in loss terms).
_LIARS = {"min": "best", "max": "worst", "mean": "mean"}


class HyperoptTuner(Tuner):
    """``TPE_legacy`` / ``Anneal`` / random search behind NNI's ``HyperoptTuner`` interface.

    Parameters
    ----------
    algorithm_name
        ``'tpe'``, ``'random_search'`` or ``'anneal'``.
    optimize_mode
        ``'minimize'`` (default) or ``'maximize'`` the trials' metric.
    parallel_optimize
        Account for trials still running when suggesting (TPE only): they are counted with the loss
        ``constant_liar_type`` gives.
    constant_liar_type
        ``'min'`` (the best loss seen so far), ``'max'`` (the worst; default, NNI's is ``'min'``)
        or ``'mean'``. Lying "best" makes parallel TPE suggestions bunch up around the running
        trials (see :class:`~.tpe_tuner.TpeArguments`).
    seed
        Seed of the random generator; ``None`` draws one and logs it.

    Raises
    ------
    RuntimeError
        If ``algorithm_name`` is not one of the three (NNI's error).
    ValueError
        If ``optimize_mode`` or ``constant_liar_type`` is invalid.

    Examples
    --------
    >>> tuner = HyperoptTuner('anneal', optimize_mode='maximize', seed=0)
    >>> tuner.update_search_space({'x': {'_type': 'uniform', '_value': [0, 1]}})
    >>> params = tuner.generate_parameters(0)
    >>> tuner.receive_trial_result(0, params, {'default': params['x']})
    >>> 0 <= tuner.generate_parameters(1)['x'] <= 1
    True
    """

    def __init__(
        self,
        algorithm_name: str,
        optimize_mode: str = "minimize",
        parallel_optimize: bool = False,
        constant_liar_type: str = "max",
        seed: int | None = None,
    ) -> None:
        if algorithm_name not in _ALGORITHMS:
            raise RuntimeError("Not support tuner algorithm in hyperopt.")
        if constant_liar_type not in _LIARS:
            raise ValueError(f"constant_liar_type must be 'min', 'max' or 'mean', got {constant_liar_type!r}")
        self.algorithm_name = algorithm_name
        self.optimize_mode = OptimizeMode(optimize_mode)
        self.parallel_optimize = bool(parallel_optimize)
        self.constant_liar_type = constant_liar_type
        self._engine: Tuner
        # after the engine has used up a finite space: repeats drawn from the prior, as NNI's do
        self._repeat_rng = make_rng(seed)
        self._space: FormattedSearchSpace | None = None
        if algorithm_name == "tpe":
            liar = _LIARS[constant_liar_type] if self.parallel_optimize else None
            self._engine = TpeTuner(optimize_mode, seed, tpe_args={"constant_liar_type": liar})
        elif algorithm_name == "random_search":
            self._engine = RandomTuner(seed=seed)
        else:
            self._engine = _Anneal(self.optimize_mode, seed)

    def update_search_space(self, search_space: dict[str, Any]) -> None:
        """Take a (new) search space.

        Raises
        ------
        ValueError
            If the search space is invalid; the message names the parameter.
        """
        self._engine.update_search_space(search_space)
        self._space = format_search_space(search_space)

    def generate_parameters(self, parameter_id: Any, **kwargs: Any) -> Any:
        """Suggest a parameter set, in the user's nested format.

        New configurations come first; once every configuration of a finite space has been given
        out, configurations repeat (drawn from the prior), as with NNI's hyperopt tuners.
        """
        from nni import NoMoreTrialError

        try:
            return self._engine.generate_parameters(parameter_id, **kwargs)
        except NoMoreTrialError:
            if self._space is None:
                raise
            return deformat_parameters(sample_parameters(self._space, self._repeat_rng), self._space)

    def receive_trial_result(self, parameter_id: Any, parameters: Any, value: Any, **kwargs: Any) -> None:
        """Learn from a trial's final result (a number or a dict with ``"default"``)."""
        self._engine.receive_trial_result(parameter_id, parameters, value, **kwargs)

    def trial_end(self, parameter_id: Any, success: bool, **kwargs: Any) -> None:
        """Be told that a trial stopped."""
        self._engine.trial_end(parameter_id, success, **kwargs)

    def import_data(self, data: list[dict[str, Any]] | str) -> None:
        """Learn from earlier trials ``{"parameter": ..., "value": ...}`` (random search: skip them)."""
        self._engine.import_data(data)


# Anneal's knobs (chosen with benchmarks/search_quality.py, on seeds other than the reported ones).
# After n results that have a parameter, a continuous one is drawn from a window of
# 1 / (1 + _WINDOW_SHRINK * n) of its range around the parent's value, and a choice changes with
# that probability; q types, randint and the normal family take a normal step of
# 1 / (1 + _STEP_SHRINK * n) of their range.
_WINDOW_SHRINK = 0.1
_STEP_SHRINK = 0.3
# Chance that the parent is the best result; otherwise the next best, and so on (geometric).
_PICK_BEST = 0.7
_RETRIES = 8
_RANDOM_RETRIES = 16
# A choice changes with probability at least _CHOICE_FLOOR: a narrow window should not freeze a
# choice (e.g. between nested sub-spaces) for good.
_CHOICE_FLOOR = 0.1


class _Anneal(ScoredHistoryTuner):
    """The annealing search of ``HyperoptTuner('anneal')`` (see the module docstring)."""

    def __init__(self, optimize_mode: OptimizeMode, seed: int | None) -> None:
        self.optimize_mode = optimize_mode
        self._rng = make_rng(seed)
        self._space: FormattedSearchSpace | None = None
        self._dedup: Deduplicator | None = None
        self._results: list[tuple[FormattedParameters, float]] = []  # best first
        self._key_counts: dict[Any, int] = {}  # per parameter key: results that have it
        self._running: dict[Any, FormattedParameters] = {}
        self._lock = threading.RLock()

    def update_search_space(self, search_space: dict[str, Any]) -> None:
        validate_search_space(search_space)
        with self._lock:
            self._space = format_search_space(search_space)
            self._dedup = Deduplicator(self._space)
            # Keep results that still fit (by their keys): they are as informative as before.
            self._results = [
                (params, loss)
                for params, loss in self._results
                if all(key in self._space for key in params)
            ]
            self._key_counts = {}
            for params, _ in self._results:
                self._count_keys(params)

    def generate_parameters(self, parameter_id: Any, **kwargs: Any) -> dict[str, Any]:
        with self._lock:
            if self._space is None or self._dedup is None:
                raise RuntimeError(
                    "HyperoptTuner: update_search_space() must be called before generating parameters"
                )
            space, dedup = self._space, self._dedup
            params: FormattedParameters = {}
            if self._results:
                for attempt in range(_RETRIES):
                    # A repeat means the neighbourhood is used up at this step size: widen it.
                    params = self._neighbour(space, boost=2.0**attempt)
                    if not dedup.is_duplicate(params):
                        break
            if not params or dedup.is_duplicate(params):
                params = sample_parameters(space, self._rng)
                for _ in range(_RANDOM_RETRIES):
                    if not dedup.is_duplicate(params):
                        break
                    params = sample_parameters(space, self._rng)
            params = prefer_new(dedup, params)
            self._running[parameter_id] = params
            return deformat_parameters(params, space)

    _import_message = 'Replayed %d FINISHED trials'

    def _add(self, formatted: FormattedParameters, loss: float) -> None:
        index = len(self._results)
        while index > 0 and self._results[index - 1][1] > loss:
            index -= 1
        self._results.insert(index, (formatted, loss))
        self._count_keys(formatted)

    def _count_keys(self, formatted: FormattedParameters) -> None:
        for key in formatted:
            self._key_counts[key] = self._key_counts.get(key, 0) + 1

    def _pick(self, candidates: list[FormattedParameters]) -> FormattedParameters:
        rank = int(self._rng.geometric(_PICK_BEST)) - 1
        return candidates[min(rank, len(candidates) - 1)]

    def _neighbour(self, space: FormattedSearchSpace, boost: float) -> FormattedParameters:
        rng = self._rng
        ranked = [params for params, _ in self._results]
        counts = self._key_counts

        def share(spec: ParameterSpec, shrink: float) -> float:
            # Each parameter anneals on its own clock: one of a nested branch that was rarely
            # tried still searches widely while the top-level ones have narrowed down.
            return min(1.0, boost / (1.0 + shrink * counts.get(spec.key, 0)))

        def change(spec: ParameterSpec, value: Any) -> Any | None:
            if spec.categorical and spec.type != "randint":
                switch = max(share(spec, _WINDOW_SHRINK), _CHOICE_FLOOR)
                return move(spec, value, 1.0, rng) if rng.random() < switch else None
            if has_window(spec):
                return window_draw(spec, value, share(spec, _WINDOW_SHRINK), rng)
            return move(spec, value, share(spec, _STEP_SHRINK), rng, force=False)

        def donor(spec: ParameterSpec) -> Any | None:
            # A parameter of a branch the parent did not take: start from the best results of that
            # branch and move as usual.
            having = [params for params in ranked if spec.key in params]
            if not having:
                return None
            value = self._pick(having)[spec.key]
            moved = change(spec, value)
            return value if moved is None else moved

        return build_child(space, self._pick(ranked), rng, change, donor)


# NNI's module-level helpers -------------------------------------------------------------------
#
# NNI's HyperoptTuner translated search spaces to hyperopt expressions and back with these three
# functions; code (and NNI's tests) import them from here. Names follow NNI's indexed notation
# (:func:`nni.utils.json2space`): ``'root[lr]-uniform'``, ``'root[opt]-choice[1][lr]-uniform'``.
# Only ``json2space`` needs the ``hyperopt`` package, imported when it is called.

def _hyperopt_expression(hp: Any, type_: str, name: str, args: list[Any]) -> Any:
    import math

    if type_ == "randint":
        # hyperopt's randint(label, upper) starts at 0; NNI's starts at lower
        return hp.randint(name, args[1] - args[0]) + args[0]
    if type_ in ("loguniform", "qloguniform"):
        return getattr(hp, type_)(name, math.log(args[0]), math.log(args[1]), *args[2:])
    return getattr(hp, type_)(name, *args)


def json2space(in_x: Any, name: str = "root") -> Any:
    """The hyperopt search-space expression of an NNI search space.

    Parameters
    ----------
    in_x
        The search space (or a part of it).
    name
        Label of ``in_x`` itself.

    Returns
    -------
    Any
        A structure of ``hyperopt.pyll`` expressions (``hp.choice``, ``hp.uniform``, ...).

    Raises
    ------
    ImportError
        The ``hyperopt`` package is not installed (the tuner itself does not need it).
    """
    from hyperopt import hp

    if isinstance(in_x, dict):
        if "_type" in in_x:
            type_, values = in_x["_type"], in_x["_value"]
            label = f"{name}-{type_}"
            if type_ == "choice":
                return hp.choice(label, [json2space(option, f"{label}[{index}]")
                                         for index, option in enumerate(values)])
            return _hyperopt_expression(hp, type_, label, list(values))
        return {key: json2space(value, f"{name}[{key}]") for key, value in in_x.items()}
    if isinstance(in_x, list):
        return [json2space(item, f"{name}[{index}]") for index, item in enumerate(in_x)]
    return in_x


def json2parameter(in_x: Any, parameter: dict[str, Any], name: str = "root") -> Any:
    """Indexed parameters (``{"_index", "_value"}`` per choice) from hyperopt's flat assignment.

    Parameters
    ----------
    in_x
        The search space (or a part of it).
    parameter
        ``{label: value}`` as hyperopt assigns it; a choice's value is the option's index.
    name
        Label of ``in_x`` itself.
    """
    if isinstance(in_x, dict):
        if "_type" in in_x:
            type_, values = in_x["_type"], in_x["_value"]
            label = f"{name}-{type_}"
            if type_ == "choice":
                index = int(parameter[label])
                return {"_index": index, "_value": json2parameter(values[index], parameter, f"{label}[{index}]")}
            return parameter[label]
        return {key: json2parameter(value, parameter, f"{name}[{key}]") for key, value in in_x.items()}
    if isinstance(in_x, list):
        return [json2parameter(item, parameter, f"{name}[{index}]") for index, item in enumerate(in_x)]
    return in_x


def json2vals(in_x: Any, vals: Any, out_y: dict[str, Any], name: str = "root") -> None:
    """The inverse of :func:`json2parameter`: fill ``out_y`` with hyperopt's ``{label: value}``.

    Parameters
    ----------
    in_x
        The search space (or a part of it).
    vals
        Indexed parameters (``{"_index", "_value"}`` per choice) or plain values.
    out_y
        Filled in place.
    name
        Label of ``in_x`` itself.
    """
    if isinstance(in_x, dict):
        if "_type" in in_x:
            type_, values = in_x["_type"], in_x["_value"]
            label = f"{name}-{type_}"
            if type_ != "choice":
                out_y[label] = vals
                return
            if isinstance(vals, dict) and "_index" in vals:
                index, chosen = vals["_index"], vals["_value"]
            else:
                index, chosen = values.index(vals), vals
            out_y[label] = index
            json2vals(values[index], chosen, out_y, f"{label}[{index}]")
            return
        for key, value in in_x.items():
            json2vals(value, vals[key], out_y, f"{name}[{key}]")
    elif isinstance(in_x, list):
        for index, item in enumerate(in_x):
            json2vals(item, vals[index], out_y, f"{name}[{index}]")
