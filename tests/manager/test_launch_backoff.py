"""Launch failures pause scheduling with a growing pause; a full disk is recognised."""

from __future__ import annotations

import errno
import sqlite3

from nni.manager.launch_backoff import FIRST_PAUSE_S, MAX_PAUSE_S, PAUSE_AFTER, LaunchBackoff, is_disk_full


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_pauses_double_after_the_threshold_and_a_success_clears_them():
    clock = _Clock()
    backoff = LaunchBackoff(clock)
    pauses = [backoff.failed('EMFILE: too many open files') for _ in range(PAUSE_AFTER + 3)]
    assert pauses[:PAUSE_AFTER - 1] == [0.0] * (PAUSE_AFTER - 1)
    assert pauses[PAUSE_AFTER - 1:] == [FIRST_PAUSE_S, FIRST_PAUSE_S * 2, FIRST_PAUSE_S * 4, FIRST_PAUSE_S * 8]
    assert backoff.paused_for() == FIRST_PAUSE_S * 8
    message = backoff.message()
    assert message is not None and 'EMFILE' in message and f'{PAUSE_AFTER + 3} attempt(s)' in message
    clock.now += 100
    assert backoff.paused_for() == 0
    for _ in range(30):
        backoff.failed('again')
    assert backoff.paused_for() == MAX_PAUSE_S
    backoff.succeeded()
    assert backoff.paused_for() == 0 and backoff.message() is None


def test_disk_full_is_recognised_through_causes():
    assert is_disk_full(OSError(errno.ENOSPC, 'No space left on device'))
    assert is_disk_full(sqlite3.OperationalError('database or disk is full'))
    try:
        try:
            raise OSError(errno.ENOSPC, 'No space left on device')
        except OSError as inner:
            raise RuntimeError('cannot start trial') from inner
    except RuntimeError as outer:
        assert is_disk_full(outer)
    assert not is_disk_full(OSError(errno.EMFILE, 'Too many open files'))
