"""Learning-curve extrapolation: fit twelve curve families, keep the consistent ones, average them.

How :meth:`CurveModel.predict` works (NNI samples combination weights by MCMC; this is a
deterministic model average with the same families):

1. Non-finite points are dropped; fewer than 3 left -> no prediction.
2. Each family is fitted by least squares (``scipy.optimize.curve_fit``) from its starting
   parameters, on x = 1..S. A fit that fails, or whose curve is not finite on the observed steps
   and at the target step, is dropped.
3. Fit filter (NNI's rule): keep a family when its sum of squared residuals is below
   ``mean(y)^2 * S``, i.e. its RMS error is smaller than the curve's mean level.
4. Agreement filter: among those, keep the predictions at the target step that lie within
   ``median +- 2 * std`` of all of them (one wild extrapolation cannot drag the average).
5. Fewer than 4 families left -> no prediction ("wait for more information", as in NNI).
6. The prediction is the Akaike-weighted average of the kept families' predictions:
   ``w_i ~ exp(-(AIC_i - AIC_min) / 2)`` with ``AIC = n ln(SSE/n) + 2k`` (k parameters), so better
   fits with fewer parameters count more.

Fitted parameters belong to the :class:`CurveModel` instance (NNI keeps them in a module-level
table shared by every trial).
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .curvefunctions import CURVE_FAMILIES, MODEL_NAMES

__all__ = ["CurveModel"]

_logger = logging.getLogger(__name__)

MIN_POINTS = 3
MIN_FAMILIES = 4
AGREEMENT_STDS = 2.0
MAX_FUNCTION_EVALUATIONS = 400


class CurveModel:
    """Predicts a learning curve's value at a later step from its first values.

    Parameters
    ----------
    target_pos
        The (1-based) step to predict, usually the trial's last epoch.

    Attributes
    ----------
    effective_model
        Names of the families kept by the last :meth:`predict` (all twelve before it).
    effective_model_num
        ``len(effective_model)``.
    point_num
        Number of points of the history being modelled.
    trial_history
        That history.
    weight_samples
        Combination weights of the kept families (sum 1).
    parameters
        ``family name -> fitted parameters`` (starting parameters until fitted).

    Examples
    --------
    >>> model = CurveModel(target_pos=20)
    >>> prediction = model.predict([0.30, 0.45, 0.55, 0.61, 0.65, 0.68, 0.70, 0.715])
    >>> 0.70 < prediction < 0.85
    True
    """

    def __init__(self, target_pos: int) -> None:
        self.target_pos = target_pos
        self.trial_history: list[float] = []
        self.point_num = 0
        self.effective_model: list[str] = list(MODEL_NAMES)
        self.effective_model_num = len(self.effective_model)
        self.weight_samples: Any = np.ones(self.effective_model_num) / self.effective_model_num
        self.parameters: dict[str, tuple[float, ...]] = {
            name: family.initial for name, family in CURVE_FAMILIES.items()}
        self._sse: dict[str, float] = {}

    def predict_y(self, model: str, pos: float) -> float:
        """Value of one family at step ``pos`` with its current parameters."""
        family = CURVE_FAMILIES[model]
        with np.errstate(all="ignore"):
            return float(family.function(float(pos), *self.parameters[model]))

    def f_comb(self, pos: float, sample: Sequence[float]) -> float:
        """Weighted sum of the effective families at step ``pos``.

        Parameters
        ----------
        pos
            The step.
        sample
            One weight per family of :attr:`effective_model`, in order.
        """
        return float(sum(weight * self.predict_y(model, pos)
                         for model, weight in zip(self.effective_model, sample, strict=True)))

    def predict(self, trial_history: Sequence[float]) -> float | None:
        """Predict the value at :attr:`target_pos`.

        Parameters
        ----------
        trial_history
            Intermediate results (numbers), step 1 first.

        Returns
        -------
        float or None
            The prediction, or ``None`` when the curve does not allow one yet.
        """
        values = np.asarray([float(v) for v in trial_history], dtype=float)
        steps = np.arange(1, len(values) + 1, dtype=float)
        finite = np.isfinite(values)
        x, y = steps[finite], values[finite]
        self.trial_history = list(values)
        self.point_num = len(values)
        if len(y) < MIN_POINTS:
            return None
        fitted = self._fit_families(x, y)
        tolerance = float(np.mean(y)) ** 2 * len(y)
        kept = {name: pred for name, pred in fitted.items() if self._sse[name] < tolerance}
        kept = _agreeing(kept)
        if len(kept) < MIN_FAMILIES:
            _logger.debug("only %d curve families fit consistently; waiting for more points", len(kept))
            return None
        self.effective_model = list(kept)
        self.effective_model_num = len(kept)
        self.weight_samples = _akaike_weights([self._sse[name] for name in kept],
                                              [len(CURVE_FAMILIES[name].initial) for name in kept], len(y))
        prediction = float(np.dot(self.weight_samples, list(kept.values())))
        return prediction if math.isfinite(prediction) else None

    def _fit_families(self, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
        """Fit every family; return ``name -> prediction at the target`` for the usable fits."""
        from scipy.optimize import curve_fit

        predictions: dict[str, float] = {}
        self._sse = {}
        for name, family in CURVE_FAMILIES.items():
            if len(y) < len(family.initial):
                continue  # under-determined
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    params, _ = curve_fit(family.function, x, y, p0=family.initial,
                                          maxfev=MAX_FUNCTION_EVALUATIONS)
                    fitted = family.function(x, *params)
                    at_target = float(family.function(float(self.target_pos), *params))
            except (RuntimeError, ValueError, TypeError, FloatingPointError, ZeroDivisionError):
                continue
            if not (np.all(np.isfinite(fitted)) and math.isfinite(at_target)):
                continue
            self.parameters[name] = tuple(float(p) for p in params)
            self._sse[name] = float(np.sum((fitted - y) ** 2))
            predictions[name] = at_target
        return predictions


def _agreeing(predictions: dict[str, float]) -> dict[str, float]:
    if len(predictions) < 2:
        return predictions
    values = np.asarray(list(predictions.values()))
    median, spread = float(np.median(values)), float(np.std(values))
    limit = AGREEMENT_STDS * spread
    return {name: value for name, value in predictions.items() if abs(value - median) <= limit}


def _akaike_weights(sse: list[float], parameter_counts: list[int], n: int) -> np.ndarray:
    # a perfect fit (sse 0) would give -inf; a floor keeps the weights finite and comparable
    floor = 1e-12
    aic = np.asarray([n * math.log(max(s, floor) / n) + 2 * k for s, k in zip(sse, parameter_counts, strict=True)])
    weights = np.exp(-(aic - aic.min()) / 2.0)
    return weights / weights.sum()
