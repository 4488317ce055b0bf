"""Grid search (builtin tuner ``GridSearch``), with NNI's gridding of continuous parameters.

Choices and ``randint`` are enumerated in full. A numerical parameter is gridded in the space of
its prior's cumulative distribution, ``u`` in (0, 1): ``low + (high - low) * u`` for the uniform
family (in log space for log types, so the first point of a ``loguniform`` is the geometric mean)
and the inverse normal CDF for the normal family. The grid is refined in epochs:

* epoch 1 uses ``u = 1/2`` for every numerical parameter;
* each later epoch adds the midpoint of every interval that can still be divided, so the values
  come as 1/2, then 1/4 and 3/4, then 1/8, 3/8, 5/8, 7/8, ... (0 and 1 themselves never: they would
  be infinite for a normal parameter);
* an interval is only divided while its two ends give different final values (after exp,
  q-rounding and clipping), so a space of choices, integers and q-types is finite, and the tuner
  raises :class:`nni.NoMoreTrialError` once it has been given out completely. A space with a
  continuous parameter is refined without end.

Within an epoch the parameter sets are enumerated like an odometer, the last parameter varying
fastest and inactive (nested) parameters left out; sets made only of values of earlier epochs
were given out already and are skipped, and so is any set equal to one given out (or imported)
before, which q-rounding can produce.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator
from statistics import NormalDist
from typing import Any

from nni._errors import NoMoreTrialError
from nni.common.hpo_utils import (
    FormattedParameters,
    FormattedSearchSpace,
    ParameterSpec,
    deformat_parameters,
    deformat_value,
    format_parameters,
    format_search_space,
    validate_search_space,
)
from nni.tuner import Tuner

from .random_tuner import _load_records

__all__ = ["GridSearchTuner"]

_logger = logging.getLogger(__name__)
_STANDARD_NORMAL = NormalDist()


class GridSearchTuner(Tuner):
    """Grid search over every search-space type, continuous ones included.

    Parameters
    ----------
    optimize_mode
        Ignored (grid search does not look at results); accepted for NNI compatibility.

    Examples
    --------
    >>> tuner = GridSearchTuner()
    >>> tuner.update_search_space({
    ...     'x': {'_type': 'choice', '_value': [5, 7]},
    ...     'z': {'_type': 'quniform', '_value': [2, 3, 1]},
    ... })
    >>> [tuner.generate_parameters(i) for i in range(4)]
    [{'x': 5, 'z': 2.0}, {'x': 7, 'z': 2.0}, {'x': 5, 'z': 3.0}, {'x': 7, 'z': 3.0}]
    >>> tuner.generate_parameters(4)
    Traceback (most recent call last):
        ...
    nni._errors.NoMoreTrialError: Search space fully explored
    """

    def __init__(self, optimize_mode: str | None = None) -> None:
        if optimize_mode is not None:
            _logger.info("Ignored optimize_mode %r", optimize_mode)
        self._space: FormattedSearchSpace | None = None
        self._specs: list[ParameterSpec] = []
        self._grid: list[list[float]] = []  # per parameter: option indices, or CDF points
        self._intervals: list[list[tuple[float, float]]] = []  # per numerical parameter: divisible ones
        self._previous_sizes: list[int] = []
        self._epoch = 0
        self._current: Iterator[FormattedParameters] | None = None
        self._exhausted = False
        # Parameter sets given out or imported, as sorted-key JSON; kept across search-space updates.
        self._history: set[str] = set()

    def update_search_space(self, search_space: dict[str, Any]) -> None:
        """Take a (new) search space and restart the grid from its first epoch.

        Parameter sets given out before are still never repeated.

        Raises
        ------
        ValueError
            If the space is empty or invalid.
        """
        if not search_space:
            raise ValueError("Search space is empty")
        validate_search_space(search_space)
        self._space = format_search_space(search_space)
        self._specs = list(self._space.values())
        self._grid = []
        self._intervals = []
        for spec in self._specs:
            if spec.categorical:
                self._grid.append([float(i) for i in range(spec.size or 0)])
                self._intervals.append([])
            else:
                self._grid.append([0.5])
                self._intervals.append(
                    [part for part in ((0.0, 0.5), (0.5, 1.0)) if self._divisible(spec, part)]
                )
        self._previous_sizes = [0] * len(self._specs)
        self._epoch = 1
        self._current = None
        self._exhausted = False
        sizes = " x ".join(str(len(values)) for values in self._grid)
        _logger.info("Grid of the first epoch: (%s) = %d", sizes, math.prod(len(v) for v in self._grid))

    def generate_parameters(self, parameter_id: int, **kwargs: Any) -> dict[str, Any]:
        """Give out the next grid point not given out before.

        Raises
        ------
        nni.NoMoreTrialError
            When the grid cannot be refined any further.
        """
        if self._space is None:
            raise RuntimeError(
                "GridSearchTuner: update_search_space() must be called before generating parameters"
            )
        while not self._exhausted:
            if self._current is None:
                self._current = self._enumerate()
            for formatted in self._current:
                params = deformat_parameters(formatted, self._space)
                text = _dump(params)
                if text not in self._history:
                    self._history.add(text)
                    return params
            self._current = None
            if not self._refine():
                self._exhausted = True
                _logger.info("Search space has been fully explored")
        raise NoMoreTrialError("Search space fully explored")

    def receive_trial_result(self, parameter_id: int, parameters: Any, value: Any, **kwargs: Any) -> None:
        """Ignore a result: grid search does not learn."""

    def import_data(self, data: list[dict[str, Any]] | str) -> None:
        """Remember imported parameter sets so that the grid skips them."""
        for record in _load_records(data):
            parameters = record.get("parameter")
            if not isinstance(parameters, dict):
                continue
            if self._space is not None:
                # Through format/deformat so that 3 and 3.0 (JSON may carry either) compare equal.
                try:
                    parameters = deformat_parameters(format_parameters(parameters, self._space), self._space)
                except ValueError:
                    pass
            self._history.add(_dump(parameters))

    # -- the grid ---------------------------------------------------------------------------------

    def _enumerate(self) -> Iterator[FormattedParameters]:
        # Odometer over the active parameters, last fastest. A set whose every position lies within
        # the previous epoch's grid was given out in that epoch.
        specs, grid, previous = self._specs, self._grid, self._previous_sizes
        count = len(specs)
        params: FormattedParameters = {}

        def walk(depth: int, seen_before: bool) -> Iterator[FormattedParameters]:
            if depth == count:
                if not seen_before:
                    yield dict(params)
                return
            spec = specs[depth]
            if not spec.is_activated_in(params):
                yield from walk(depth + 1, seen_before)
                return
            for position, point in enumerate(grid[depth]):
                params[spec.key] = int(point) if spec.categorical else _internal(spec, point)
                yield from walk(depth + 1, seen_before and position < previous[depth])
            del params[spec.key]

        return walk(0, self._epoch > 1)

    def _refine(self) -> bool:
        """Start the next epoch; ``False`` if no numerical parameter can be refined any more."""
        self._previous_sizes = [len(values) for values in self._grid]
        changed = False
        for index, spec in enumerate(self._specs):
            if spec.categorical or not self._intervals[index]:
                continue
            kept: list[tuple[float, float]] = []
            for left, right in self._intervals[index]:
                middle = (left + right) / 2
                self._grid[index].append(middle)
                changed = True
                kept.extend(part for part in ((left, middle), (middle, right)) if self._divisible(spec, part))
            self._intervals[index] = kept
        if changed:
            self._epoch += 1
            sizes = " x ".join(str(len(values)) for values in self._grid)
            _logger.info("Grid of epoch %d: (%s)", self._epoch, sizes)
        return changed

    @staticmethod
    def _divisible(spec: ParameterSpec, interval: tuple[float, float]) -> bool:
        """Whether splitting ``interval`` (in CDF space) can still give a value not given out yet."""
        left, right = interval
        middle = (left + right) / 2
        if not (left < middle < right) or right - left < _MIN_WIDTH:
            return False
        low_value = deformat_value(spec, _internal(spec, left))
        high_value = deformat_value(spec, _internal(spec, right))
        if low_value == high_value:
            return False  # final values are monotone in u: the whole interval gives this one value
        if left == 0.0 or right == 1.0 or spec.q is None:
            # An end of the range is never a grid point itself, so its value is still to be found;
            # a continuous parameter always has new values inside.
            return True
        # Both ends were given out. NNI kept splitting here as long as the ends differed, which never
        # ends once the two ends are neighbouring multiples of q; only split if one lies between.
        return _multiple_between(low_value, high_value, spec.q)


# Stop splitting intervals narrower than this in CDF space: about 30 epochs deep, far beyond any
# budget, and it keeps an end value that only u = 0 or 1 reaches from being chased forever.
_MIN_WIDTH = 2.0**-30


def _multiple_between(low: float, high: float, q: float) -> bool:
    step = abs(q)
    k = math.floor(low / step + 1e-9) + 1
    return k * step < high - 1e-9 * step


def _internal(spec: ParameterSpec, u: float) -> float:
    """The formatted (internal-space) value at CDF position ``u`` of a numerical parameter."""
    if spec.normal_distributed:
        if u <= 0.0:
            return -math.inf
        if u >= 1.0:
            return math.inf
        return float(spec.mu or 0.0) + float(spec.sigma or 0.0) * _STANDARD_NORMAL.inv_cdf(u)
    low, high = float(spec.low or 0.0), float(spec.high or 0.0)
    return low + (high - low) * u


def _dump(parameters: Any) -> str:
    try:
        return json.dumps(parameters, sort_keys=True)
    except (TypeError, ValueError):
        return repr(parameters)
