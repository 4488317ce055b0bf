"""Book-keeping shared by the tuners that learn from a list of scored configurations.

Anneal and Evolution both keep the configurations in flight, turn metrics into losses
(smaller is better, non-finite is worst), take finished and imported results into a history of
their own, and forget failed trials. Subclasses implement ``_add``.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from nni.common.hpo_utils import FormattedParameters
from nni.tuner import Tuner
from nni.utils import OptimizeMode, extract_scalar_reward

from .random_tuner import _load_records, _try_format

_logger = logging.getLogger(__name__)


class ScoredHistoryTuner(Tuner):
    """Base of tuners with ``_lock``, ``_running``, ``_space``, ``_dedup`` and ``optimize_mode``."""

    #: what ``import_data`` logs after taking records in, with the count
    _import_message = 'Imported %d trials'

    def receive_trial_result(self, parameter_id: Any, parameters: Any, value: Any, **kwargs: Any) -> None:
        """Take a finished configuration into the history (a number or a dict with ``"default"``)."""
        loss = self._loss(extract_scalar_reward(value))
        with self._lock:
            formatted = self._running.pop(parameter_id, None)
            if formatted is None and self._space is not None:
                formatted = _try_format({'parameter': parameters}, self._space)
                if formatted is not None and self._dedup is not None:
                    self._dedup.add_history(formatted)
            if formatted is not None:
                self._add(formatted, loss)

    def trial_end(self, parameter_id: Any, success: bool, **kwargs: Any) -> None:
        """Forget a trial that ended (a failed one never joins the history)."""
        with self._lock:
            self._running.pop(parameter_id, None)

    def import_data(self, data: list[dict[str, Any]] | str) -> None:
        """Add earlier trials ``{"parameter": ..., "value": ...}`` to the history."""
        with self._lock:
            if self._space is None or self._dedup is None:
                _logger.warning('import_data before the search space is set: ignored')
                return
            count = 0
            for record in _load_records(data):
                try:
                    loss = self._loss(extract_scalar_reward(record.get('value')))
                except RuntimeError:
                    continue
                formatted = _try_format(record, self._space)
                if formatted is None:
                    continue
                self._dedup.add_history(formatted)
                self._add(formatted, loss)
                self._after_import_record()
                count += 1
            _logger.info(self._import_message, count)

    def _after_import_record(self) -> None:
        """Hook run for every imported record (Evolution shortens its random start)."""

    def _loss(self, metric: float) -> float:
        loss = float(metric) if self.optimize_mode is OptimizeMode.Minimize else -float(metric)
        return loss if math.isfinite(loss) else math.inf

    def _add(self, formatted: FormattedParameters, loss: float) -> None:
        raise NotImplementedError
