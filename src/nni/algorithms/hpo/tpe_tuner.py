"""Tree-structured Parzen Estimator (builtin tuner ``TPE``).

Bergstra et al., "Algorithms for Hyper-Parameter Optimization" (NIPS 2011). In NNI's form (here
``multivariate=False``) each parameter of the flattened search space is modelled on its own: the
observations of that parameter are split into a
"good" group (the lowest losses) and a "bad" group, each group becomes a density (adaptive Parzen
estimator for numbers, smoothed histogram for categories), and the next value is the candidate,
drawn from the good density, with the highest good/bad density ratio (expected improvement).

Parallel trials: while some trials have no result yet, their parameters are added to the history
with a made-up loss (the "constant liar"), so each suggestion is made from a model that already
accounts for the pending ones instead of repeating the previous suggestion's reasoning.

Differences from NNI's TPE, all deliberate (benchmarks/search_quality.py measured them):

* by default the parameters that are active together are modelled jointly
  (``tpe_args={"multivariate": True}``, see :mod:`._tpe_joint`): ``randint`` is treated as ordered,
  q-types are rounded before candidates are scored, and the "good" group holds at least a tenth of
  the observations. A group without ``choice`` parameters scores ``3 * n_ei_candidates`` candidates
  and weighs its "bad" observations by loss rank, to refine around the best points on smooth
  spaces. ``{"multivariate": False}`` gives NNI's independent per-parameter model;
* ``n_startup_jobs`` defaults to 10 (NNI: 20);
* failed (or early-stopped) trials are recorded with an infinitely bad loss, so they only ever
  count as "bad" observations and steer suggestions away from where trials fail;
* only real results count towards ``n_startup_jobs`` (lies do not shorten the random warm-up);
* linear forgetting down-weights the *oldest* observations (NNI applied the ramp in loss order);
* a repeated result for a parameter id replaces the earlier one instead of raising ``KeyError``,
  and a result for an unknown id is learned from the parameters it came with;
* ``constant_liar_type`` may also be the string ``'none'``, and its default is ``'worst'``
  (NNI: ``'best'``, which makes parallel suggestions bunch up around the running trials).
"""

from __future__ import annotations

import json
import logging
import math
import threading
from itertools import islice
from typing import Any, NamedTuple

import numpy as np

from nni.common.hpo_utils import (
    Deduplicator,
    FormattedParameters,
    FormattedSearchSpace,
    ParameterKey,
    ParameterSpec,
    deformat_parameters,
    format_search_space,
    sample_parameters,
    sample_spec,
    validate_search_space,
)
from nni.tuner import Tuner
from nni.utils import OptimizeMode, extract_scalar_reward

from ._tpe_joint import suggest_group
from .random_tuner import _load_records, _try_format, make_rng
from .validators import TpeArguments, TpeClassArgsValidator, _check_arguments

__all__ = ["TpeArguments", "TpeClassArgsValidator", "TpeTuner"]

_logger = logging.getLogger(__name__)

# How many times a repeated parameter set is re-suggested (TPE, then random draws) before the
# deduplicator's exhaustive enumeration takes over.
_TPE_RETRIES = 4
_RANDOM_RETRIES = 32
_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
_FAILED_LOSS = math.inf


class _KeyHistory:
    """Observations of one parameter, oldest first: (formatted value, loss, parameter id)."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.losses: list[float] = []
        self.ids: list[Any] = []
        self._arrays: tuple[np.ndarray, np.ndarray] | None = None

    def add(self, param_id: Any, value: float, loss: float) -> None:
        self.values.append(float(value))
        self.losses.append(loss)
        self.ids.append(param_id)
        self._arrays = None

    def replace(self, param_id: Any, loss: float) -> None:
        for index, known in enumerate(self.ids):
            if known == param_id:
                self.losses[index] = loss
        self._arrays = None

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        # Cached: suggesting reads every history each time, observations arrive far less often.
        if self._arrays is None:
            self._arrays = (np.asarray(self.values, dtype=float), np.asarray(self.losses, dtype=float))
        return self._arrays


class _Liar:
    """Keeps the statistics of real losses that the constant liar needs."""

    def __init__(self, kind: str | None) -> None:
        self.kind = kind
        self._count = 0
        self._sum = 0.0
        self._best = math.inf
        self._worst = -math.inf

    def observe(self, loss: float) -> None:
        if math.isfinite(loss):
            self._count += 1
            self._sum += loss
            self._best = min(self._best, loss)
            self._worst = max(self._worst, loss)

    def lie(self) -> float:
        if self._count == 0:
            return 0.0
        if self.kind == "best":
            return self._best
        if self.kind == "worst":
            return self._worst
        return self._sum / self._count


class _Unique:
    """Stand-in id of an imported observation; equal only to itself."""


class TpeTuner(Tuner):
    """Tree-structured Parzen Estimator tuner.

    Parameters
    ----------
    optimize_mode
        ``'minimize'`` (default) or ``'maximize'`` the trials' metric.
    seed
        Seed of the random generator; ``None`` draws one and logs it. With the same seed and the same
        sequence of calls, the same parameters come out.
    tpe_args
        Fields of :class:`TpeArguments` to change.

    Raises
    ------
    ValueError
        If ``optimize_mode`` or a ``tpe_args`` value is invalid.
    TypeError
        If ``tpe_args`` has an unknown field.

    Examples
    --------
    >>> tuner = TpeTuner(optimize_mode='maximize', seed=1)
    >>> tuner.update_search_space({'x': {'_type': 'uniform', '_value': [0, 1]}})
    >>> for i in range(30):
    ...     params = tuner.generate_parameters(i)
    ...     tuner.receive_trial_result(i, params, -(params['x'] - 0.3) ** 2)
    >>> 0 <= tuner.generate_parameters(30)['x'] <= 1
    True
    """

    def __init__(
        self,
        optimize_mode: str = "minimize",
        seed: int | None = None,
        tpe_args: dict[str, Any] | None = None,
    ) -> None:
        self.optimize_mode = OptimizeMode(optimize_mode)
        self.args = _check_arguments(TpeArguments(**(tpe_args or {})))
        self._rng = make_rng(seed)
        self._space: FormattedSearchSpace | None = None
        self._dedup: Deduplicator | None = None
        self._liar = _Liar(self.args.constant_liar_type)
        self._params: dict[Any, FormattedParameters] = {}  # every generated set, by parameter id
        self._running: dict[Any, FormattedParameters] = {}  # generated, no result and not ended yet
        self._finished: dict[Any, float] = {}  # ids whose loss is in the history
        self._observed: dict[Any, FormattedParameters] = {}  # parameters of the ids in _finished
        # Per parameter group (tuple of keys): rows of _finished already turned into arrays.
        self._rows: dict[tuple[ParameterKey, ...], tuple[int, np.ndarray, np.ndarray]] = {}
        self._history: dict[ParameterKey, _KeyHistory] = {}
        self._pending_import: list[dict[str, Any]] = []
        # trial_end() comes from the dispatcher's assessor thread, the rest from its main thread.
        self._lock = threading.RLock()

    # -- Tuner interface ---------------------------------------------------------------------------

    def update_search_space(self, search_space: dict[str, Any]) -> None:
        """Take a (new) search space.

        The history of every parameter whose key path exists in both spaces is kept; new parameters
        start with a random warm-up.

        Raises
        ------
        ValueError
            If the search space is invalid; the message names the parameter.
        """
        validate_search_space(search_space)
        with self._lock:
            self._space = format_search_space(search_space)
            self._dedup = Deduplicator(self._space)
            pending, self._pending_import = self._pending_import, []
        if pending:
            self.import_data(pending)

    def generate_parameters(self, parameter_id: Any, **kwargs: Any) -> dict[str, Any]:
        """Suggest a parameter set, in the user's nested format.

        Raises
        ------
        nni.NoMoreTrialError
            When every configuration of a finite space has been given out.
        """
        with self._lock:
            if self._space is None or self._dedup is None:
                raise RuntimeError(
                    "TpeTuner: update_search_space() must be called before generating parameters"
                )
            space, dedup = self._space, self._dedup
            histories = None if self.args.multivariate else self._histories(space)
            params = self._suggest(space, histories)
            if dedup.can_repeat and dedup.is_duplicate(params):
                params = self._redraw(space, histories, dedup)
            params = dedup(params)
            self._params[parameter_id] = params
            self._running[parameter_id] = params
            return deformat_parameters(params, space)

    def receive_trial_result(self, parameter_id: Any, parameters: Any, value: Any, **kwargs: Any) -> None:
        """Learn from a trial's final result (a number or a dict with ``"default"``)."""
        loss = self._loss(extract_scalar_reward(value))
        with self._lock:
            formatted = self._params.get(parameter_id)
            if formatted is None:
                # Not generated by this tuner instance (customized or resumed trial): learn from the
                # parameters the result came with.
                formatted = self._format(parameters)
                if formatted is None:
                    return
                if self._dedup is not None:
                    self._dedup.add_history(formatted)
                if parameter_id is None:
                    parameter_id = _Unique()
                self._params[parameter_id] = formatted
            self._running.pop(parameter_id, None)
            self._liar.observe(loss)
            self._record(parameter_id, formatted, loss)

    def trial_end(self, parameter_id: Any, success: bool, **kwargs: Any) -> None:
        """Forget a stopped trial's lie; a failed trial without result counts as a very bad one."""
        with self._lock:
            formatted = self._running.pop(parameter_id, None)
            if not success and formatted is not None and parameter_id not in self._finished:
                self._record(parameter_id, formatted, _FAILED_LOSS)

    def import_data(self, data: list[dict[str, Any]] | str) -> None:
        """Learn from earlier trials: records ``{"parameter": ..., "value": ...}`` (or their JSON).

        Records that arrive before the search space are kept and replayed once it is set.
        """
        records = _load_records(data)
        with self._lock:
            if self._space is None or self._dedup is None:
                self._pending_import.extend(records)
                return
            replayed = 0
            for record in records:
                value = record.get("value")
                if isinstance(value, (str, bytes)):
                    try:
                        value = json.loads(value)
                    except ValueError:
                        pass
                try:
                    loss = self._loss(extract_scalar_reward(value))
                except RuntimeError:
                    _logger.warning("Imported record has no usable value, skipped: %r", record)
                    continue
                formatted = _try_format(record, self._space)
                if formatted is None:
                    continue
                self._dedup.add_history(formatted)
                self._liar.observe(loss)
                self._record(_Unique(), formatted, loss)
                replayed += 1
            _logger.info("Replayed %d FINISHED trials", replayed)

    # -- history -----------------------------------------------------------------------------------

    def _loss(self, metric: float) -> float:
        loss = float(metric) if self.optimize_mode is OptimizeMode.Minimize else -float(metric)
        # A NaN or infinite metric says nothing useful about where the optimum is: treat as failed.
        return loss if math.isfinite(loss) else _FAILED_LOSS

    def _format(self, parameters: Any) -> FormattedParameters | None:
        if self._space is None:
            return None
        return _try_format({"parameter": parameters}, self._space)

    def _record(self, parameter_id: Any, formatted: FormattedParameters, loss: float) -> None:
        if parameter_id in self._finished:
            self._rows.clear()  # a loss changed in the middle: rebuild the arrays
            for key in formatted:
                if key in self._history:
                    self._history[key].replace(parameter_id, loss)
        else:
            for key, value in formatted.items():
                self._history.setdefault(key, _KeyHistory()).add(parameter_id, value, loss)
        self._finished[parameter_id] = loss
        self._observed.setdefault(parameter_id, formatted)

    def _histories(
        self, space: FormattedSearchSpace
    ) -> dict[ParameterKey, tuple[np.ndarray, np.ndarray, int]]:
        """Per key: (values, losses, number of real successful results), lies appended last."""
        lies: dict[ParameterKey, list[float]] = {}
        if self._liar.kind is not None:
            for params in self._running.values():
                for key, value in params.items():
                    lies.setdefault(key, []).append(value)
        lie = self._liar.lie()
        result = {}
        for key, spec in space.items():
            history = self._history.get(key)
            if history is not None:
                values, losses = history.arrays()
            else:
                values = losses = np.empty(0)
            real = int(np.count_nonzero(np.isfinite(losses)))
            if key in lies:
                values = np.concatenate([values, np.asarray(lies[key], dtype=float)])
                losses = np.concatenate([losses, np.full(len(lies[key]), lie)])
            values, losses = _fit_to_spec(spec, values, losses)
            result[key] = (values, losses, real)
        return result

    # -- suggestion --------------------------------------------------------------------------------

    def _suggest(
        self,
        space: FormattedSearchSpace,
        histories: dict[ParameterKey, tuple[np.ndarray, np.ndarray, int]] | None,
    ) -> FormattedParameters:
        if histories is None:
            return self._suggest_jointly(space)
        params: FormattedParameters = {}
        for key, spec in space.items():
            if spec.is_activated_in(params):
                values, losses, real = histories[key]
                if real < self.args.n_startup_jobs or len(values) == 0:
                    params[key] = sample_spec(spec, self._rng)
                else:
                    params[key] = self._suggest_one(spec, values, losses)
        return params

    def _suggest_jointly(self, space: FormattedSearchSpace) -> FormattedParameters:
        # Groups of parameters active together, parents' groups first; each is modelled jointly
        # from the trials in which it was active (see _tpe_joint).
        lies: list[FormattedParameters] = []
        lie = 0.0
        if self._liar.kind is not None and self._running:
            lie = self._liar.lie()
            lies = list(self._running.values())
        params: FormattedParameters = {}
        for condition, specs in _groups(space):
            if condition and params.get(condition[:-1]) != condition[-1]:
                continue
            keys = tuple(spec.key for spec in specs)
            points, losses = self._group_rows(keys)
            real = int(np.count_nonzero(np.isfinite(losses) & _fits(specs, points)))
            pending = [[p[key] for key in keys] for p in lies if all(key in p for key in keys)]
            if pending:
                points = np.concatenate([points, np.asarray(pending, dtype=float)])
                losses = np.concatenate([losses, np.full(len(pending), lie)])
            keep = _fits(specs, points)
            points, losses = _clip_to_specs(specs, points[keep]), losses[keep]
            if real < self.args.n_startup_jobs or real == 0:
                for spec in specs:
                    params[spec.key] = sample_spec(spec, self._rng)
            else:
                for spec, value in zip(specs, suggest_group(specs, points, losses, self.args, self._rng), strict=True):
                    params[spec.key] = value
        return params

    def _group_rows(self, keys: tuple[ParameterKey, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Values (one row per finished trial in which the group was active) and losses, oldest first."""
        done, points, losses = self._rows.get(keys, (0, np.empty((0, len(keys))), np.empty(0)))
        if done < len(self._finished):
            new_points, new_losses = [], []
            for parameter_id, loss in islice(self._finished.items(), done, None):
                formatted = self._observed[parameter_id]
                if all(key in formatted for key in keys):
                    new_points.append([formatted[key] for key in keys])
                    new_losses.append(loss)
            if new_points:
                points = np.concatenate([points, np.asarray(new_points, dtype=float)])
                losses = np.concatenate([losses, np.asarray(new_losses, dtype=float)])
            self._rows[keys] = (len(self._finished), points, losses)
        return points, losses

    def _redraw(
        self,
        space: FormattedSearchSpace,
        histories: dict[ParameterKey, tuple[np.ndarray, np.ndarray, int]] | None,
        dedup: Deduplicator,
    ) -> FormattedParameters:
        # TPE's own candidates first (they are random too), then plain random draws; whatever is
        # still a repeat is replaced by the deduplicator's enumeration.
        params: FormattedParameters = {}
        for _ in range(_TPE_RETRIES):
            params = self._suggest(space, histories)
            if not dedup.is_duplicate(params):
                return params
        for _ in range(_RANDOM_RETRIES):
            params = sample_parameters(space, self._rng)
            if not dedup.is_duplicate(params):
                return params
        return params

    def _suggest_one(self, spec: ParameterSpec, values: np.ndarray, losses: np.ndarray) -> float | int:
        args = self.args
        count = len(values)
        finite = int(np.count_nonzero(np.isfinite(losses)))
        n_below = min(math.ceil(args.gamma * math.sqrt(count)), args.linear_forgetting, finite)
        is_below = np.zeros(count, dtype=bool)
        is_below[np.argsort(losses, kind="stable")[:n_below]] = True
        is_above = ~is_below
        # Masked assignment walks the observations in chronological order, so in each group the
        # forgetting ramp hits the oldest ones.
        weights = np.empty(count)
        weights[is_below] = _forgetting_weights(n_below, args.linear_forgetting)
        weights[is_above] = _forgetting_weights(count - n_below, args.linear_forgetting)
        if spec.categorical:
            return self._suggest_categorical(int(spec.size or 0), values, weights, is_below, is_above)
        return self._suggest_numeric(spec, values, weights, is_below, is_above)

    def _suggest_categorical(
        self, size: int, values: np.ndarray, weights: np.ndarray, is_below: np.ndarray, is_above: np.ndarray
    ) -> int:
        prior = self.args.prior_weight
        indices = values.astype(np.intp)
        p_below = np.bincount(indices[is_below], weights[is_below], minlength=size) + prior
        p_above = np.bincount(indices[is_above], weights[is_above], minlength=size) + prior
        cumulative = np.cumsum(p_below)
        draws = np.searchsorted(
            cumulative, self._rng.random(self.args.n_ei_candidates) * cumulative[-1], "right"
        )
        candidates = np.minimum(draws, size - 1)
        # Normalising constants do not change the argmax.
        score = np.log(p_below[candidates]) - np.log(p_above[candidates])
        return int(candidates[int(np.argmax(score))])

    def _suggest_numeric(
        self,
        spec: ParameterSpec,
        values: np.ndarray,
        weights: np.ndarray,
        is_below: np.ndarray,
        is_above: np.ndarray,
    ) -> float:
        if spec.normal_distributed:
            prior_mu, prior_sigma = float(spec.mu or 0.0), float(spec.sigma or 0.0)
            bounds = None
        else:
            low, high = float(spec.low or 0.0), float(spec.high or 0.0)
            prior_mu, prior_sigma = (low + high) / 2, high - low
            bounds = (low, high)
        if not prior_sigma > 0:
            return prior_mu  # a single possible value
        # One sort by value serves both groups (stable: equal values stay chronological).
        by_value = np.argsort(values, kind="stable")
        below = by_value[is_below[by_value]]
        above = by_value[is_above[by_value]]
        prior = self.args.prior_weight
        good = _parzen(values[below], weights[below], prior_mu, prior_sigma, prior)
        bad = _parzen(values[above], weights[above], prior_mu, prior_sigma, prior)
        candidates = _sample_mixture(good, bounds, self.args.n_ei_candidates, self._rng)
        # The truncation to bounds rescales each mixture by a constant, which cannot change the argmax.
        score = _mixture_logpdf(candidates, good) - _mixture_logpdf(candidates, bad)
        return float(candidates[int(np.argmax(score))])


def _groups(space: FormattedSearchSpace) -> list[tuple[ParameterKey, list[ParameterSpec]]]:
    """Parameters grouped by the option that activates them (``()`` for the top level), in order."""
    groups: dict[ParameterKey, list[ParameterSpec]] = {}
    for key, spec in space.items():
        groups.setdefault(key[:-1] if spec.is_nested() else (), []).append(spec)
    return list(groups.items())


def _fits(specs: list[ParameterSpec], points: np.ndarray) -> np.ndarray:
    """Rows whose values this group's specs can hold (history may predate a space update)."""
    keep = np.ones(len(points), dtype=bool)
    for j, spec in enumerate(specs):
        column = points[:, j]
        if spec.categorical:
            keep &= (column >= 0) & (column < (spec.size or 0)) & (column == np.floor(column))
        else:
            keep &= np.isfinite(column)
    return keep


def _clip_to_specs(specs: list[ParameterSpec], points: np.ndarray) -> np.ndarray:
    # Imported values may lie outside the bounds; the kernels must not.
    for j, spec in enumerate(specs):
        if not spec.categorical and not spec.normal_distributed and spec.low is not None and spec.high is not None:
            points[:, j] = np.clip(points[:, j], spec.low, spec.high)
    return points


def _fit_to_spec(
    spec: ParameterSpec, values: np.ndarray, losses: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    # History may predate a search-space update or come from import: drop values this spec cannot
    # hold, and pull bounded values inside the bounds.
    if len(values) == 0:
        return values, losses
    if spec.categorical:
        keep = (values >= 0) & (values < (spec.size or 0)) & (values == np.floor(values))
    else:
        keep = np.isfinite(values)
    if not keep.all():
        values, losses = values[keep], losses[keep]
    if (
        not spec.categorical
        and not spec.normal_distributed
        and spec.low is not None
        and spec.high is not None
    ):
        values = np.clip(values, spec.low, spec.high)
    return values, losses


def _forgetting_weights(count: int, linear_forgetting: int) -> np.ndarray:
    """Weights of ``count`` observations, oldest first: a ramp up to 1 for all but the newest ones."""
    if count <= linear_forgetting:
        return np.ones(count)
    ramp_length = count - linear_forgetting
    ramp = 1.0 / count + (1.0 - 1.0 / count) * (np.arange(ramp_length) / max(ramp_length - 1, 1))
    return np.concatenate([ramp, np.ones(linear_forgetting)])


class _Mixture(NamedTuple):
    """A 1-D mixture of normals: sorted means, standard deviations, normalised weights."""

    mus: np.ndarray
    sigmas: np.ndarray
    weights: np.ndarray


def _parzen(
    sorted_observations: np.ndarray,
    weights: np.ndarray,
    prior_mu: float,
    prior_sigma: float,
    prior_weight: float,
) -> _Mixture:
    """Adaptive Parzen estimator: one normal per observation plus one for the prior.

    Each observation's bandwidth is the larger gap to its sorted neighbours, clipped so that no
    kernel is wider than the prior nor narrower than ``prior_sigma / min(100, n + 1)``.
    """
    # The prior goes before observations equal to it.
    position = int(np.searchsorted(sorted_observations, prior_mu, side="left"))
    mus = np.concatenate([sorted_observations[:position], [prior_mu], sorted_observations[position:]])
    all_weights = np.concatenate([weights[:position], [prior_weight], weights[position:]])
    count = len(mus)
    if count == 1:
        sigmas = np.array([prior_sigma])
    elif count == 2:
        sigmas = np.full(2, prior_sigma / 2)
    else:
        gaps = np.diff(mus)
        sigmas = np.empty(count)
        sigmas[0] = gaps[0]
        sigmas[-1] = gaps[-1]
        np.maximum(gaps[:-1], gaps[1:], out=sigmas[1:-1])
    sigmas[position] = prior_sigma
    np.clip(sigmas, prior_sigma / min(100.0, count + 1.0), prior_sigma, out=sigmas)
    return _Mixture(mus, sigmas, all_weights / all_weights.sum())


def _sample_mixture(
    mixture: _Mixture, bounds: tuple[float, float] | None, count: int, rng: np.random.Generator
) -> np.ndarray:
    """Draw ``count`` points from the mixture, restricted to ``bounds`` by rejection."""
    mus, sigmas = mixture.mus, mixture.sigmas
    cumulative = np.cumsum(mixture.weights)
    accepted: list[np.ndarray] = []
    found = 0
    # Every kernel is centred inside the bounds and no wider than them, so at least about a third of
    # the draws land inside; the loop almost never runs more than twice.
    for _ in range(100):
        size = max(2 * (count - found), 8)
        components = np.minimum(
            np.searchsorted(cumulative, rng.random(size) * cumulative[-1], "right"), len(mus) - 1
        )
        draws = rng.normal(mus[components], sigmas[components])
        if bounds is not None:
            draws = draws[(draws >= bounds[0]) & (draws <= bounds[1])]
        accepted.append(draws)
        found += len(draws)
        if found >= count:
            return np.concatenate(accepted)[:count]
    assert bounds is not None
    padding = np.clip(rng.normal(mus[:1], sigmas[:1], size=count - found), *bounds)
    return np.concatenate([*accepted, padding])


def _mixture_logpdf(points: np.ndarray, mixture: _Mixture) -> np.ndarray:
    """Log-density of a mixture of normals at each point (log-sum-exp over the components).

    Only terms within ``exp(-36)`` of each row's largest term are exponentiated: the rest cannot
    change a float64 sum, and exponentiating very negative numbers is slow.
    """
    inverse = 1.0 / mixture.sigmas
    z = np.multiply.outer(points, inverse)
    z -= mixture.mus * inverse
    z *= z
    z *= -0.5
    z += np.log(mixture.weights * inverse)
    peak = z.max(axis=1)
    z -= peak[:, None]
    rows, columns = np.nonzero(z > -36.0)
    total = np.bincount(rows, np.exp(z[rows, columns]), minlength=len(points))
    return peak + np.log(total) - _LOG_SQRT_2PI
