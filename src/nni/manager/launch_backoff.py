"""Back off when trials cannot be launched, instead of burning the trial budget as FAILED.

A launch error (the trial directory cannot be written, no file handles left, the supervisor is
gone...) says nothing about the trial's parameters: the same trial would fail to launch with any.
The engine keeps such a trial waiting and, after :data:`PAUSE_AFTER` consecutive launch errors,
pauses scheduling for an exponentially growing time (:data:`FIRST_PAUSE_S` doubling up to
:data:`MAX_PAUSE_S`). The cause is shown in ``GET /check-status`` errors (hence by nnictl and the
portal) while the pause lasts; the first successful launch clears it. A full disk is not retried:
the engine puts the experiment in ERROR with the reason.
"""

from __future__ import annotations

import errno
import sqlite3
import time

__all__ = ['FIRST_PAUSE_S', 'MAX_PAUSE_S', 'PAUSE_AFTER', 'LaunchBackoff', 'is_disk_full']

#: consecutive launch errors before scheduling pauses
PAUSE_AFTER = 3
#: the first pause; each further consecutive error doubles it
FIRST_PAUSE_S = 1.0
#: the longest pause
MAX_PAUSE_S = 60.0


def is_disk_full(error: BaseException) -> bool:
    """Whether ``error`` (or an error it was raised from) says the disk or the database is full."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(current, sqlite3.OperationalError) and 'full' in str(current).lower():
            return True
        if 'No space left on device' in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


class LaunchBackoff:
    """Counts consecutive launch errors and says when scheduling may launch again."""

    def __init__(self, clock=time.monotonic) -> None:  # type: ignore[no-untyped-def]
        self._clock = clock
        self.consecutive = 0
        self.cause: str | None = None
        self.paused_until = 0.0

    def failed(self, cause: str) -> float:
        """Note one launch error; returns the pause it starts (0 while under :data:`PAUSE_AFTER`)."""
        self.consecutive += 1
        self.cause = cause
        if self.consecutive < PAUSE_AFTER:
            return 0.0
        pause = min(MAX_PAUSE_S, FIRST_PAUSE_S * 2 ** (self.consecutive - PAUSE_AFTER))
        self.paused_until = self._clock() + pause
        return pause

    def succeeded(self) -> None:
        """A launch worked: forget the errors."""
        self.consecutive = 0
        self.cause = None
        self.paused_until = 0.0

    def paused_for(self) -> float:
        """Seconds left in the current pause (0 when launching is allowed)."""
        return max(0.0, self.paused_until - self._clock())

    def message(self) -> str | None:
        """What ``check-status`` shows while trials cannot be launched."""
        if self.cause is None:
            return None
        left = self.paused_for()
        pause = f'; launching paused, next try in {left:.0f} s' if left > 0 else ''
        return f'trials cannot be launched ({self.consecutive} attempt(s) failed in a row{pause}): {self.cause}'
