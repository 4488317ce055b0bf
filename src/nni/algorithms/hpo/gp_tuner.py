"""Gaussian-process Bayesian optimization (builtin tuner ``GP``).

After ``cold_start_num`` random configurations, a Gaussian process (scikit-learn's
``GaussianProcessRegressor``, Matérn kernel of smoothness ``nu`` with one length scale per
parameter) is fitted to the results, and the next configuration maximizes an acquisition function:
expected improvement (``'ei'``, margin ``xi``), probability of improvement (``'poi'``) or upper
confidence bound (``'ucb'``, ``mean + kappa * std``).

Needs the ``bo`` extra (``pip install nni[bo]``: scikit-learn and scipy). Accepts ``choice`` of
numbers, ``randint``, ``uniform``, ``quniform``, ``loguniform`` and ``qloguniform``, as NNI's.

Differences from NNI's GP tuner, all deliberate:

* parameters are scaled to [0, 1] (log types on a log scale) and the kernel has a length scale per
  parameter; NNI models raw values with one length scale, so a parameter with a wide range swamps
  the others;
* the acquisition is maximized over ``selection_num_warm_up`` random points, then refined by local
  moves from the best ``selection_num_starting_points`` of them and from the best observations
  (batched; see :mod:`._model_search`); the result is snapped to a legal value (the q step of
  q types, the nearest option of a choice, an integer in ``[low, high)`` for ``randint``: NNI's
  snapping ignores q and can return ``high``);
* running trials are "believed": they join the model with its own predicted mean, so concurrent
  requests get different configurations (NNI's all get the same one);
* the kernel's hyper-parameters are fitted with 3 optimizer restarts (NNI: 25);
* ``seed`` is ours.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from ._model_search import expected_improvement, maximize, probability_of_improvement, upper_confidence_bound
from ._model_tuner import ModelBasedTuner
from .validators import GPClassArgsValidator

__all__ = ["GPClassArgsValidator", "GPTuner"]

_logger = logging.getLogger(__name__)

_RESTARTS = 3
_SEEDS = 5  # best observations the local search also starts from


def make_gp(dim: int, nu: float, alpha: float, rng: np.random.Generator, restarts: int = _RESTARTS) -> Any:
    """A ``GaussianProcessRegressor`` with a scaled Matérn kernel (one length scale per dimension)."""
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern

    kernel = ConstantKernel(1.0, (1e-3, 1e3)) * Matern(
        length_scale=np.full(dim, 0.5), length_scale_bounds=(1e-2, 1e2), nu=nu
    )
    return GaussianProcessRegressor(
        kernel=kernel, alpha=alpha, normalize_y=True, n_restarts_optimizer=restarts,
        random_state=int(rng.integers(2**31)),
    )  # fmt: skip


def fit_quietly(model: Any, points: np.ndarray, targets: np.ndarray) -> Any:
    """Fit, silencing scikit-learn's convergence warnings (a bound reached is not an error here)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(points, targets)
    return model


def believe_pending(model: Any, points: np.ndarray, targets: np.ndarray, pending: np.ndarray, alpha: float) -> Any:
    """Refit ``model``'s fitted kernel on the observations plus ``pending`` at their predicted mean."""
    if not len(pending):
        return model
    from sklearn.gaussian_process import GaussianProcessRegressor

    believed = GaussianProcessRegressor(kernel=model.kernel_, alpha=alpha, normalize_y=True, optimizer=None)
    return fit_quietly(
        believed, np.vstack([points, pending]), np.concatenate([targets, model.predict(pending)])
    )


class GPTuner(ModelBasedTuner):
    """Gaussian-process tuner.

    Parameters
    ----------
    optimize_mode
        ``'maximize'`` (default) or ``'minimize'`` the trials' metric.
    utility
        Acquisition function: ``'ei'`` (default), ``'ucb'`` or ``'poi'``.
    kappa
        Weight of the standard deviation in ``'ucb'``.
    xi
        Improvement margin of ``'ei'`` and ``'poi'``.
    nu
        Smoothness of the Matérn kernel (0.5, 1.5, 2.5 or ``inf`` are fast).
    alpha
        Noise added to the kernel's diagonal.
    cold_start_num
        Random configurations before the model is used.
    selection_num_warm_up
        Random points the acquisition is evaluated at.
    selection_num_starting_points
        Points the local refinement of the acquisition starts from.
    seed
        Seed of the random generator; ``None`` draws one and logs it.

    Examples
    --------
    >>> tuner = GPTuner('minimize', cold_start_num=4, selection_num_warm_up=500, seed=0)
    >>> tuner.update_search_space({'x': {'_type': 'uniform', '_value': [-2, 2]}})
    >>> for i in range(12):
    ...     params = tuner.generate_parameters(i)
    ...     tuner.receive_trial_result(i, params, (params['x'] - 1) ** 2)
    >>> abs(tuner.generate_parameters(12)['x'] - 1) < 0.3
    True
    """

    def __init__(
        self,
        optimize_mode: str = "maximize",
        utility: str = "ei",
        kappa: float = 5,
        xi: float = 0,
        nu: float = 2.5,
        alpha: float = 1e-6,
        cold_start_num: int = 10,
        selection_num_warm_up: int = 100000,
        selection_num_starting_points: int = 250,
        seed: int | None = None,
    ) -> None:
        GPClassArgsValidator().validate_class_args(
            optimize_mode=optimize_mode, utility=utility, kappa=kappa, xi=xi, nu=nu, alpha=alpha,
            cold_start_num=cold_start_num, selection_num_warm_up=selection_num_warm_up,
            selection_num_starting_points=selection_num_starting_points, seed=seed,
        )  # fmt: skip
        super().__init__("GP", optimize_mode, cold_start_num, seed)
        self.utility = utility
        self.kappa = float(kappa)
        self.xi = float(xi)
        self.nu = float(nu)
        self.alpha = float(alpha)
        self.selection_num_warm_up = int(selection_num_warm_up)
        self.selection_num_starting_points = int(selection_num_starting_points)

    def _suggest(self, points: np.ndarray, losses: np.ndarray, pending: np.ndarray) -> list[np.ndarray]:
        assert self._unit is not None
        targets = -losses  # the GP maximizes
        model = fit_quietly(make_gp(points.shape[1], self.nu, self.alpha, self._rng), points, targets)
        model = believe_pending(model, points, targets, pending, self.alpha)
        best = float(targets.max())

        def score(candidates: np.ndarray) -> np.ndarray:
            mean, std = model.predict(candidates, return_std=True)
            if self.utility == "ucb":
                return upper_confidence_bound(mean, std, self.kappa)
            if self.utility == "poi":
                return probability_of_improvement(mean, std, best, self.xi)
            return expected_improvement(mean, std, best, self.xi)

        seeds = points[np.argsort(losses, kind="stable")[:_SEEDS]]
        found, _ = maximize(
            score, self._unit, self._rng, n_random=self.selection_num_warm_up,
            n_starts=self.selection_num_starting_points, seeds=seeds,
        )  # fmt: skip
        return list(found)
