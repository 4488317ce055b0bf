"""Joint (multivariate) Parzen estimators for :class:`~.tpe_tuner.TpeTuner`.

NNI's TPE models every parameter on its own, so it cannot see that, say, the best learning rate
depends on the optimizer. Here the parameters that are active together (the top level, or the
parameters of one option of a nested choice) form a group and are modelled jointly: each
observation becomes one kernel that is a product over the group's parameters, the "good" and "bad"
observations give two such mixtures, and the candidate (drawn from the good mixture) with the
highest good/bad density ratio wins, as in plain TPE.

Per parameter type, in the formatted (internal) space:

* numbers: a normal kernel truncated to the bounds (the uniform family; log space for log types)
  whose width is the larger gap to the observation's neighbours in that dimension (the adaptive
  Parzen rule of the TPE paper; the outermost observations use the gap to their inner neighbour,
  not to the bound), clipped to [range / min(100, n + 2), range]; q types are rounded
  to their grid before scoring, so candidates that would give the same value are not scored as if
  they differed;
* ``randint``: the same on the option index, rounded (its values are ordered integers);
* ``choice``: each observation puts weight 1 on its own option and ``4 * prior_weight / (n + 1)``
  on every option, normalised (with 10 observations and 3 options: 65% on its own option). A
  sharper kernel lets the search commit to one branch of a nested choice for good.

The search space's prior is one more component of both mixtures (``prior_weight``), so neither
density is ever zero. The "good" group is the best ``max(ceil(gamma * sqrt(n)), ceil(n / 10))``
observations (at most ``linear_forgetting``).

A group without ``choice`` parameters (a smooth space) scores ``3 * n_ei_candidates`` candidates,
and its "bad" mixture ramps the weights by loss rank instead of age (the best of the bad
observations weigh least, as Optuna's TPE does): both sharpen the search around the best points,
which is what low-dimensional continuous problems need late in a run.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from nni.common.hpo_utils import ParameterSpec

    from .validators import TpeArguments

__all__ = ["suggest_group"]

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
# At least this share of the observations is "good".
_MIN_GOOD_SHARE = 0.1
# How much of a categorical kernel is spread evenly over the options, relative to the prior's
# weight per option and observation (see _Mixture). Measured with benchmarks/search_quality.py on
# seeds other than the reported ones: 1 (each kernel almost all on its own option) lets a search
# commit to one branch of a nested choice for good; 3 to 6 explore the branches enough, 4 was best.
_CATEGORICAL_SMOOTHING = 4.0
# Groups without a ``choice`` (smooth spaces: Branin, Hartmann6, Rosenbrock, Levy) score this many
# times ``n_ei_candidates`` candidates, and their "bad" mixture ramps its weights by loss rank (the
# better of the bad observations count least), so the search refines around the best points more
# sharply. With a ``choice`` in the group, both made the search commit to the option that looked best
# early (benchmarks/search_quality.py, seeds 100-119: `conditional` 0.03 -> 0.11), so such groups keep
# the plain rule. 3 was chosen on seeds 100-119 (5: better on Hartmann6, worse on Levy).
_CONTINUOUS_CANDIDATE_FACTOR = 3


class _Dim:
    """How one parameter is modelled: bounds, width, and how to snap a value to a legal one."""

    def __init__(self, spec: ParameterSpec) -> None:
        self.spec = spec
        self.categorical = spec.categorical and spec.type != "randint"
        self.integer = spec.type == "randint"
        self.size = int(spec.size or 0)
        if self.categorical:
            self.low = self.high = self.width = 0.0
        elif self.integer:
            self.low, self.high = -0.5, self.size - 0.5
            self.width = float(self.size)
        elif spec.normal_distributed:
            sigma = float(spec.sigma or 0.0)
            self.low, self.high = -math.inf, math.inf
            self.width = 4.0 * sigma  # the prior's +-2 sigma carries most of its mass
        else:
            self.low, self.high = float(spec.low or 0.0), float(spec.high or 0.0)
            self.width = self.high - self.low

    def snap(self, x: np.ndarray) -> np.ndarray:
        """Legal formatted values nearest to ``x`` (integers, q-rounded numbers)."""
        spec = self.spec
        if self.integer:
            return np.clip(np.rint(x), 0, self.size - 1)
        if spec.q is None:
            return x
        q = spec.q
        if spec.log_distributed:
            with np.errstate(over="ignore", divide="ignore"):
                real = np.rint(np.exp(x) / q) * q
                if spec.clip is not None:
                    real = np.clip(real, *spec.clip)
                return np.log(real)
        real = np.rint(x / q) * q
        if spec.clip is not None:
            real = np.clip(real, *spec.clip)
        return real


def _std_normal_cdf(z: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26 for erf (absolute error below 1.5e-7): numpy has no erf and
    # scipy is not a dependency.
    x = np.abs(z) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = 1.0 - poly * np.exp(-x * x)
    return 0.5 * (1.0 + np.sign(z) * erf)


class _Mixture:
    """Product-kernel mixture over the group's dimensions: one component per observation + prior."""

    def __init__(self, dims: list[_Dim], points: np.ndarray, weights: np.ndarray, prior_weight: float) -> None:
        self.dims = dims
        self.points = points  # (n, d) formatted values
        count, ndim = points.shape
        all_weights = np.append(weights, prior_weight)
        self.log_weights = np.log(all_weights / all_weights.sum())
        self.count = count
        # Per observation and dimension: the kernel width is the larger gap to its neighbours in
        # that dimension (the classic adaptive Parzen rule, with the bounds as outer neighbours),
        # clipped to [range / min(100, n + 2), range].
        self.sigmas = np.ones((count, ndim))
        self.own = np.empty(ndim)  # categorical: probability of the component's own option
        for j, dim in enumerate(dims):
            if dim.categorical:
                spread = _CATEGORICAL_SMOOTHING * prior_weight * dim.size / (count + 1)
                self.own[j] = (1.0 + spread / max(dim.size, 1)) / (1.0 + spread)
                continue
            if count == 0 or not dim.width > 0:
                continue
            self.sigmas[:, j] = _adaptive_widths(points[:, j], dim, count)
        # Truncation mass of each numeric kernel inside the bounds, per component and dimension.
        self.log_mass = np.zeros((count, ndim))
        for j, dim in enumerate(dims):
            if dim.categorical or not math.isfinite(dim.low):
                continue
            sigma = self.sigmas[:, j]
            mass = _std_normal_cdf((dim.high - points[:, j]) / sigma) - _std_normal_cdf((dim.low - points[:, j]) / sigma)
            self.log_mass[:, j] = np.log(np.maximum(mass, 1e-12))

    def sample(self, count: int, rng: np.random.Generator) -> np.ndarray:
        ndim = len(self.dims)
        probabilities = np.exp(self.log_weights)
        components = rng.choice(self.count + 1, size=count, p=probabilities / probabilities.sum())
        out = np.empty((count, ndim))
        from_prior = components == self.count
        for j, dim in enumerate(self.dims):
            out[from_prior, j] = _prior_draw(dim, int(from_prior.sum()), rng)
            chosen = components[~from_prior]
            if len(chosen) == 0:
                continue
            centers = self.points[chosen, j]
            if dim.categorical:
                keep = rng.random(len(chosen)) < self.own[j]
                other = rng.integers(max(dim.size - 1, 1), size=len(chosen))
                other = np.where(other >= centers, other + 1, other)
                out[~from_prior, j] = np.where(keep | (dim.size <= 1), centers, other)
            else:
                out[~from_prior, j] = _truncated_normal(centers, self.sigmas[chosen, j], dim.low, dim.high, rng)
        for j, dim in enumerate(self.dims):
            if not dim.categorical:
                out[:, j] = dim.snap(out[:, j])
        return out

    def log_pdf(self, x: np.ndarray) -> np.ndarray:
        """Log-density of each row of ``x`` (candidates x dims)."""
        total = np.zeros((len(x), self.count))
        prior = np.zeros(len(x))
        for j, dim in enumerate(self.dims):
            column = x[:, j]
            if dim.categorical:
                size = max(dim.size, 1)
                same = column[:, None] == self.points[None, :, j]
                other = (1.0 - self.own[j]) / max(size - 1, 1)
                total += np.where(same, math.log(self.own[j]), math.log(other) if other > 0 else -1e9)
                prior -= math.log(size)
                continue
            sigma = self.sigmas[:, j]
            z = (column[:, None] - self.points[None, :, j]) / sigma[None, :]
            total += -0.5 * z * z - np.log(sigma)[None, :] - _LOG_SQRT_2PI - self.log_mass[None, :, j]
            prior += _prior_log_pdf(dim, column)
        total += self.log_weights[None, :-1]
        stacked = np.concatenate([total, (prior + self.log_weights[-1])[:, None]], axis=1)
        stacked[~np.isfinite(stacked)] = -np.inf  # e.g. a qlognormal candidate rounded to 0 (log: -inf)
        peak = stacked.max(axis=1)
        peak[~np.isfinite(peak)] = 0.0
        with np.errstate(divide="ignore"):
            return peak + np.log(np.exp(stacked - peak[:, None]).sum(axis=1))


def _adaptive_widths(values: np.ndarray, dim: _Dim, count: int) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    if math.isfinite(dim.low):
        padded = np.concatenate([[dim.low], ordered, [dim.high]])
    else:  # normal family: no bounds; the outermost points look one prior width further out
        padded = np.concatenate([[ordered[0] - dim.width], ordered, [ordered[-1] + dim.width]])
    gaps = np.diff(padded)
    widths = np.maximum(gaps[:-1], gaps[1:])
    if count >= 2:
        # The outermost points take the gap to their inner neighbour only: a gap to a distant bound
        # would make one kernel per dimension nearly as wide as the prior, and in several
        # dimensions that spoils most of the product kernels.
        widths[0] = gaps[1]
        widths[-1] = gaps[-2]
    floor = dim.width / min(100.0, count + 2.0)
    if dim.integer:
        floor = max(floor, 0.5)
    elif dim.spec.q is not None and not dim.spec.log_distributed:
        floor = max(floor, 0.5 * dim.spec.q)
    out = np.empty(count)
    out[order] = np.clip(widths, floor, dim.width)
    return out


def _truncated_normal(centers: np.ndarray, sigma: np.ndarray, low: float, high: float,
                      rng: np.random.Generator) -> np.ndarray:  # fmt: skip
    out = rng.normal(centers, sigma)
    if not math.isfinite(low):
        return out
    # Every center lies inside the bounds, so a redraw lands inside at least a third of the time.
    for _ in range(20):
        outside = (out < low) | (out > high)
        if not outside.any():
            return out
        out[outside] = rng.normal(centers[outside], sigma[outside])
    return np.clip(out, low, high)


def _prior_draw(dim: _Dim, count: int, rng: np.random.Generator) -> np.ndarray:
    spec = dim.spec
    if dim.categorical or dim.integer:
        return rng.integers(max(dim.size, 1), size=count).astype(float)
    if spec.normal_distributed:
        return rng.normal(float(spec.mu or 0.0), float(spec.sigma or 0.0), size=count)
    return rng.uniform(dim.low, dim.high, size=count)


def _prior_log_pdf(dim: _Dim, x: np.ndarray) -> np.ndarray:
    spec = dim.spec
    if spec.normal_distributed:
        sigma = float(spec.sigma or 1.0)
        z = (x - float(spec.mu or 0.0)) / sigma
        return -0.5 * z * z - math.log(sigma) - _LOG_SQRT_2PI
    return np.full(len(x), -math.log(dim.width) if dim.width > 0 else 0.0)


def _weights(count: int, linear_forgetting: int) -> np.ndarray:
    # Oldest first: a ramp up to 1 for all but the newest ``linear_forgetting`` observations.
    if count <= linear_forgetting:
        return np.ones(count)
    ramp = np.linspace(1.0 / count, 1.0, count - linear_forgetting)
    return np.concatenate([ramp, np.ones(linear_forgetting)])


def suggest_group(
    specs: list[ParameterSpec],
    points: np.ndarray,
    losses: np.ndarray,
    args: TpeArguments,
    rng: np.random.Generator,
) -> list[Any]:
    """Suggest formatted values for a group of parameters from its observations.

    Parameters
    ----------
    specs
        The group's parameters.
    points
        Observations, oldest first: one row per trial, one column per parameter, formatted values.
    losses
        Loss of each row (``inf`` for failed trials; lies included).
    args
        TPE settings (``gamma``, ``n_ei_candidates``, ``prior_weight``, ``linear_forgetting``).
    rng
        Source of randomness.

    Returns
    -------
    list
        One formatted value per spec (``int`` for categorical ones).
    """
    dims = [_Dim(spec) for spec in specs]
    count = len(losses)
    finite = int(np.count_nonzero(np.isfinite(losses)))
    # At least a tenth of the observations are "good": NNI's ceil(gamma * sqrt(n)) alone keeps only
    # 3 of 100, and a joint model of several parameters needs more points to place its kernels.
    wanted = max(math.ceil(args.gamma * math.sqrt(count)), math.ceil(_MIN_GOOD_SHARE * count))
    n_good = max(1, min(wanted, args.linear_forgetting, finite))
    order = np.argsort(losses, kind="stable")
    is_good = np.zeros(count, dtype=bool)
    is_good[order[:n_good]] = True
    good = _Mixture(dims, points[is_good], _weights(int(is_good.sum()), args.linear_forgetting), args.prior_weight)
    smooth = not any(dim.categorical for dim in dims)
    # Bad observations: by age (oldest weigh least) with a choice in the group; else by loss rank
    # (the best of them weigh least), so the bad density marks where results are really bad.
    above = order[n_good:] if smooth else np.flatnonzero(~is_good)
    bad = _Mixture(dims, points[above], _weights(len(above), args.linear_forgetting), args.prior_weight)
    n_candidates = args.n_ei_candidates * (_CONTINUOUS_CANDIDATE_FACTOR if smooth else 1)
    candidates = good.sample(n_candidates, rng)
    with np.errstate(invalid="ignore"):
        score = good.log_pdf(candidates) - bad.log_pdf(candidates)
    score[~np.isfinite(score)] = -np.inf  # never prefer a candidate whose densities are undefined
    best = candidates[int(np.argmax(score))]
    return [int(value) if spec.categorical else float(value) for spec, value in zip(specs, best, strict=True)]
