"""Curvefitting assessor: stop a trial whose extrapolated learning curve cannot beat the best one.

Learning-curve prediction after Domhan et al. (2015); see :mod:`.model_factory` for how the
curve is extrapolated. The metric must grow as the trial gets better (accuracy-like), as in NNI.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from nni.assessor import Assessor, AssessResult

from .._early_stopping_validators import CurvefittingClassArgsValidator
from .._scalar_history import scalar_history
from .model_factory import CurveModel

__all__ = ["CurvefittingAssessor", "CurvefittingClassArgsValidator"]

_logger = logging.getLogger(__name__)

SLOW_PREDICTION_S = 60.0


class CurvefittingAssessor(Assessor):
    """Stop trials whose predicted final value is at most ``threshold`` times the best final value.

    Parameters
    ----------
    epoch_num
        Number of intermediate results a complete trial reports; the curve is predicted there.
    start_step
        Judge a trial only once it has this many intermediate results.
    threshold
        Stop when the prediction is at most ``threshold * best`` (``best`` = best last result among
        the trials that succeeded).
    gap
        Judge a trial again only after this many new results.

    Examples
    --------
    >>> assessor = CurvefittingAssessor(epoch_num=20, start_step=6)
    >>> assessor.assess_trial('t1', [0.1])  # nothing completed yet: keep it
    <AssessResult.Good: True>
    """

    def __init__(self, epoch_num: int = 20, start_step: int = 6, threshold: float = 0.95, gap: int = 1) -> None:
        # imported now (in the dispatcher's thread, before any trial runs), not at the first
        # judgement, which would come late by the import time; a missing scipy also shows here
        import scipy.optimize  # noqa: F401

        if start_step <= 0:
            _logger.warning("start_step should be positive, got %s", start_step)
        self.start_step = start_step
        self.target_pos = epoch_num
        self.threshold = threshold
        self.gap = gap
        # best last intermediate result among trials that succeeded (None until one has)
        self.completed_best_performance: float | None = None
        self._last_histories: dict[Any, list[float]] = {}
        self._last_judged_step: dict[Any, int] = {}

    def trial_end(self, trial_job_id: str, success: bool) -> None:
        """Count a successful trial's last result as a candidate for the best.

        Parameters
        ----------
        trial_job_id
            Id of the trial.
        success
            ``True`` if it succeeded.
        """
        history = self._last_histories.pop(trial_job_id, None)
        self._last_judged_step.pop(trial_job_id, None)
        if not success or not history:
            return
        last = history[-1]
        if math.isfinite(last) and (self.completed_best_performance is None
                                    or last > self.completed_best_performance):
            self.completed_best_performance = last

    def assess_trial(self, trial_job_id: str, trial_history: list[Any]) -> AssessResult:
        """Judge a trial from its intermediate results.

        Parameters
        ----------
        trial_job_id
            Id of the trial.
        trial_history
            Intermediate results so far.

        Returns
        -------
        AssessResult
            ``Bad`` when the predicted value at ``epoch_num`` is at most ``threshold`` times the best
            completed result and no result so far is above that bar; ``Good`` otherwise, including
            whenever no prediction can be made (too few points, curves that disagree).
        """
        values = scalar_history(trial_history)
        self._last_histories[trial_job_id] = values
        step = len(values)
        if self.completed_best_performance is None or step < self.start_step:
            return AssessResult.Good
        last_judged = self._last_judged_step.get(trial_job_id)
        if last_judged is not None and step - last_judged < self.gap:
            return AssessResult.Good
        self._last_judged_step[trial_job_id] = step
        bar = self.threshold * self.completed_best_performance
        if any(math.isfinite(v) and v > bar for v in values):
            return AssessResult.Good  # already as good as the bar: a prediction cannot argue with that
        started = time.monotonic()
        prediction = CurveModel(self.target_pos).predict(values)
        elapsed = time.monotonic() - started
        if elapsed > SLOW_PREDICTION_S:
            _logger.warning("curve prediction of trial %s took %.0f s", trial_job_id, elapsed)
        if prediction is None:
            return AssessResult.Good
        _logger.debug("trial %s: predicted %s at step %d, bar %s", trial_job_id, prediction, self.target_pos, bar)
        return AssessResult.Bad if prediction <= bar else AssessResult.Good
