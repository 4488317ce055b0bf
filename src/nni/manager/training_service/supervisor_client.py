"""The manager's end of the trial supervisor (``supervisor_process.py``): start it or find it, talk to it.

One supervisor per experiment outlives the manager that started it. Its identity (pid, start
time, boot id, socket) is kept in ``<experiment root>/db/supervisor.json``; a resumed manager
connects to it when that pid still is the same process, and starts a new one otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .process_identity import process_start_ticks

_logger = logging.getLogger('nni.manager.supervisor')

#: the variable that sets how long trials outlive a manager that is gone (seconds)
GRACE_ENV = 'NNI_TRIAL_ORPHAN_GRACE'
#: default of :data:`GRACE_ENV`: ten minutes are enough to notice a crash and `nnictl resume`, and
#: short enough that a crashed, forgotten experiment does not hold CPUs/GPUs for hours
DEFAULT_GRACE_S = 600.0
#: seconds to wait for a new supervisor's socket
START_TIMEOUT_S = 15.0
#: Unix socket paths longer than this do not fit in ``sockaddr_un`` everywhere
_MAX_SOCKET_PATH = 100
_SCRIPT = Path(__file__).with_name('supervisor_process.py')


def grace_seconds() -> float:
    """The orphan grace period from :data:`GRACE_ENV` (a bad value falls back to the default, logged)."""
    text = os.environ.get(GRACE_ENV)
    if not text:
        return DEFAULT_GRACE_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (value >= 0 and value != float('inf')):
        _logger.warning('%s=%r is not a number of seconds >= 0; using %g s', GRACE_ENV, text, DEFAULT_GRACE_S)
        return DEFAULT_GRACE_S
    return value


def boot_id() -> str:
    try:
        return Path('/proc/sys/kernel/random/boot_id').read_text().strip()
    except OSError:
        return ''


def socket_path_for(root: Path) -> Path:
    """``<root>/db/supervisor.sock``, or a short path in a private folder when that one is too long."""
    path = root / 'db' / 'supervisor.sock'
    if len(str(path)) <= _MAX_SOCKET_PATH:
        return path
    folder = Path(os.environ.get('XDG_RUNTIME_DIR') or '/tmp') / f'nni-supervisor-{os.getuid()}'
    folder.mkdir(mode=0o700, exist_ok=True)
    if folder.stat().st_uid != os.getuid() or (folder.stat().st_mode & 0o077):
        raise OSError(f'{folder} is not a private folder of this user; cannot put the supervisor socket there')
    digest = hashlib.sha256(str(root).encode()).hexdigest()[:24]
    return folder / f'{digest}.sock'


class SupervisorError(RuntimeError):
    """The supervisor could not be started or reached, or refused a request."""


class SupervisorClient:
    """A connection to the experiment's trial supervisor.

    Parameters
    ----------
    root
        The experiment folder.
    experiment_id
        Passed to a new supervisor (it recognises the experiment's processes by ``NNI_EXP_ID``).
    on_event
        Called on the event loop with every unsolicited message (``{"op": "exit", ...}``).
    on_lost
        Called once when the connection to the supervisor breaks.
    """

    def __init__(self, root: Path, experiment_id: str, on_event: Callable[[dict[str, Any]], None],
                 on_lost: Callable[[], None]) -> None:
        self.root = root
        self.experiment_id = experiment_id
        self.info_path = root / 'db' / 'supervisor.json'
        self._on_event = on_event
        self._on_lost = on_lost
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._next_rid = 0
        self._read_task: asyncio.Task[None] | None = None
        self.identity: dict[str, Any] = {}
        self.closing = False

    # ------------------------------------------------------------------ connect

    def _recorded(self) -> dict[str, Any] | None:
        """The recorded supervisor when it is still that very process."""
        try:
            info = json.loads(self.info_path.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(info, dict) or info.get('boot_id') != boot_id():
            return None
        pid = info.get('pid')
        if not isinstance(pid, int) or process_start_ticks(pid) != info.get('start_ticks'):
            return None
        return info

    async def connect(self) -> bool:
        """Connect to the running supervisor, or start one; returns whether it was already running."""
        info = self._recorded()
        if info is not None:
            try:
                await self._open(info['socket'])
                # a supervisor that was just leaving closes the connection: ask it something first
                await self.request({'op': 'ping'}, timeout=10.0)
                self.identity = info
                _logger.info('connected to the running trial supervisor pid %d', info['pid'])
                return True
            except (OSError, SupervisorError, asyncio.TimeoutError) as error:
                await self._discard()
                _logger.warning('the recorded trial supervisor pid %s does not answer (%s); starting a new one',
                                info.get('pid'), error)
        await self._start()
        return False

    async def _start(self) -> None:
        socket_path = socket_path_for(self.root)
        log_dir = self.root / 'log'
        log_dir.mkdir(parents=True, exist_ok=True)
        umask = os.environ.get('NNI_USER_UMASK', '022')
        with open(log_dir / 'supervisor.log', 'ab') as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable, '-S', str(_SCRIPT), '--socket', str(socket_path), '--experiment-id',
                self.experiment_id, '--grace', repr(grace_seconds()), '--umask', umask,
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                cwd=str(self.root))
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                await self._open(str(socket_path))
                break
            except OSError as error:
                if process.returncode is not None or time.monotonic() > deadline:
                    raise SupervisorError(f'the trial supervisor did not start ({error}); see '
                                          f'{log_dir / "supervisor.log"}') from error
                await asyncio.sleep(0.005)
        self.identity = {'pid': process.pid, 'start_ticks': process_start_ticks(process.pid), 'boot_id': boot_id(),
                         'socket': str(socket_path)}
        temporary = self.info_path.with_suffix('.tmp')
        temporary.write_text(json.dumps(self.identity))
        os.replace(temporary, self.info_path)
        # the supervisor is not our child for long: the event loop's child watcher may reap it later
        _logger.info('started the trial supervisor pid %d', process.pid)

    async def _discard(self) -> None:
        """Forget a connection that failed while connecting (no "lost" callback for it)."""
        closing, self.closing = self.closing, True
        if self._read_task is not None:
            self._read_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._read_task
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = self._read_task = None
        self.closing = closing

    async def _open(self, socket_path: str) -> None:
        reader, writer = await asyncio.open_unix_connection(socket_path, limit=2 ** 24)
        self._reader, self._writer = reader, writer
        self._read_task = asyncio.get_running_loop().create_task(self._read_loop())

    async def _read_loop(self) -> None:
        assert self._reader is not None
        try:
            while True:
                line = await self._reader.readline()
                if not line:
                    break
                try:
                    message = json.loads(line)
                except ValueError:
                    _logger.error('unreadable message from the trial supervisor: %r', line[:200])
                    continue
                rid = message.get('rid')
                future = self._pending.pop(rid, None) if rid is not None else None
                if future is not None:
                    if not future.done():
                        future.set_result(message)
                elif message.get('op') in ('exit',):
                    self._on_event(message)
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(SupervisorError('the trial supervisor went away'))
            self._pending.clear()
            if not self.closing:
                _logger.error('lost the connection to the trial supervisor')
                self._on_lost()

    # ------------------------------------------------------------------ requests

    async def request(self, message: dict[str, Any], timeout: float | None = 60.0) -> dict[str, Any]:
        """Send one request and wait for its answer."""
        if self._writer is None:
            raise SupervisorError('not connected to the trial supervisor')
        self._next_rid += 1
        rid = self._next_rid
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[rid] = future
        self._writer.write((json.dumps(dict(message, rid=rid)) + '\n').encode('utf-8'))
        answer = await asyncio.wait_for(future, timeout)
        if answer.get('op') == 'error':
            raise SupervisorError(answer.get('error') or 'the trial supervisor refused the request')
        return answer

    async def close(self) -> None:
        self.closing = True
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
        if self._read_task is not None:
            self._read_task.cancel()
