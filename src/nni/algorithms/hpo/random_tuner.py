"""Random search (builtin tuner ``Random``).

Every parameter is drawn from its prior: a uniform index for ``choice``/``randint``, ``uniform``
(in log space for log types) or ``normal`` draws, then exp / q-rounding / clipping as the search
space says. Parameter sets are never repeated; once a finite space is used up the tuner raises
:class:`nni.NoMoreTrialError`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np

from nni.common.hpo_utils import (
    Deduplicator,
    FormattedParameters,
    FormattedSearchSpace,
    deformat_parameters,
    format_parameters,
    format_search_space,
    sample_parameters,
    validate_search_space,
)
from nni.tuner import Tuner

from .validators import RandomClassArgsValidator

__all__ = ["RandomClassArgsValidator", "RandomTuner", "prefer_new", "suggest"]

_logger = logging.getLogger(__name__)

# Before handing a repeated set to the deduplicator's exhaustive enumeration, try fresh draws: in a
# large finite space the first repeat comes early (birthday paradox) and the enumeration is ordered.
_REDRAWS = 32


def make_rng(seed: int | None) -> np.random.Generator:
    """Return ``default_rng(seed)``, drawing and logging a seed when none is given."""
    if seed is None:
        seed = int(np.random.default_rng().integers(2**31))
        _logger.info("Using random seed %d", seed)
    return np.random.default_rng(seed)


def suggest(rng: np.random.Generator, space: FormattedSearchSpace) -> FormattedParameters:
    """Draw one parameter set of a formatted search space from its prior (NNI's ``random_tuner.suggest``).

    Parameters
    ----------
    rng
        The generator to draw with.
    space
        A space from :func:`nni.common.hpo_utils.format_search_space`.

    Returns
    -------
    FormattedParameters
        The draw, in the formatted form (:func:`~nni.common.hpo_utils.deformat_parameters` gives the
        user's form).
    """
    return sample_parameters(space, rng)


def prefer_new(dedup: Deduplicator, params: FormattedParameters) -> FormattedParameters:
    """``dedup(params)``, except that a used-up finite space gives ``params`` again instead of raising.

    For the tuners that NNI lets repeat a configuration (Anneal, Evolution, ``HyperoptTuner``):
    they avoid repeats while new configurations are left and keep suggesting after that.
    """
    from nni import NoMoreTrialError

    try:
        return dedup(params)
    except NoMoreTrialError:
        return params


class RandomTuner(Tuner):
    """Random search.

    Parameters
    ----------
    optimize_mode
        Ignored (random search does not look at results); accepted so configs can set it.
    seed
        Seed of the random generator; runs with the same seed and the same calls give the same
        parameters. ``None`` draws one and logs it.

    Examples
    --------
    >>> tuner = RandomTuner(seed=0)
    >>> tuner.update_search_space({'x': {'_type': 'choice', '_value': ['a', 'b']}})
    >>> sorted(tuner.generate_parameters(i)['x'] for i in range(2))
    ['a', 'b']
    """

    def __init__(self, optimize_mode: str | None = None, seed: int | None = None) -> None:
        if optimize_mode is not None:
            _logger.info("Ignored optimize_mode %r", optimize_mode)
        self._rng = make_rng(seed)
        self._space: FormattedSearchSpace | None = None
        self._dedup: Deduplicator | None = None

    def update_search_space(self, search_space: dict[str, Any]) -> None:
        """Take a (new) search space; later parameters are drawn from it only.

        Raises
        ------
        ValueError
            If the search space is invalid; the message names the parameter.
        """
        validate_search_space(search_space)
        self._space = format_search_space(search_space)
        self._dedup = Deduplicator(self._space)

    def generate_parameters(self, parameter_id: int, **kwargs: Any) -> dict[str, Any]:
        """Draw a parameter set not given out before.

        Raises
        ------
        nni.NoMoreTrialError
            When every configuration of a finite space has been given out.
        """
        if self._space is None or self._dedup is None:
            raise RuntimeError(
                "RandomTuner: update_search_space() must be called before generating parameters"
            )
        params = sample_parameters(self._space, self._rng)
        if self._dedup.can_repeat:
            for _ in range(_REDRAWS):
                if not self._dedup.is_duplicate(params):
                    break
                params = sample_parameters(self._space, self._rng)
        params = self._dedup(params)
        return deformat_parameters(params, self._space)

    def receive_trial_result(self, parameter_id: int, parameters: Any, value: Any, **kwargs: Any) -> None:
        """Ignore a result: random search does not learn."""

    def import_data(self, data: list[dict[str, Any]] | str) -> None:
        """Remember imported parameter sets so that they are not given out again."""
        if self._space is None or self._dedup is None:
            return
        for item in _load_records(data):
            formatted = _try_format(item, self._space)
            if formatted is not None:
                self._dedup.add_history(formatted)


def _load_records(data: Any) -> list[dict[str, Any]]:
    # Records may come as one JSON text, or as a list of dicts or JSON texts.
    if isinstance(data, (str, bytes)):
        data = json.loads(data)
    records = []
    for item in data or []:
        if isinstance(item, (str, bytes)):
            item = json.loads(item)
        if isinstance(item, dict):
            records.append(item)
    return records


def _try_format(item: dict[str, Any], space: FormattedSearchSpace) -> FormattedParameters | None:
    parameters = item.get("parameter")
    if not isinstance(parameters, dict):
        _logger.warning("Imported record has no parameter dict, skipped: %r", item)
        return None
    try:
        return format_parameters(parameters, space)
    except ValueError as error:
        _logger.warning("Imported parameters do not fit the search space, skipped: %s", error)
        return None


