"""SMAC-style Bayesian optimization with a random forest (builtin tuner ``SMAC``).

Hutter et al., "Sequential Model-Based Optimization for General Algorithm Configuration"
(LION 2011). NNI wraps its own fork of SMAC3 (``smac4nni``, which needs swig to build); this is
our implementation of the same method on scikit-learn:

* the surrogate is a random forest (``RandomForestRegressor``: 32 trees, bootstrap, 5/6 of the
  parameters per split, at least 2 samples per leaf); mean and variance of a configuration are
  those of the trees' predictions;
* the next configuration maximizes expected improvement over the best loss, searched by local
  moves from the best configurations seen plus random points (SMAC's "local search + random");
* every fourth suggestion after the initial design is a random configuration (SMAC's random
  interleaving), which keeps the search from getting stuck;
* the initial design is ``max(10, 2 * number of parameters)`` random configurations, clipped to
  at most 20; running trials join the forest at its predicted mean.

Needs the ``bo`` extra (``pip install nni[bo]``). Accepts ``choice`` (any options; the forest treats
them as unordered categories), ``randint``, ``uniform``, ``quniform`` and ``loguniform``, as NNI's.

Differences from NNI's SMAC: no ``param_config_space.pcs`` / ``scenario.txt`` files are written;
the first configuration is random, not the lower bounds; ``update_search_space`` may be called again
(results that fit the new space are kept); repeats are avoided whether or not ``config_dedup`` is
set, and with ``config_dedup`` a used-up finite space ends the search with
:class:`nni.NoMoreTrialError` (without it, repeats are given once nothing new is left).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from nni._errors import NoMoreTrialError

from ._model_search import expected_improvement, maximize
from ._model_tuner import ModelBasedTuner
from .validators import SMACClassArgsValidator

__all__ = ["SMACClassArgsValidator", "SMACTuner"]

_logger = logging.getLogger(__name__)

_TREES = 32
_RANDOM_EVERY = 4
_CANDIDATES = 2000
_STARTS = 10
_SEEDS = 10


class SMACTuner(ModelBasedTuner):
    """Random-forest Bayesian optimization.

    Parameters
    ----------
    optimize_mode
        ``'maximize'`` (default) or ``'minimize'`` the trials' metric.
    config_dedup
        End the search (``NoMoreTrialError``) when a finite space is used up instead of repeating.
    seed
        Seed of the random generator; ``None`` draws one and logs it.
    """

    def __init__(self, optimize_mode: str = "maximize", config_dedup: bool = False, seed: int | None = None) -> None:
        SMACClassArgsValidator().validate_class_args(optimize_mode=optimize_mode, config_dedup=config_dedup, seed=seed)
        super().__init__("SMAC", optimize_mode, 10, seed)
        self.config_dedup = config_dedup
        self._end_when_exhausted = config_dedup
        self._model_suggestions = 0

    def update_search_space(self, search_space: dict[str, Any]) -> None:
        """Take a (new) search space; earlier results that fit it are kept."""
        super().update_search_space(search_space)
        assert self._unit is not None
        self.cold_start_num = min(max(10, 2 * self._unit.dim), 20)

    def generate_parameters(self, parameter_id: Any, **kwargs: Any) -> dict[str, Any]:
        """Return the next configuration; see the module docstring.

        Raises
        ------
        nni.NoMoreTrialError
            With ``config_dedup``, once every configuration of a finite space has been given out.
        """
        try:
            return super().generate_parameters(parameter_id, **kwargs)
        except NoMoreTrialError:
            raise NoMoreTrialError("No more new parameters.") from None

    def _suggest(self, points: np.ndarray, losses: np.ndarray, pending: np.ndarray) -> list[np.ndarray]:
        assert self._unit is not None
        self._model_suggestions += 1
        if self._model_suggestions % _RANDOM_EVERY == 0:
            return []  # interleaved random configuration
        forest = _fit_forest(points, losses, self._rng)
        if len(pending):
            believed = _predict(forest, pending)[0]
            forest = _fit_forest(np.vstack([points, pending]), np.concatenate([losses, believed]), self._rng)
        best = float(losses.min())

        def score(candidates: np.ndarray) -> np.ndarray:
            mean, std = _predict(forest, candidates)
            return expected_improvement(-mean, std, -best)

        seeds = points[np.argsort(losses, kind="stable")[:_SEEDS]]
        found, _ = maximize(score, self._unit, self._rng, n_random=_CANDIDATES, n_starts=_STARTS, seeds=seeds)
        return list(found)


def _fit_forest(points: np.ndarray, losses: np.ndarray, rng: np.random.Generator) -> Any:
    from sklearn.ensemble import RandomForestRegressor

    forest = RandomForestRegressor(
        n_estimators=_TREES, max_features=5 / 6, min_samples_leaf=2, bootstrap=True,
        random_state=int(rng.integers(2**31)),
    )  # fmt: skip
    return forest.fit(points, losses)


def _predict(forest: Any, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    per_tree = np.stack([tree.predict(points) for tree in forest.estimators_])
    return per_tree.mean(axis=0), per_tree.std(axis=0)
