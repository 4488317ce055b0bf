"""Medianstop assessor: the median stopping rule (Golovin et al., Google Vizier, 2017).

A trial is stopped at step ``S`` when its best intermediate result so far is worse than the
median, over the trials that completed successfully, of their running averages at step ``S``.
Stdlib only.

Same rule and class args as NNI's ``MedianstopAssessor``; see ``docs/compatibility.md`` for
the differences (non-finite values are skipped instead of poisoning the averages).
"""

from __future__ import annotations

import logging
import math
from typing import Any

from nni.assessor import Assessor, AssessResult

from ._early_stopping_validators import MedianstopClassArgsValidator
from ._scalar_history import scalar_history

__all__ = ["MedianstopAssessor", "MedianstopClassArgsValidator"]

_logger = logging.getLogger(__name__)


class MedianstopAssessor(Assessor):
    """Stop a trial whose best result is worse than the median of completed trials' running averages.

    Parameters
    ----------
    optimize_mode
        ``'maximize'`` (default) or ``'minimize'``; another value logs a warning and maximizes, as
        in NNI.
    start_step
        Judge a trial only once it has reported this many intermediate results.

    Examples
    --------
    >>> assessor = MedianstopAssessor(optimize_mode='maximize', start_step=2)
    >>> assessor.assess_trial('good', [0.5, 0.6, 0.7]); assessor.trial_end('good', True)
    <AssessResult.Good: True>
    >>> assessor.assess_trial('bad', [0.1, 0.2])
    <AssessResult.Bad: False>
    """

    def __init__(self, optimize_mode: str = "maximize", start_step: int = 0) -> None:
        self._start_step = start_step
        if optimize_mode not in ("maximize", "minimize"):
            _logger.warning("unrecognized optimize_mode %r; maximizing", optimize_mode)
            optimize_mode = "maximize"
        self._maximize = optimize_mode == "maximize"
        # trial id -> its intermediate results (numbers) while it runs
        self._running_history: dict[str, list[float]] = {}
        # trial id -> running averages (average of the first k results, k = 1..n) of a finished trial
        self._completed_averages: dict[str, list[float]] = {}

    def assess_trial(self, trial_job_id: str, trial_history: list[Any]) -> AssessResult:
        """Judge a trial from its intermediate results so far.

        Parameters
        ----------
        trial_job_id
            Id of the trial.
        trial_history
            Intermediate results so far (numbers or dicts with ``default``).

        Returns
        -------
        AssessResult
            ``Bad`` when the trial's best result is worse than the median; ``Good`` otherwise (also
            before ``start_step`` and while no trial has completed that far).
        """
        step = len(trial_history)
        if step < self._start_step:
            return AssessResult.Good
        values = scalar_history(trial_history)
        self._running_history[trial_job_id] = values
        finite = [v for v in values if math.isfinite(v)]
        if not finite:
            return AssessResult.Good
        best = max(finite) if self._maximize else min(finite)
        averages = sorted(history[step - 1] for history in self._completed_averages.values()
                          if len(history) >= step and math.isfinite(history[step - 1]))
        if not averages:
            return AssessResult.Good
        count = len(averages)
        # NNI's choice: the lower median when maximizing, the upper one when minimizing
        if self._maximize:
            median = averages[(count - 1) // 2]
            stop = best < median
        else:
            median = averages[count // 2]
            stop = best > median
        if stop:
            _logger.info("trial %s: best %s is worse than the median %s of %d completed trials at step %d",
                         trial_job_id, best, median, count, step)
        return AssessResult.Bad if stop else AssessResult.Good

    def trial_end(self, trial_job_id: str, success: bool) -> None:
        """Remember a successful trial's running averages; forget any other trial.

        Parameters
        ----------
        trial_job_id
            Id of the trial.
        success
            ``True`` if it succeeded; failed and early-stopped trials do not count as completed.
        """
        history = self._running_history.pop(trial_job_id, None)
        if history is None:
            _logger.debug("trial_end: trial %s was never assessed", trial_job_id)
            return
        if success:
            averages: list[float] = []
            total, count = 0.0, 0
            for value in history:
                if math.isfinite(value):
                    total += value
                    count += 1
                averages.append(total / count if count else math.nan)
            self._completed_averages[trial_job_id] = averages
