"""Book-keeping shared by the model-based tuners (GP, Metis, SMAC, DNGO).

A :class:`ModelBasedTuner` keeps the observations as points of the unit cube (see
:mod:`._unit_space`) with their losses (smaller is better: the metric, negated when maximizing),
draws random configurations until ``cold_start_num`` results are in, and then asks its subclass
for candidate points, best first, taking the first one not given out before.

Common differences from NNI's versions, all deliberate:

* trials still running are passed to the model (``_suggest``'s ``pending``), so concurrent
  requests do not all get the same proposal;
* a parameter set is not given out twice while another is possible (once a finite space is used
  up, configurations repeat, as NNI's do; SMAC with ``config_dedup`` ends the search instead);
* ``import_data`` skips only records whose value is not a number (NNI also skips a metric of 0);
* a result for an unknown parameter id is learned from the parameters it came with.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
from typing import Any

import numpy as np

from nni._errors import NoMoreTrialError
from nni.common.hpo_utils import (
    Deduplicator,
    FormattedSearchSpace,
    deformat_parameters,
    format_search_space,
    sample_parameters,
)
from nni.tuner import Tuner
from nni.utils import OptimizeMode, extract_scalar_reward

from ._space_rules import check_search_space
from ._unit_space import UnitSpace
from .random_tuner import _load_records, _try_format, make_rng

__all__ = ["ModelBasedTuner"]

_logger = logging.getLogger(__name__)

_RANDOM_RETRIES = 32


def _single_threaded_blas() -> Any:
    """Limit BLAS to one thread while a model works.

    The matrices here are tiny (tens to hundreds of rows); OpenBLAS's worker threads spin between
    calls and made a GP fit five times slower on a busy two-core machine.
    """
    try:
        from threadpoolctl import threadpool_limits  # a dependency of scikit-learn
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


class ModelBasedTuner(Tuner):
    #: raise NoMoreTrialError once a finite space is used up (SMAC with config_dedup); else repeat
    _end_when_exhausted = False

    """Base of the tuners that fit a model to the observations and maximize an acquisition.

    Parameters
    ----------
    algorithm
        Builtin name, for search-space checks and messages.
    optimize_mode
        ``'maximize'`` or ``'minimize'``.
    cold_start_num
        Results needed before the model is used; random configurations until then.
    seed
        Seed of the random generator; ``None`` draws one and logs it.
    """

    def __init__(self, algorithm: str, optimize_mode: str, cold_start_num: int, seed: int | None) -> None:
        self.optimize_mode = OptimizeMode(optimize_mode)
        self.cold_start_num = int(cold_start_num)
        self._algorithm = algorithm
        self._rng = make_rng(seed)
        self._space: FormattedSearchSpace | None = None
        self._unit: UnitSpace | None = None
        self._dedup: Deduplicator | None = None
        self._points: list[np.ndarray] = []  # observed points
        self._losses: list[float] = []
        self._observed_params: list[dict[str, Any]] = []  # in the user's format, to re-encode on a new space
        self._running: dict[Any, np.ndarray] = {}
        self._lock = threading.RLock()  # trial_end() comes from another thread

    # -- Tuner interface ---------------------------------------------------------------------------

    def update_search_space(self, search_space: dict[str, Any]) -> None:
        """Take a (new) search space; earlier results that fit it are kept.

        Raises
        ------
        ValueError
            If the space has a type this algorithm does not handle (the message names the parameter).
        """
        check_search_space(self._algorithm, search_space)
        with self._lock:
            self._space = format_search_space(search_space)
            self._unit = UnitSpace(self._space)
            self._dedup = Deduplicator(self._space)
            observed, losses = self._observed_params, self._losses
            self._points, self._losses, self._observed_params = [], [], []
            for params, loss in zip(observed, losses, strict=True):
                self._observe(params, loss)
            self._running = {}
            self._on_new_space()

    def generate_parameters(self, parameter_id: Any, **kwargs: Any) -> dict[str, Any]:
        """Return a random configuration during the cold start, then the model's proposal.

        Raises
        ------
        nni.NoMoreTrialError
            When every configuration of a finite space has been given out.
        """
        with self._lock:
            if self._space is None or self._unit is None or self._dedup is None:
                raise RuntimeError(f"{type(self).__name__}: update_search_space() must be called first")
            unit, dedup = self._unit, self._dedup
            finite = [loss for loss in self._losses if math.isfinite(loss)]
            params = None
            if len(finite) >= self.cold_start_num and unit.dim > 0:
                points = np.asarray(self._points)
                losses = np.asarray(self._losses)
                keep = np.isfinite(losses)
                pending = np.asarray(list(self._running.values())).reshape(-1, unit.dim)
                with _single_threaded_blas():
                    candidates = self._suggest(points[keep], losses[keep], pending)
                for candidate in candidates:
                    formatted = unit.decode(candidate)
                    if self._may_repeat(candidate):
                        self._running[parameter_id] = unit.encode(formatted)
                        return deformat_parameters(formatted, self._space)
                    if not dedup.is_duplicate(formatted):
                        params = formatted
                        break
            if params is None:
                params = self._random_params()
            try:
                params = dedup(params)
            except NoMoreTrialError:
                if self._end_when_exhausted:
                    raise
                params = self._draw()  # every configuration was given: repeat one, as NNI's tuners do
            self._running[parameter_id] = unit.encode(params)
            return deformat_parameters(params, self._space)

    def receive_trial_result(self, parameter_id: Any, parameters: Any, value: Any, **kwargs: Any) -> None:
        """Take a final result (a number, or a dict with ``"default"``) into the observations."""
        loss = self._loss(extract_scalar_reward(value))
        with self._lock:
            self._running.pop(parameter_id, None)
            if isinstance(parameters, dict):
                self._observe(parameters, loss)

    def trial_end(self, parameter_id: Any, success: bool, **kwargs: Any) -> None:
        """Forget a trial that ended; a failed one teaches the model nothing (as in NNI)."""
        with self._lock:
            self._running.pop(parameter_id, None)

    def import_data(self, data: list[dict[str, Any]] | str) -> None:
        """Add earlier results ``{"parameter": ..., "value": ...}`` to the observations."""
        with self._lock:
            if self._space is None:
                _logger.warning("import_data before the search space is set: ignored")
                return
            count = 0
            for record in _load_records(data):
                try:
                    loss = self._loss(extract_scalar_reward(record.get("value")))
                except RuntimeError:
                    continue
                if self._observe(record.get("parameter"), loss):
                    count += 1
            _logger.info("Imported %d trials", count)

    # -- for subclasses ----------------------------------------------------------------------------

    def _suggest(self, points: np.ndarray, losses: np.ndarray, pending: np.ndarray) -> list[np.ndarray]:
        """Return candidate points, best first, given the finite observations and the running points."""
        raise NotImplementedError

    def _may_repeat(self, point: np.ndarray) -> bool:
        """Hook: ``True`` lets a candidate that was given out before be given again (Metis resamples)."""
        return False

    def _on_new_space(self) -> None:
        """Hook: the search space changed (models fitted on the old one are stale)."""

    # -- internals ---------------------------------------------------------------------------------

    def _observe(self, parameters: Any, loss: float) -> bool:
        assert self._space is not None and self._unit is not None and self._dedup is not None
        formatted = _try_format({"parameter": parameters}, self._space)
        if formatted is None:
            return False
        self._dedup.add_history(formatted)
        self._points.append(self._unit.encode(formatted))
        self._losses.append(loss)
        self._observed_params.append(parameters)
        return True

    def _random_params(self) -> dict[Any, Any]:
        assert self._space is not None and self._dedup is not None
        params = self._draw()
        for _ in range(_RANDOM_RETRIES):
            if not self._dedup.is_duplicate(params):
                break
            params = self._draw()
        return params

    def _draw(self) -> dict[Any, Any]:
        # from the prior (uniform over options, log-uniform for log types), then snapped to a legal point
        assert self._space is not None and self._unit is not None
        return self._unit.decode(self._unit.encode(sample_parameters(self._space, self._rng)))

    def _loss(self, metric: float) -> float:
        loss = float(metric) if self.optimize_mode is OptimizeMode.Minimize else -float(metric)
        return loss if math.isfinite(loss) else math.inf
