"""Interface between the trial API and whatever carries its messages."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ['TrialCommandChannel']


class TrialCommandChannel:
    """How a trial receives parameters and sends metrics.

    Same method names and keywords as NNI's class of this name, so that a channel written for NNI and
    selected with ``NNI_TRIAL_COMMAND_CHANNEL=import://package.module.ClassName`` keeps working.
    """

    def receive_parameter(self) -> dict[str, Any] | None:
        """Return the next parameter record, or ``None`` when there is none.

        Returns
        -------
        dict or None
            ``{"parameter_id", "parameter_source", "parameters", "parameter_index"}``; only
            ``"parameters"`` is required.
        """
        raise NotImplementedError()

    def send_metric(
        self,
        type: str,
        parameter_id: Any,
        trial_job_id: str | None,
        sequence: int,
        value: Any,
    ) -> None:
        """Deliver one metric.

        Parameters
        ----------
        type
            ``'PERIODICAL'`` (intermediate result) or ``'FINAL'``.
        parameter_id
            ``parameter_id`` of the current parameter record, ``None`` if there is none.
        trial_job_id
            Id of this trial.
        sequence
            Index of the intermediate result; 0 for the final result.
        value
            The metric, already checked and made of plain JSON types.
        """
        raise NotImplementedError()
