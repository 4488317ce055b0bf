"""Deduplication of parameter sets for tuners that sample at random (Random, TPE).

A space with any top-level continuous parameter can (practically) never repeat, so nothing is
recorded for it. Otherwise every parameter set given out is remembered by its JSON form; a repeat is
replaced by the next unseen point of an exhaustive enumeration of the space, and when that runs out
:class:`nni.NoMoreTrialError` tells the tuner the space is fully explored.

The enumeration covers every reachable final value of every discrete parameter (choice, randint,
``quniform``/``qloguniform`` as the finite set of rounded values, ``qnormal``/``qlognormal`` outward
from the mean), so "exhausted" means exactly "every configuration was given out". Continuous
parameters inside nested choices are refined by bisection without end. Stdlib only.
"""

from __future__ import annotations

import json
import logging
import math
from collections import deque
from collections.abc import Callable, Iterator
from statistics import NormalDist

from ..._errors import NoMoreTrialError
from .formatting import (
    FormattedParameters,
    FormattedSearchSpace,
    ParameterSpec,
    deformat_parameters,
)

__all__ = ["Deduplicator"]

_logger = logging.getLogger(__name__)
_STANDARD_NORMAL = NormalDist()


class Deduplicator:
    """Make sure a tuner never gives out the same parameter set twice.

    Parameters
    ----------
    formatted_search_space
        The space from :func:`format_search_space`. Create a new deduplicator when it changes.

    Examples
    --------
    >>> from nni.common.hpo_utils import format_search_space
    >>> dedup = Deduplicator(format_search_space({'x': {'_type': 'choice', '_value': ['a', 'b']}}))
    >>> dedup({('x',): 0})
    {('x',): 0}
    >>> dedup({('x',): 0})  # a repeat is replaced by a set not given out yet
    {('x',): 1}
    >>> dedup({('x',): 0})
    Traceback (most recent call last):
        ...
    nni._errors.NoMoreTrialError: Search space fully explored
    """

    def __init__(self, formatted_search_space: FormattedSearchSpace) -> None:
        self._space = formatted_search_space
        self._never_dup = any(
            _is_continuous(spec) for spec in formatted_search_space.values() if not spec.is_nested()
        )
        self._history: set[str] = set()
        self._grid: _Grid | None = None

    @property
    def can_repeat(self) -> bool:
        """``False`` when the space has a top-level continuous parameter and nothing is tracked."""
        return not self._never_dup

    def is_duplicate(self, formatted_parameters: FormattedParameters) -> bool:
        """Tell whether this parameter set was already given out (or imported); records nothing."""
        if self._never_dup:
            return False
        return self._dump(formatted_parameters) in self._history

    def __call__(self, formatted_parameters: FormattedParameters) -> FormattedParameters:
        """Return ``formatted_parameters`` if new (and remember it), else an unseen replacement.

        Raises
        ------
        nni.NoMoreTrialError
            When every configuration of the space has been given out.
        """
        if self._never_dup:
            return formatted_parameters
        text = self._dump(formatted_parameters)
        if text not in self._history:
            self._history.add(text)
            return formatted_parameters
        _logger.info("Tuning algorithm generated duplicate parameter: %s", text)
        if self._grid is None:
            _logger.info("Use grid search for deduplication.")
            self._grid = _Grid(self._space, self._history, self._dump)
        return self._grid.next_unseen()

    def add_history(self, formatted_parameters: FormattedParameters) -> None:
        """Remember a parameter set given out elsewhere (imported or resumed trials)."""
        if not self._never_dup:
            self._history.add(self._dump(formatted_parameters))

    def _dump(self, formatted_parameters: FormattedParameters) -> str:
        params = deformat_parameters(formatted_parameters, self._space)
        try:
            return json.dumps(params, sort_keys=True)
        except (TypeError, ValueError):
            # Options that JSON cannot sort or encode (mixed key types, objects): repr is still stable.
            return repr(params)


def _is_continuous(spec: ParameterSpec) -> bool:
    if spec.categorical or spec.q is not None:
        return False
    if spec.normal_distributed:
        return (spec.sigma or 0.0) > 0
    return spec.low is not None and spec.high is not None and spec.low < spec.high


class _Axis:
    """The candidate formatted values of one parameter, in the order the grid tries them.

    ``length`` is ``None`` for an endless axis; ``at(i)`` is the i-th candidate, drawn lazily from
    ``values`` (the grid asks for positions in increasing order, so a cache is all it needs).
    """

    def __init__(self, length: int | None, values: Iterator[float | int]) -> None:
        self.length = length
        self._values = values
        self._cache: list[float | int] = []

    def at(self, position: int) -> float | int:
        while len(self._cache) <= position:
            self._cache.append(next(self._values))
        return self._cache[position]


def _bisection(length: int) -> Iterator[int]:
    # Middle first, then the middles of each half, ...: early epochs spread over the whole range.
    pending = deque([(0, length)])
    while pending:
        lo, hi = pending.popleft()
        if lo >= hi:
            continue
        mid = (lo + hi) // 2
        yield mid
        pending.append((lo, mid))
        pending.append((mid + 1, hi))


def _dyadic() -> Iterator[float]:
    # 1/2, 1/4, 3/4, 1/8, 3/8, ...: every point of (0, 1) is approached, the ends are never reached
    # (for normal types they would be infinite).
    denominator = 2
    while True:
        for numerator in range(1, denominator, 2):
            yield numerator / denominator
        denominator *= 2


def _outward(center: int) -> Iterator[int]:
    # center, center + 1, center - 1, center + 2, center - 2, ...
    yield center
    step = 1
    while True:
        yield center + step
        yield center - step
        step += 1


def _axis(spec: ParameterSpec) -> _Axis:
    if spec.categorical:
        return _Axis(spec.size or 0, iter(range(spec.size or 0)))
    if spec.normal_distributed:
        mu, sigma = float(spec.mu or 0.0), float(spec.sigma or 0.0)
        if spec.q is not None:
            return _quantized_normal_axis(spec, mu, sigma)
        if sigma <= 0:
            return _Axis(1, iter([mu]))
        return _Axis(None, (mu + sigma * _STANDARD_NORMAL.inv_cdf(u) for u in _dyadic()))
    if spec.q is not None:
        return _quantized_uniform_axis(spec)
    low, high = float(spec.low or 0.0), float(spec.high or 0.0)
    if not low < high:
        return _Axis(1, iter([low]))
    return _Axis(None, (low + (high - low) * u for u in _dyadic()))


def _quantized_uniform_axis(spec: ParameterSpec) -> _Axis:
    # The final values are clip(k * q) for k from round(low / q) to round(high / q), in original units.
    assert spec.clip is not None and spec.q is not None
    low, high = spec.clip
    q = spec.q
    first, last = round(low / q), round(high / q)
    length = max(last - first + 1, 1)

    def internal(k: int) -> float:
        value = min(max(k * q, low), high)
        return math.log(value) if spec.log_distributed else value

    return _Axis(length, (internal(first + i) for i in _bisection(length)))


def _quantized_normal_axis(spec: ParameterSpec, mu: float, sigma: float) -> _Axis:
    assert spec.q is not None
    q = spec.q
    if spec.log_distributed:
        center = round(math.exp(min(mu, 700.0)) / q)
        # A qlognormal value is k * q with k >= 0 (k = 0 when exp(x) rounds down to 0).
        multiples: Iterator[int] = (k for k in _outward(center) if k >= 0)
        values = (math.log(k * q) if k > 0 else -math.inf for k in multiples)
    else:
        values = (k * q for k in _outward(round(mu / q)))
    if sigma <= 0:
        return _Axis(1, values)
    return _Axis(None, values)


class _Grid:
    """Enumerates a formatted space in epochs of growing per-axis prefixes, skipping seen sets."""

    def __init__(
        self,
        space: FormattedSearchSpace,
        history: set[str],
        dump: Callable[[FormattedParameters], str],
    ) -> None:
        self._specs = list(space.values())
        self._axes = [_axis(spec) for spec in self._specs]
        self._history = history
        self._dump = dump
        self._epoch = 0
        self._prefix = [0] * len(self._specs)
        self._previous = [0] * len(self._specs)
        self._current: Iterator[FormattedParameters] | None = None

    def next_unseen(self) -> FormattedParameters:
        while True:
            if self._current is None:
                if not self._next_epoch():
                    raise NoMoreTrialError()
                self._current = self._enumerate()
            for params in self._current:
                text = self._dump(params)
                if text not in self._history:
                    self._history.add(text)
                    return params
            self._current = None

    def _next_epoch(self) -> bool:
        if self._epoch > 0 and all(
            axis.length is not None and size >= axis.length
            for axis, size in zip(self._axes, self._prefix, strict=True)
        ):
            _logger.info("Search space has been fully explored")
            return False
        self._epoch += 1
        self._previous = list(self._prefix)
        for index, (spec, axis) in enumerate(zip(self._specs, self._axes, strict=True)):
            wanted = axis.length if spec.categorical else 2**self._epoch - 1
            if axis.length is not None:
                wanted = min(wanted or 0, axis.length)
            self._prefix[index] = wanted or 0
        return True

    def _enumerate(self) -> Iterator[FormattedParameters]:
        # Odometer order (last parameter fastest) over active parameters only; sets whose every
        # position was inside the previous epoch's prefixes were produced then and are skipped.
        params: FormattedParameters = {}
        count = len(self._specs)

        def walk(depth: int, old: bool) -> Iterator[FormattedParameters]:
            if depth == count:
                if not old:
                    yield dict(params)
                return
            spec = self._specs[depth]
            if not spec.is_activated_in(params):
                yield from walk(depth + 1, old)
                return
            for position in range(self._prefix[depth]):
                params[spec.key] = self._axes[depth].at(position)
                yield from walk(depth + 1, old and position < self._previous[depth])
            params.pop(spec.key, None)

        return walk(0, self._epoch > 1)
