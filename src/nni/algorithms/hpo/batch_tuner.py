"""Batch tuner (builtin ``Batch``, alias ``BatchTuner``): run a list of given configurations in order.

The search space has exactly one key, of type ``choice``, whose options are the complete
parameter sets (NNI's ``combine_params`` format)::

    {"combine_params": {"_type": "choice", "_value": [
        {"optimizer": "Adam", "lr": 0.001},
        {"optimizer": "SGD", "lr": 0.01}]}}

Each option is sent as the trial's whole parameter dict (not wrapped in the key), one per request,
in list order; after the last one the tuner raises :class:`nni.NoMoreTrialError`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from nni._errors import NoMoreTrialError
from nni.tuner import Tuner

__all__ = ["BatchTuner"]

_logger = logging.getLogger(__name__)


class BatchTuner(Tuner):
    """Give out a user-written list of parameter sets, one by one.

    Examples
    --------
    >>> tuner = BatchTuner()
    >>> tuner.update_search_space({'combine_params': {'_type': 'choice', '_value': [
    ...     {'optimizer': 'Adam', 'lr': 0.001}, {'optimizer': 'SGD', 'lr': 0.01}]}})
    >>> tuner.generate_parameters(0)
    {'optimizer': 'Adam', 'lr': 0.001}
    >>> tuner.generate_parameters(1)
    {'optimizer': 'SGD', 'lr': 0.01}
    >>> tuner.generate_parameters(2)
    Traceback (most recent call last):
        ...
    nni._errors.NoMoreTrialError: no more parameters now.
    """

    def __init__(self) -> None:
        self._values: list[Any] | None = None
        self._next = 0

    def update_search_space(self, search_space: dict[str, Any]) -> None:
        """Take the list of parameter sets.

        As in NNI, an update replaces the list but not the position in it.

        Raises
        ------
        RuntimeError
            If the space does not have exactly one key, of type ``choice`` with a list of options
            (NNI's error texts, typos included, so that scripts matching them keep working).
        """
        if not isinstance(search_space, dict) or len(search_space) != 1:
            raise RuntimeError("BatchTuner only supprt one combined-paramreters key.")
        spec = next(iter(search_space.values()))
        if not isinstance(spec, dict) or spec.get("_type") != "choice":
            raise RuntimeError("BatchTuner only supprt one combined-paramreters type is choice.")
        values = spec.get("_value")
        if not isinstance(values, list):
            raise RuntimeError("The combined-paramreters value in BatchTuner is not a list.")
        self._values = list(values)

    def generate_parameters(self, parameter_id: int, **kwargs: Any) -> Any:
        """Return the next listed parameter set.

        Raises
        ------
        nni.NoMoreTrialError
            After the last one.
        """
        if self._values is None:
            raise RuntimeError("BatchTuner: update_search_space() must be called before generating parameters")
        if self._next >= len(self._values):
            raise NoMoreTrialError("no more parameters now.")
        value = self._values[self._next]
        self._next += 1
        return value

    def receive_trial_result(self, parameter_id: int, parameters: Any, value: Any, **kwargs: Any) -> None:
        """Ignore a result: the list is fixed."""

    def import_data(self, data: list[dict[str, Any]] | str) -> None:
        """Drop from the list the parameter sets that imported trials already ran.

        The sets given out so far are dropped too, and the list starts over from what is left (as in
        NNI). Unlike NNI, a record whose value is falsy (a metric of ``0``) counts as run as well;
        only records without a value (``None``) are ignored.
        """
        if self._values is None:
            return
        if isinstance(data, (str, bytes)):
            data = json.loads(data)
        records = [json.loads(item) if isinstance(item, (str, bytes)) else item for item in data or []]
        done = [
            record.get("parameter")
            for record in records
            if isinstance(record, dict) and record.get("value") is not None
        ]
        remaining = self._values[self._next :]
        kept = [value for value in remaining if value not in done]
        _logger.info("Imported %d records; %d of %d parameter sets left", len(done), len(kept), len(remaining))
        self._values = kept
        self._next = 0

