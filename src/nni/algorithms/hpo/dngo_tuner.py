"""DNGO: Bayesian optimization with a neural network's features (builtin tuner ``DNGO``).

Snoek et al., "Scalable Bayesian Optimization Using Deep Neural Networks" (ICML 2015). A small
network (scikit-learn's ``MLPRegressor``: three tanh layers of 50 units) is trained on the results;
its last hidden layer gives features, and a Bayesian linear regression on those features (its two
precisions set by maximizing the evidence) gives a mean and a variance for any configuration. The
next configuration maximizes expected improvement over ``sample_size`` random configurations drawn
in a box around the best result so far (half-width 0.2 of each parameter's range, on the unit
scale below): a trust region. Searched over the whole space, the acquisition sent proposals to
the corners, where the network extrapolates freely and its features saturate, and DNGO did worse
than random search on 5- and 6-parameter problems (docs/benchmarks.md, "Model-based tuners
against NNI 3.0").

The network is retrained every ``trials_per_update`` results (``num_epochs_per_training`` epochs);
the cheap linear regression is refitted on every result in between. Random configurations are
given until the first training.

Needs the ``bo`` extra (``pip install nni[bo]``): NNI's needs ``pybnn`` and PyTorch, which this one
does not. Accepts ``choice`` of numbers, ``randint``, ``uniform``, ``quniform``, ``loguniform`` and
``qloguniform``, as NNI's.

Differences from NNI's DNGO (which wraps ``pybnn``), all deliberate: NNI's expected improvement
uses a fixed incumbent of 0.95, the variance where the standard deviation belongs and the arg-min
when minimizing; its training inputs are in sorted-key order but predictions in another; log types
are modelled on a log scale here; an integer metric is accepted (NNI raises); running trials are
believed at the model's mean.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from ._model_search import expected_improvement
from ._model_tuner import ModelBasedTuner
from .gp_tuner import fit_quietly
from .validators import DNGOClassArgsValidator

__all__ = ["DNGOClassArgsValidator", "DNGOTuner"]

_logger = logging.getLogger(__name__)

_HIDDEN = (50, 50, 50)
_PRECISIONS = np.logspace(-3, 4, 29)  # grid of prior and noise precisions
_TRUST = 0.2  # half-width, in the unit cube, of the box around the best result searched


class DNGOTuner(ModelBasedTuner):
    """Neural-network-feature Bayesian optimization.

    Parameters
    ----------
    optimize_mode
        ``'maximize'`` (default) or ``'minimize'`` the trials' metric.
    sample_size
        Random configurations the acquisition is evaluated at.
    trials_per_update
        Results between two trainings of the network (and before the first).
    num_epochs_per_training
        Training epochs of each training.
    seed
        Seed of the random generator; ``None`` draws one and logs it.
    """

    def __init__(
        self,
        optimize_mode: str = "maximize",
        sample_size: int = 1000,
        trials_per_update: int = 20,
        num_epochs_per_training: int = 500,
        seed: int | None = None,
    ) -> None:
        DNGOClassArgsValidator().validate_class_args(
            optimize_mode=optimize_mode, sample_size=sample_size, trials_per_update=trials_per_update,
            num_epochs_per_training=num_epochs_per_training, seed=seed,
        )  # fmt: skip
        super().__init__("DNGO", optimize_mode, trials_per_update, seed)
        self.sample_size = int(sample_size)
        self.trials_per_update = int(trials_per_update)
        self.num_epochs_per_training = int(num_epochs_per_training)
        self._network: Any = None
        self._trained_on = 0

    def _on_new_space(self) -> None:
        self._network = None
        self._trained_on = 0

    def _suggest(self, points: np.ndarray, losses: np.ndarray, pending: np.ndarray) -> list[np.ndarray]:
        assert self._unit is not None
        center, scale = losses.mean(), losses.std() or 1.0
        targets = (losses - center) / scale
        if self._network is None or len(points) - self._trained_on >= self.trials_per_update:
            self._network = _train(points, targets, self.num_epochs_per_training, self._rng)
            self._trained_on = len(points)
        network = self._network
        regression = BayesianLinearRegression(_features(network, points), targets)
        if len(pending):
            believed = regression.predict(_features(network, pending))[0]
            regression = BayesianLinearRegression(
                _features(network, np.vstack([points, pending])), np.concatenate([targets, believed])
            )
        best = float(targets.min())

        def score(candidates: np.ndarray) -> np.ndarray:
            # expected improvement of the function itself, not of a noisy observation of it
            mean, variance = regression.predict(_features(network, candidates), noise=False)
            return expected_improvement(-mean, np.sqrt(variance), -best)

        # The network extrapolates wildly away from the data (it sent Levy5 proposals to the corners),
        # so the candidates stay in a box around the best result, as a trust region does.
        incumbent = points[int(np.argmin(losses))]
        offsets = (self._rng.random((self.sample_size, len(incumbent))) - 0.5) * (2 * _TRUST)
        candidates = self._unit.snap(np.clip(incumbent + offsets, 0.0, 1.0))
        values = score(candidates)
        return list(candidates[np.argsort(-values, kind="stable")])


def _train(points: np.ndarray, targets: np.ndarray, epochs: int, rng: np.random.Generator) -> Any:
    from sklearn.neural_network import MLPRegressor

    network = MLPRegressor(
        hidden_layer_sizes=_HIDDEN, activation="tanh", solver="adam", learning_rate_init=0.01,
        alpha=1e-4, max_iter=epochs, batch_size=min(32, len(points)), random_state=int(rng.integers(2**31)),
        tol=0.0, n_iter_no_change=epochs,  # train the epochs asked for; the default stops after ~30
    )  # fmt: skip
    return fit_quietly(network, points, targets)


def _features(network: Any, points: np.ndarray) -> np.ndarray:
    """Activations of the network's last hidden layer (tanh), plus a constant column."""
    activation = np.atleast_2d(points)
    for weights, bias in zip(network.coefs_[:-1], network.intercepts_[:-1], strict=True):
        activation = np.tanh(activation @ weights + bias)
    return np.hstack([activation, np.ones((len(activation), 1))])


class BayesianLinearRegression:
    """Bayesian linear regression whose prior and noise precisions maximize the evidence.

    The log evidence ``k/2 log alpha + n/2 log beta - beta/2 |y - F m|^2 - alpha/2 m.m - 1/2 log|A|``
    (with ``A = alpha I + beta F^T F`` and ``m = beta A^-1 F^T y``) is evaluated on a log grid of
    both precisions in the eigenbasis of ``F^T F`` (each point costs O(k)), and the best pair kept.
    MacKay's fixed-point updates collapse to "no signal" (``alpha`` huge) on small, over-parameterized
    feature sets like these; the grid does not.

    Parameters
    ----------
    features
        ``(n, k)`` design matrix.
    targets
        ``n`` targets.
    """

    def __init__(self, features: np.ndarray, targets: np.ndarray) -> None:
        n, k = features.shape
        gram = features.T @ features
        eigenvalues, basis = np.linalg.eigh(gram)
        eigenvalues = np.clip(eigenvalues, 0.0, None)
        projected = basis.T @ (features.T @ targets)  # F^T y in the eigenbasis
        yy = float(targets @ targets)
        best, alpha, beta = -np.inf, 1.0, 1.0
        for a in _PRECISIONS:
            for b in _PRECISIONS:
                denominator = a + b * eigenvalues
                coefficients = b * projected / denominator  # m in the eigenbasis
                # |y - F m|^2 = y.y - 2 m.F^T y + m.F^T F m
                residual = yy - 2 * float(coefficients @ projected) + float(np.sum(eigenvalues * coefficients**2))
                evidence = (0.5 * k * np.log(a) + 0.5 * n * np.log(b) - 0.5 * b * max(residual, 0.0)
                            - 0.5 * a * float(coefficients @ coefficients) - 0.5 * float(np.sum(np.log(denominator))))
                if evidence > best:
                    best, alpha, beta = evidence, a, b
        precision = alpha * np.eye(k) + beta * gram
        self._covariance = np.linalg.inv(precision)
        self._mean = beta * self._covariance @ features.T @ targets
        self._noise = 1.0 / beta

    def predict(self, features: np.ndarray, noise: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Predictive mean and variance of each row; ``noise=False`` leaves out the observation noise."""
        mean = features @ self._mean
        variance = np.einsum("ij,jk,ik->i", features, self._covariance, features)
        if noise:
            variance = variance + self._noise
        return mean, np.maximum(variance, 1e-12)
