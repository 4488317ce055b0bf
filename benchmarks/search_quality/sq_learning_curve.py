"""The learning-curve problem of the multi-fidelity benchmark: a synthetic training run per configuration.

A configuration (``lr``, ``momentum``, ``width``, ``dropout``) "trains" for up to :data:`EPOCHS` epochs
and reports a validation accuracy after each one. The noise-free curve is

    acc(t) = plateau * (1 - exp(-t / tau)) - overfit * max(0, t - 2 tau) / EPOCHS

* ``plateau`` peaks where the effective learning rate ``lr / (1 - momentum)``, the momentum and the
  dropout match the instance's optimum (drawn from the seed), and grows a little with the width;
* ``tau`` (epochs to 63 % of the plateau) is short for large effective learning rates and long
  for small ones, so fast starters are not always the best finishers;
* ``overfit``: wide networks with too little dropout peak and then lose accuracy.

Each seed is its own instance (other optimum); the observed curve adds Gaussian noise that depends
only on the seed, the configuration and the epoch, so a configuration trained again with a larger
budget sees the same first epochs (as a deterministic training job would). The quality of a
configuration is its noise-free accuracy after :data:`EPOCHS` epochs.

Needs only the stdlib and numpy: the runner (``sq_mf_runner.py``) imports it in every venv.
"""

from __future__ import annotations

import math
import zlib
from typing import Any

import numpy as np

#: Epochs of a full training (Hyperband's ``R``, BOHB's ``max_budget``, Curvefitting's ``epoch_num``).
EPOCHS = 27
NOISE = 0.005
WIDTHS = [32, 64, 128, 256, 512]
SPACE: dict[str, Any] = {
    "lr": {"_type": "loguniform", "_value": [1e-4, 1.0]},
    "momentum": {"_type": "uniform", "_value": [0.0, 0.99]},
    "width": {"_type": "choice", "_value": WIDTHS},
    "dropout": {"_type": "uniform", "_value": [0.0, 0.6]},
}


class LearningCurveProblem:
    """One instance (one seed) of the learning-curve problem.

    Parameters
    ----------
    seed
        Instance seed: the location of the optimum and the noise of every curve.
    epochs
        Length of a full training.
    """

    def __init__(self, seed: int, epochs: int = EPOCHS) -> None:
        self.seed = int(seed)
        self.epochs = int(epochs)
        rng = np.random.default_rng([self.seed, 20261204])
        self.log_lr_star = -2.3 + float(rng.uniform(-0.5, 0.5))
        self.momentum_star = float(rng.uniform(0.8, 0.95))
        self.dropout_star = float(rng.uniform(0.15, 0.4))
        self.effective_star = self.log_lr_star - math.log10(1.0 - self.momentum_star)

    # curve ------------------------------------------------------------------------------------

    def shape(self, params: dict[str, Any]) -> tuple[float, float, float]:
        """``(plateau, tau, overfit)`` of a configuration."""
        lr, momentum = float(params["lr"]), float(params["momentum"])
        width, dropout = float(params["width"]), float(params["dropout"])
        effective = math.log10(lr) - math.log10(1.0 - momentum)
        gap = effective - self.effective_star
        plateau = 0.25 + 0.72 * math.exp(-0.5 * (gap / 0.6) ** 2)
        plateau *= 1.0 - 0.6 * (momentum - self.momentum_star) ** 2
        plateau *= 0.9 + 0.1 * math.log2(width / 32) / 4
        plateau *= 1.0 - 0.5 * (dropout - self.dropout_star) ** 2
        tau = min(max(2.0 * 10 ** (-0.5 * gap) * (1.0 + dropout) * (width / 128) ** 0.15, 0.3), 60.0)
        overfit = 0.12 * (width / 512) * max(0.0, self.dropout_star - dropout) / self.dropout_star
        return plateau, tau, overfit

    def true_curve(self, params: dict[str, Any], epochs: int | None = None) -> list[float]:
        """Noise-free accuracy after epochs ``1 .. epochs``."""
        plateau, tau, overfit = self.shape(params)
        count = self.epochs if epochs is None else epochs
        return [plateau * (1.0 - math.exp(-t / tau)) - overfit * max(0.0, t - 2 * tau) / self.epochs
                for t in range(1, count + 1)]  # fmt: skip

    def observed_curve(self, params: dict[str, Any]) -> list[float]:
        """What a training run reports after each of the :attr:`epochs` epochs (noisy, deterministic)."""
        rng = np.random.default_rng([self.seed, _config_key(params)])
        noise = rng.normal(0.0, NOISE, size=self.epochs)
        return [value + float(n) for value, n in zip(self.true_curve(params), noise, strict=True)]

    def true_final(self, params: dict[str, Any]) -> float:
        """Quality of a configuration: noise-free accuracy after a full training."""
        return self.true_curve(params)[-1]

    # sampling ---------------------------------------------------------------------------------

    def random_stream(self) -> RandomStream:
        """Random configurations in a fixed order for this seed (the same in every venv)."""
        return RandomStream(self.seed)

    def optimum(self, samples: int = 40000) -> float:
        """Best noise-free final accuracy over the space (dense sampling, then a local polish)."""
        rng = np.random.default_rng([self.seed, 7])
        best_value, best_params = -math.inf, None
        for width in WIDTHS:
            lr = np.exp(rng.uniform(math.log(1e-4), 0.0, samples // len(WIDTHS)))
            momentum = rng.uniform(0.0, 0.99, lr.size)
            dropout = rng.uniform(0.0, 0.6, lr.size)
            values = self._final_vectorized(lr, momentum, np.full(lr.size, float(width)), dropout)
            index = int(np.argmax(values))
            if values[index] > best_value:
                best_value = float(values[index])
                best_params = [math.log(lr[index]), momentum[index], dropout[index], width]
        assert best_params is not None
        return max(best_value, self._polish(best_params))

    def _final_vectorized(self, lr: np.ndarray, momentum: np.ndarray, width: np.ndarray,
                          dropout: np.ndarray) -> np.ndarray:  # fmt: skip
        gap = np.log10(lr) - np.log10(1.0 - momentum) - self.effective_star
        plateau = 0.25 + 0.72 * np.exp(-0.5 * (gap / 0.6) ** 2)
        plateau *= 1.0 - 0.6 * (momentum - self.momentum_star) ** 2
        plateau *= 0.9 + 0.1 * np.log2(width / 32) / 4
        plateau *= 1.0 - 0.5 * (dropout - self.dropout_star) ** 2
        tau = np.clip(2.0 * 10 ** (-0.5 * gap) * (1.0 + dropout) * (width / 128) ** 0.15, 0.3, 60.0)
        overfit = 0.12 * (width / 512) * np.maximum(0.0, self.dropout_star - dropout) / self.dropout_star
        t = float(self.epochs)
        return plateau * (1.0 - np.exp(-t / tau)) - overfit * np.maximum(0.0, t - 2 * tau) / t

    def _polish(self, start: list[float]) -> float:
        """Coordinate search around the best sample (stdlib: runs in every venv)."""
        x = list(start[:3])
        width = start[3]
        low, high = [math.log(1e-4), 0.0, 0.0], [0.0, 0.99, 0.6]

        def value(point: list[float]) -> float:
            return self.true_final({"lr": math.exp(point[0]), "momentum": point[1], "width": width,
                                    "dropout": point[2]})  # fmt: skip

        best = value(x)
        steps = [0.2, 0.02, 0.02]
        for _ in range(60):
            improved = False
            for i in range(3):
                for direction in (-1.0, 1.0):
                    trial = list(x)
                    trial[i] = min(max(trial[i] + direction * steps[i], low[i]), high[i])
                    candidate = value(trial)
                    if candidate > best:
                        best, x, improved = candidate, trial, True
            if not improved:
                steps = [s / 2 for s in steps]
                if max(steps) < 1e-6:
                    break
        return best


class RandomStream:
    """Uniform random configurations of :data:`SPACE`, the same sequence for a seed in every venv."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng([int(seed), 99])

    def next(self) -> dict[str, Any]:
        return {
            "lr": float(math.exp(self.rng.uniform(math.log(1e-4), 0.0))),
            "momentum": float(self.rng.uniform(0.0, 0.99)),
            "width": WIDTHS[int(self.rng.integers(len(WIDTHS)))],
            "dropout": float(self.rng.uniform(0.0, 0.6)),
        }


def _config_key(params: dict[str, Any]) -> int:
    """A stable integer for a configuration (numbers rounded: every venv prints floats the same)."""
    text = ",".join(f"{name}={float(params[name]):.10g}" for name in sorted(SPACE))
    return zlib.crc32(text.encode())
