"""Exceptions shared by the trial API and the tuning algorithms.

Kept in its own stdlib-only module so that ``import nni`` in a trial stays light while tuners
(which raise these) and the dispatcher (which catches them) agree on one class.
"""

from __future__ import annotations

__all__ = ["NoMoreTrialError"]


class NoMoreTrialError(Exception):
    """Raised by a tuner when it has no (more) parameters to give.

    This is not a failure: the dispatcher answers the manager with "no more trial jobs" and the
    experiment keeps running the trials it already has.

    Parameters
    ----------
    message
        Why nothing more can be generated. Defaults to ``"Search space fully explored"``.
    """

    def __init__(self, message: str = "Search space fully explored") -> None:
        super().__init__(message)
        # NNI exposes the text under this attribute name; user code may read it.
        self.ErrorInfo = message
