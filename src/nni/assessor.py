"""Base class of assessors (early-stopping algorithms), ``nni.assessor``.

Stdlib only. An assessor written for NNI subclasses :class:`Assessor` and runs here unchanged.
"""

from __future__ import annotations

import logging
from enum import Enum
from typing import Any

from .recoverable import Recoverable

__all__ = ["AssessResult", "Assessor"]

_logger = logging.getLogger("nni.assessor")


class AssessResult(Enum):
    """Decision of :meth:`Assessor.assess_trial`: keep the trial running (``Good``) or stop it (``Bad``)."""

    Good = True
    Bad = False


class Assessor(Recoverable):
    """Base class of assessors, which decide from intermediate results whether a trial should stop.

    Examples
    --------
    >>> class StopBelowZero(Assessor):
    ...     def assess_trial(self, trial_job_id, trial_history):
    ...         return AssessResult.Bad if trial_history[-1] < 0 else AssessResult.Good
    >>> StopBelowZero().assess_trial('trial1', [0.5, -1])
    <AssessResult.Bad: False>
    """

    def assess_trial(self, trial_job_id: str, trial_history: list[Any]) -> AssessResult:
        """Decide whether a trial should go on.

        Parameters
        ----------
        trial_job_id
            Id of the trial job.
        trial_history
            The trial's intermediate results so far, oldest first; never empty. Items are numbers or
            dicts with a ``"default"`` entry (see :func:`nni.utils.extract_scalar_history`).

        Returns
        -------
        AssessResult
            ``AssessResult.Bad`` to stop the trial. ``True``/``False`` are accepted too.
        """
        raise NotImplementedError("Assessor: assess_trial not implemented")

    def trial_end(self, trial_job_id: str, success: bool) -> None:
        """Be told that a trial that had intermediate results stopped; does nothing by default.

        Parameters
        ----------
        trial_job_id
            Id of the trial job.
        success
            ``True`` if the trial succeeded.
        """

    def load_checkpoint(self) -> None:
        """Load the assessor's state when the experiment resumes; ignored by default."""
        _logger.info("Load checkpoint ignored by assessor, checkpoint path: %s", self.get_checkpoint_path())

    def save_checkpoint(self) -> None:
        """Save the assessor's state; ignored by default."""
        _logger.info("Save checkpoint ignored by assessor, checkpoint path: %s", self.get_checkpoint_path())

    def _on_exit(self) -> None:
        pass

    def _on_error(self) -> None:
        pass
