"""BOHB's configuration model: two kernel densities per budget (good and bad results).

Configurations live in a unit cube, one coordinate per parameter of the formatted search space:

* ``uniform`` family (``log`` types in log space): ``(x - low) / (high - low)``;
* ``normal`` family: the normal CDF of ``(x - mu) / sigma`` (NNI's BOHB crashes on these);
* ``randint``: ``(index + 0.5) / size``, modelled as continuous;
* ``choice``: the option index, modelled as an unordered category;
* a parameter inactive in a configuration (inside another option of a nested choice) gets a
  random value before fitting, so it carries no information either way.

For the largest budget that has a model, ``l(x)`` is the density of the
best ``top_n_percent`` results and ``g(x)`` of the others; candidates are drawn around good
points and the one maximising ``l(x) / g(x)`` is proposed (Falkner et al., 2018). Densities are
``statsmodels.nonparametric.kernel_density.KDEMultivariate`` with normal-reference bandwidths;
truncated normals come from ``scipy.stats.truncnorm``.
"""

from __future__ import annotations

import inspect
import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from nni.common.hpo_utils import FormattedParameters, FormattedSearchSpace, ParameterSpec

__all__ = ["KdeConfigModel"]

_logger = logging.getLogger(__name__)

_DENSITY_FLOOR = 1e-32


@dataclass
class _Densities:
    good: Any  # KDEMultivariate
    bad: Any
    good_points: np.ndarray


class KdeConfigModel:
    """Results per budget and the good/bad densities fitted on them.

    Parameters
    ----------
    space
        The formatted search space.
    min_points_in_model
        A budget gets a model once it has this many results, and enough for both densities to
        have more points than there are parameters (so at least ``2 * (parameters + 1)``).
    top_n_percent
        Share of results (percent) counted as good; at least parameters + 1.
    num_samples
        Candidates scored per proposal.
    bandwidth_factor
        Widening of the good density's bandwidths when drawing candidates.
    min_bandwidth
        Smallest bandwidth (keeps some exploration around good points).
    rng
        Source of randomness.
    """

    def __init__(self, space: FormattedSearchSpace, min_points_in_model: int, top_n_percent: int, num_samples: int,
                 bandwidth_factor: float, min_bandwidth: float, rng: np.random.Generator) -> None:
        self.space = space
        self.specs: list[ParameterSpec] = list(space.values())
        self.min_points_in_model = min_points_in_model
        self.top_n_percent = top_n_percent
        self.num_samples = num_samples
        self.bandwidth_factor = bandwidth_factor
        self.min_bandwidth = min_bandwidth
        self.rng = rng
        self.var_types = "".join("u" if spec.type == "choice" else "c" for spec in self.specs)
        self.observations: dict[float, list[tuple[np.ndarray, float]]] = {}
        self.models: dict[float, _Densities] = {}

    # data ------------------------------------------------------------------------------------

    def add(self, parameters: FormattedParameters, budget: float, loss: float) -> None:
        """Record a result (lower loss is better) and refit that budget's densities."""
        if not math.isfinite(loss):
            loss = math.inf
        self.observations.setdefault(float(budget), []).append((self.to_vector(parameters), loss))
        self._fit(float(budget))

    def model_budget(self) -> float | None:
        """The largest budget that has a model, or ``None``."""
        return max(self.models) if self.models else None

    def to_vector(self, parameters: FormattedParameters) -> np.ndarray:
        vector = np.full(len(self.specs), np.nan)
        for index, spec in enumerate(self.specs):
            if spec.key in parameters:
                vector[index] = _to_unit(spec, parameters[spec.key])
        return vector

    def from_vector(self, vector: np.ndarray) -> FormattedParameters:
        parameters: FormattedParameters = {}
        for index, spec in enumerate(self.specs):
            if spec.is_activated_in(parameters):
                parameters[spec.key] = _from_unit(spec, float(vector[index]))
        return parameters

    # fitting -----------------------------------------------------------------------------------

    def _fit(self, budget: float) -> None:
        from statsmodels.nonparametric.kernel_density import KDEMultivariate

        rows = self.observations[budget]
        count = len(rows)
        # each density needs more points than dimensions (KDEMultivariate refuses fewer)
        least = len(self.specs) + 1
        n_good = max(least, self.top_n_percent * count // 100)
        if count < self.min_points_in_model or count - n_good < least:
            return
        order = sorted(range(count), key=lambda i: rows[i][1])
        vectors = np.asarray([self._impute(rows[i][0]) for i in order])
        good, bad = vectors[:n_good], vectors[n_good:]
        # statsmodels >= 0.15 takes the generator (and warns without one); older ones do not
        extra = {"rng": self.rng} if "rng" in inspect.signature(KDEMultivariate).parameters else {}
        good_kde = KDEMultivariate(good, var_type=self.var_types, bw="normal_reference", **extra)
        bad_kde = KDEMultivariate(bad, var_type=self.var_types, bw="normal_reference", **extra)
        for kde in (good_kde, bad_kde):
            kde.bw = self._clip_bandwidths(np.asarray(kde.bw, dtype=float))
        self.models[budget] = _Densities(good_kde, bad_kde, good)
        _logger.debug("BOHB model for budget %s: %d good, %d bad results", budget, len(good), len(bad))

    def _clip_bandwidths(self, bandwidths: np.ndarray) -> np.ndarray:
        clipped = np.maximum(np.nan_to_num(bandwidths, nan=self.min_bandwidth), self.min_bandwidth)
        for index, spec in enumerate(self.specs):
            if spec.type == "choice":
                # the Aitchison-Aitken kernel is defined for lambda in [0, (c - 1) / c]
                clipped[index] = min(clipped[index], (spec.size - 1) / spec.size if spec.size else 0.0)
        return clipped

    def _impute(self, vector: np.ndarray) -> np.ndarray:
        vector = vector.copy()
        for index in np.flatnonzero(np.isnan(vector)):
            spec = self.specs[index]
            vector[index] = self.rng.integers(spec.size) if spec.type == "choice" else self.rng.uniform()
        return vector

    # proposing ---------------------------------------------------------------------------------

    def propose(self) -> FormattedParameters | None:
        """Draw candidates around good points of the largest budget's model; ``None`` without a model."""
        from scipy.stats import truncnorm

        budget = self.model_budget()
        if budget is None:
            return None
        model = self.models[budget]
        bandwidths = np.asarray(model.good.bw, dtype=float)
        centres = model.good_points[self.rng.integers(len(model.good_points), size=self.num_samples)]
        candidates = np.empty_like(centres)
        for index, spec in enumerate(self.specs):
            column = centres[:, index]
            if spec.type == "choice":
                keep = self.rng.uniform(size=len(column)) < 1.0 - bandwidths[index]
                candidates[:, index] = np.where(keep, column, self.rng.integers(spec.size, size=len(column)))
            else:
                scale = self.bandwidth_factor * max(bandwidths[index], self.min_bandwidth)
                low, high = (0.0 - column) / scale, (1.0 - column) / scale
                candidates[:, index] = truncnorm.rvs(low, high, loc=column, scale=scale, size=len(column),
                                                     random_state=self.rng)
        with np.errstate(all="ignore"):
            good_density = np.maximum(np.asarray(model.good.pdf(candidates), dtype=float), _DENSITY_FLOOR)
            bad_density = np.maximum(np.asarray(model.bad.pdf(candidates), dtype=float), _DENSITY_FLOOR)
            score = good_density / bad_density
        score = np.where(np.isfinite(score), score, -np.inf)
        best = int(np.argmax(score))
        if not np.isfinite(score[best]):
            return None
        return self.from_vector(candidates[best])


def _to_unit(spec: ParameterSpec, value: Any) -> float:
    if spec.type == "choice":
        return float(value)
    if spec.categorical:  # randint
        return (float(value) + 0.5) / spec.size
    if spec.normal_distributed:
        return 0.5 * (1.0 + math.erf((float(value) - spec.mu) / (spec.sigma * math.sqrt(2.0))))
    if spec.high == spec.low:
        return 0.5
    return min(max((float(value) - spec.low) / (spec.high - spec.low), 0.0), 1.0)


def _from_unit(spec: ParameterSpec, unit: float) -> Any:
    if spec.type == "choice":
        return int(min(max(round(unit), 0), spec.size - 1))
    unit = min(max(unit, 0.0), 1.0)
    if spec.categorical:  # randint
        return int(min(math.floor(unit * spec.size), spec.size - 1))
    if spec.normal_distributed:
        from scipy.special import ndtri

        return float(spec.mu + spec.sigma * ndtri(min(max(unit, 1e-12), 1 - 1e-12)))
    return float(spec.low + unit * (spec.high - spec.low))
