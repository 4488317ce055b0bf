"""A dispatcher whose algorithms live in another process (the user's), reached over HTTP.

The legacy launch form ``Experiment(tuner_instance, 'local')`` keeps the tuner object in the
user's Python process. The manager queues dispatcher commands here; the user's process fetches
them with ``GET /tuner/commands`` (long poll) and posts the answers to ``POST /tuner/answers``
(:mod:`nni.runtime.tuner_bridge` is the other end). The command protocol is NNI's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

_logger = logging.getLogger('nni.manager.external_tuner')

#: the remote tuner is considered gone after this long without a poll
DISCONNECT_AFTER_S = 30.0


class ExternalDispatcher:
    """Same surface as :class:`nni.runtime.msg_dispatcher.Dispatcher`, backed by a queue."""

    def __init__(self, on_lost: Callable[[str], None]) -> None:
        self._queue: list[tuple[str, str]] = []
        self._ready = asyncio.Event()
        self._on_lost = on_lost
        self._last_poll = time.monotonic()
        self._watch: asyncio.Task[None] | None = None
        self.failed = False
        self.connected = False
        self._stopped = False

    def start(self) -> None:
        self._watch = asyncio.get_running_loop().create_task(self._watch_connection())

    def command(self, code: str, content: str = '') -> None:
        self._queue.append((code, content))
        self._ready.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stopped = True
        self.command('TE', '')
        if self._watch is not None:
            self._watch.cancel()

    @property
    def alive(self) -> bool:
        return not self._stopped and not self.failed

    async def fetch(self, wait_s: float) -> list[tuple[str, str]]:
        """Commands queued for the remote tuner; waits up to ``wait_s`` for the first one."""
        self._last_poll = time.monotonic()
        self.connected = True
        if not self._queue:
            self._ready.clear()
            try:
                await asyncio.wait_for(self._ready.wait(), timeout=wait_s)
            except asyncio.TimeoutError:
                pass
        commands, self._queue = self._queue, []
        self._last_poll = time.monotonic()
        return commands

    async def _watch_connection(self) -> None:
        while not self._stopped and not self.failed:
            await asyncio.sleep(1.0)
            if time.monotonic() - self._last_poll > DISCONNECT_AFTER_S:
                self.failed = True
                self._on_lost(f'the tuner running in the launching process stopped answering for '
                              f'{DISCONNECT_AFTER_S:.0f} s (was that process killed?)')
