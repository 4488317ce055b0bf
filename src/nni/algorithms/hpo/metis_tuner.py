"""Metis (builtin tuner ``Metis``).

Li et al., "Metis: Robustly Tuning Tail Latencies of Cloud Systems" (USENIX ATC 2018), as NNI
applies it to hyper-parameters. After ``cold_start_num`` random configurations a Gaussian process
(Matérn 3/2 kernel) models the loss; repeated configurations count with the median of their results.
Each suggestion weighs:

* the *exploitation* point ``lm``: the minimum of the model's mean;
* an *exploration* candidate: the minimum of the lower confidence bound ``mean - 1.96 std``;
* a *density* candidate (12 results or more): drawn from a Gaussian mixture fitted to the best 34%
  of the configurations, the one most likely under it relative to a mixture of the rest;
* *re-sampling* candidates (unless ``no_resampling``): configurations whose result lies far from
  the model (outliers, maybe noise), each run at most 3 times.

For every candidate the tuner simulates observing its optimistic outcome (``mean - 1.96 std``),
refits the model, and measures how much the predicted minimum would drop; the candidate with the
largest drop wins. With probability ``exploration_probability`` (or when ``lm`` was already run)
that candidate is given, otherwise ``lm``. ``no_candidates`` gives ``lm`` only.

Needs the ``bo`` extra (``pip install nni[bo]``). Accepts ``choice`` of numbers, ``randint``,
``uniform`` and ``quniform``, as NNI's.

Differences from NNI's Metis, all deliberate: parameters are scaled to [0, 1] with one kernel
length scale each; the model is refitted with a fixed kernel for the simulations (NNI refits with
250 optimizer restarts per candidate, which takes minutes); ``exploration_probability`` can be set
from the config; running trials are believed at the model's mean so concurrent requests differ;
``seed`` is ours.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from ._model_search import maximize
from ._model_tuner import ModelBasedTuner
from .gp_tuner import believe_pending, fit_quietly
from .validators import MetisClassArgsValidator

__all__ = ["MetisClassArgsValidator", "MetisTuner"]

_logger = logging.getLogger(__name__)

_WARM_UP = 2000
_GMM_MIN_RESULTS = 12
_GOOD_SHARE = 0.34
_MAX_RESAMPLES = 3
_OUTLIER_Z = 2.0
_Z95 = 1.96


class MetisTuner(ModelBasedTuner):
    """Metis tuner.

    Parameters
    ----------
    optimize_mode
        ``'maximize'`` (default) or ``'minimize'`` the trials' metric.
    no_resampling
        Never run a configuration again (default ``True``, as in NNI).
    no_candidates
        Give only the model's predicted optimum (no exploration candidates).
    selection_num_starting_points
        Starting points of the local searches over the model (at most 64 are used: each search is
        batched, so more add time without finding better points).
    cold_start_num
        Random configurations before the model is used.
    exploration_probability
        Probability of giving the best exploration candidate instead of the predicted optimum.
    seed
        Seed of the random generator; ``None`` draws one and logs it.
    """

    def __init__(
        self,
        optimize_mode: str = "maximize",
        no_resampling: bool = True,
        no_candidates: bool = False,
        selection_num_starting_points: int = 600,
        cold_start_num: int = 10,
        exploration_probability: float = 0.9,
        seed: int | None = None,
    ) -> None:
        MetisClassArgsValidator().validate_class_args(
            optimize_mode=optimize_mode, no_resampling=no_resampling, no_candidates=no_candidates,
            selection_num_starting_points=selection_num_starting_points, cold_start_num=cold_start_num,
            exploration_probability=exploration_probability, seed=seed,
        )  # fmt: skip
        super().__init__("Metis", optimize_mode, cold_start_num, seed)
        self.no_resampling = no_resampling
        self.no_candidates = no_candidates
        self.selection_num_starting_points = int(selection_num_starting_points)
        self.exploration_probability = float(exploration_probability)
        self._resample_points: list[np.ndarray] = []

    def _may_repeat(self, point: np.ndarray) -> bool:
        return any(np.allclose(point, chosen) for chosen in self._resample_points)

    def _suggest(self, points: np.ndarray, losses: np.ndarray, pending: np.ndarray) -> list[np.ndarray]:
        assert self._unit is not None
        unit, rng = self._unit, self._rng
        self._resample_points = []
        distinct, medians, counts = _aggregate(points, losses)
        model = fit_quietly(_metis_gp(unit.dim, rng), distinct, medians)
        model = believe_pending(model, distinct, medians, pending, _ALPHA)
        starts = min(self.selection_num_starting_points, 64)

        lm, _ = maximize(lambda x: -model.predict(x), unit, rng, n_random=_WARM_UP, n_starts=starts,
                         seeds=distinct[np.argsort(medians)[:3]])
        optimum = lm[0]
        if self.no_candidates:
            return [optimum]

        candidates: list[np.ndarray] = []
        explore, _ = maximize(lambda x: _lcb(model, x), unit, rng, n_random=_WARM_UP, n_starts=starts)
        candidates.append(explore[0])
        if len(medians) >= _GMM_MIN_RESULTS:
            dense = _density_candidate(distinct, medians, unit, rng)
            if dense is not None:
                candidates.append(dense)
        resamples: list[np.ndarray] = []
        if not self.no_resampling:
            resamples = _outliers(model, distinct, medians, counts)
            candidates.extend(resamples)

        chosen = _most_informative(model, distinct, medians, candidates, unit, rng)
        self._resample_points = [point for point in resamples if chosen is not None and np.allclose(point, chosen)]
        optimum_sampled = any(np.allclose(optimum, point) for point in distinct)
        if chosen is not None and (optimum_sampled or rng.random() < self.exploration_probability):
            return [chosen, optimum, *candidates]
        return [optimum, *candidates, *lm[1:3]]


_ALPHA = 1e-6


def _metis_gp(dim: int, rng: np.random.Generator) -> Any:
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern

    kernel = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(
        length_scale=np.full(dim, 0.5), length_scale_bounds=(1e-2, 1e2), nu=1.5
    )
    return GaussianProcessRegressor(kernel=kernel, alpha=_ALPHA, normalize_y=True, n_restarts_optimizer=3,
                                    random_state=int(rng.integers(2**31)))


def _aggregate(points: np.ndarray, losses: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct points, the median loss of each and how many times each was run."""
    keys = np.round(points, 9)
    distinct, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    medians = np.asarray([np.median(losses[inverse == i]) for i in range(len(distinct))])
    return distinct, medians, counts


def _lcb(model: Any, x: np.ndarray) -> np.ndarray:
    mean, std = model.predict(x, return_std=True)
    return -(mean - _Z95 * std)


def _density_candidate(points: np.ndarray, losses: np.ndarray, unit: Any, rng: np.random.Generator) -> np.ndarray | None:
    from sklearn.mixture import GaussianMixture

    order = np.argsort(losses, kind="stable")
    n_good = max(2, int(round(_GOOD_SHARE * len(order))))
    good, bad = points[order[:n_good]], points[order[n_good:]]
    if len(bad) < 2:
        return None
    seed = int(rng.integers(2**31))
    good_model = GaussianMixture(max(1, min(len(good) - 1, 3)), reg_covar=1e-3, random_state=seed).fit(good)
    bad_model = GaussianMixture(max(1, min(len(bad) - 1, 3)), reg_covar=1e-3, random_state=seed).fit(bad)
    samples, _ = good_model.sample(200)
    samples = unit.snap(np.clip(samples, 0.0, 1.0))
    ratio = good_model.score_samples(samples) - bad_model.score_samples(samples)
    return samples[int(np.argmax(ratio))]


def _outliers(model: Any, points: np.ndarray, losses: np.ndarray, counts: np.ndarray) -> list[np.ndarray]:
    residuals = losses - model.predict(points)
    spread = residuals.std()
    if not spread > 0:
        return []
    far = np.abs(residuals) > _OUTLIER_Z * spread
    return [points[i] for i in np.flatnonzero(far & (counts < _MAX_RESAMPLES))]


def _most_informative(model: Any, points: np.ndarray, losses: np.ndarray, candidates: list[np.ndarray],
                      unit: Any, rng: np.random.Generator) -> np.ndarray | None:
    """The candidate whose optimistic outcome would lower the predicted minimum the most."""
    from sklearn.gaussian_process import GaussianProcessRegressor

    if not candidates:
        return None
    probe = np.vstack([unit.sample(rng, 1000), points, np.asarray(candidates)])
    current = float(model.predict(probe).min())
    best, best_drop = None, -np.inf
    for candidate in candidates:
        mean, std = model.predict(candidate[None, :], return_std=True)
        optimistic = float(mean[0] - _Z95 * std[0])
        simulated = GaussianProcessRegressor(kernel=model.kernel_, alpha=_ALPHA, normalize_y=True, optimizer=None)
        fit_quietly(simulated, np.vstack([points, candidate]), np.append(losses, optimistic))
        drop = current - float(simulated.predict(probe).min())
        if drop > best_drop:
            best, best_drop = candidate, drop
    return best
