"""Multi-objective TPE (``TPE`` with several objectives; ours, NNI has none).

Chosen by giving ``TPE`` a mapping as ``optimize_mode`` (see :mod:`nni.common.objectives`)::

    tuner:
      name: TPE
      classArgs:
        optimize_mode: {accuracy: maximize, latency: minimize}

TPE needs one number per result to split the observations into a "good" and a "bad" group. Here
that number is the result's place in a non-dominated sorting of all results, as in NSGA-II and in
MOTPE (Ozaki et al., GECCO 2020): 0 for the current Pareto front, 1 for the front of the rest, and
so on, with ties inside a front broken by crowding distance (isolated points of a front count as
better, which spreads the search along it). Every new result can re-rank the old ones, so the
whole history is re-scored after each result; the TPE itself (:class:`TpeTuner`, multivariate, with
its constant liar for running trials) is unchanged.

A result missing one of the named metrics counts as a failed trial (a warning names the metrics).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

from nni.common.objectives import Objective, losses, parse_objectives
from nni.tuner import Tuner

from .random_tuner import _load_records
from .tpe_tuner import TpeTuner

__all__ = ["MultiObjectiveTpeTuner", "rank_scores"]

_logger = logging.getLogger(__name__)


def rank_scores(points: np.ndarray) -> np.ndarray:
    """One score per row of ``points`` (losses, smaller is better): front index + crowding tie-break.

    The tie-break lies in [0, 0.5): 0 for the extremes of a front, larger for crowded points.
    """
    count = len(points)
    if count == 0:
        return np.empty(0)
    no_worse = np.all(points[:, None, :] <= points[None, :, :], axis=2)
    better = np.any(points[:, None, :] < points[None, :, :], axis=2)
    dominates = no_worse & better  # dominates[i, j]: i dominates j
    dominated_by = dominates.sum(axis=0)
    ranks = np.full(count, -1)
    level = 0
    current = np.flatnonzero(dominated_by == 0)
    while len(current):
        ranks[current] = level
        dominated_by = dominated_by - dominates[current].sum(axis=0)
        dominated_by[ranks >= 0] = -1
        current = np.flatnonzero(dominated_by == 0)
        level += 1
    scores = ranks.astype(float)
    for level_index in range(level):
        members = np.flatnonzero(ranks == level_index)
        scores[members] += 0.5 * (1.0 - _crowding(points[members]))
    return scores


def _crowding(front: np.ndarray) -> np.ndarray:
    """NSGA-II crowding distance scaled to [0, 1] (1 for the extremes)."""
    size, dims = front.shape
    if size <= 2:
        return np.ones(size)
    distance = np.zeros(size)
    for d in range(dims):
        order = np.argsort(front[:, d], kind="stable")
        span = front[order[-1], d] - front[order[0], d]
        distance[order[0]] = distance[order[-1]] = np.inf
        if span > 0:
            distance[order[1:-1]] += (front[order[2:], d] - front[order[:-2], d]) / span
    finite = np.isfinite(distance)
    top = distance[finite].max() if finite.any() and distance[finite].max() > 0 else 1.0
    return np.where(finite, distance / (2 * top), 1.0)


class MultiObjectiveTpeTuner(Tuner):
    """TPE on several objectives at once.

    Parameters
    ----------
    optimize_mode
        Mapping of metric name to ``'maximize'`` / ``'minimize'`` (two or more).
    seed
        Seed of the random generator; ``None`` draws one and logs it.
    tpe_args
        :class:`TpeArguments` fields, as for ``TPE``.

    Raises
    ------
    ValueError
        If ``optimize_mode`` does not name two or more metrics with valid directions.
    """

    def __init__(self, optimize_mode: Mapping[str, str], seed: int | None = None,
                 tpe_args: dict[str, Any] | None = None) -> None:
        objectives = parse_objectives(optimize_mode)
        if objectives is None:
            raise ValueError(f"optimize_mode must map metric names to directions, got {optimize_mode!r}")
        self.objectives: list[Objective] = objectives
        self.optimize_mode = dict(optimize_mode)
        self._tpe = TpeTuner("minimize", seed=seed, tpe_args=tpe_args)
        self._keys: list[Any] = []  # parameter ids (or import keys) with a usable result
        self._params: list[Any] = []
        self._losses: list[tuple[float, ...]] = []
        self._fed: dict[Any, float] = {}
        self._imported = 0
        self._lock = threading.RLock()

    def update_search_space(self, search_space: dict[str, Any]) -> None:
        """Take a (new) search space (see :meth:`TpeTuner.update_search_space`)."""
        self._tpe.update_search_space(search_space)

    def generate_parameters(self, parameter_id: Any, **kwargs: Any) -> dict[str, Any]:
        """Suggest with TPE on the rank scores of the results so far."""
        return self._tpe.generate_parameters(parameter_id, **kwargs)

    def receive_trial_result(self, parameter_id: Any, parameters: Any, value: Any, **kwargs: Any) -> None:
        """Take a result dict holding every objective's metric; all results are re-scored."""
        vector = losses(value, self.objectives)
        with self._lock:
            if vector is None:
                _logger.warning("result of parameter id %r lacks one of the metrics %s (got %r); counted as failed",
                                parameter_id, [o.name for o in self.objectives], value)
                self._tpe.trial_end(parameter_id, False)
                return
            self._add(parameter_id, parameters, vector)
            self._refeed()

    def trial_end(self, parameter_id: Any, success: bool, **kwargs: Any) -> None:
        """Forget a stopped trial (a failed one counts as very bad, as in TPE)."""
        self._tpe.trial_end(parameter_id, success, **kwargs)

    def import_data(self, data: list[dict[str, Any]] | str) -> None:
        """Learn from earlier results ``{"parameter": ..., "value": {metric: number, ...}}``."""
        with self._lock:
            for record in _load_records(data):
                vector = losses(record.get("value"), self.objectives)
                if vector is None or not isinstance(record.get("parameter"), dict):
                    continue
                self._imported += 1
                self._add(("imported", self._imported), record["parameter"], vector)
            self._refeed()

    def _add(self, key: Any, parameters: Any, vector: tuple[float, ...]) -> None:
        if key in self._fed:  # a repeated result replaces the earlier one
            index = self._keys.index(key)
            self._params[index], self._losses[index] = parameters, vector
            return
        self._keys.append(key)
        self._params.append(parameters)
        self._losses.append(vector)

    def _refeed(self) -> None:
        scores = rank_scores(np.asarray(self._losses, dtype=float))
        for key, parameters, score in zip(self._keys, self._params, scores, strict=True):
            score = float(score)
            if self._fed.get(key) != score:
                self._tpe.receive_trial_result(key, parameters, score)
                self._fed[key] = score
