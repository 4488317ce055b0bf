"""One manager per experiment: an exclusive ``flock`` on ``<experiment root>/db/.lock``.

The manager takes the lock before it writes anything (create, resume and view alike) and holds
it for its whole life; the kernel drops it when the process ends, however it ends (SIGKILL
included), so a dead manager's lock is taken over by the next one with no stale-file cleanup.
The holder writes its pid, host, start time and action into the file: a second manager, or the
client before it spawns one, reads them to say who holds the experiment.

Stdlib only: both the manager and the client (``nni.experiment.launcher``) import it.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

__all__ = ['LOCK_EXIT_CODE', 'ExperimentLock', 'ExperimentLockedError', 'describe_holder', 'lock_path', 'probe']

#: exit status of a manager that could not take its experiment's lock (EX_TEMPFAIL)
LOCK_EXIT_CODE = 75
#: seconds a manager retries a lock held by someone else before it gives up
PROBE_RETRY_S = 0.2


#: seconds a lock is waited for when its holder is a process of this host that is dying: a
#: SIGKILLed manager keeps its lock until the kernel has torn it down, which on a busy machine is
#: not instant, and "kill -9, then resume" must not be refused for that
EXITING_HOLDER_WAIT_S = 5.0
_SIGKILL_MASK = 1 << 8  # bit of signal 9 in /proc/<pid>/status pending masks


def _holder_is_exiting(holder: dict[str, Any]) -> bool:
    """Whether the holder is a process of this host that is gone, a zombie, or has SIGKILL pending."""
    pid = holder.get('pid')
    if not isinstance(pid, int) or holder.get('host') != socket.gethostname():
        return False
    try:
        status = Path(f'/proc/{pid}/status').read_text(encoding='ascii', errors='replace')
    except FileNotFoundError:
        return True
    except OSError:
        return False
    for line in status.splitlines():
        name, _, value = line.partition(':')
        if name == 'State' and value.strip()[:1] in ('Z', 'X'):
            return True
        if name in ('SigPnd', 'ShdPnd'):
            try:
                if int(value.strip(), 16) & _SIGKILL_MASK:
                    return True
            except ValueError:
                pass
    return False


def _flock_with_patience(fd: int, operation: int) -> dict[str, Any] | None:
    """``flock`` without blocking for long: ``None`` once taken, else the holder's details."""
    import fcntl

    deadline = time.monotonic() + PROBE_RETRY_S
    while True:
        try:
            fcntl.flock(fd, operation | fcntl.LOCK_NB)
            return None
        except BlockingIOError:
            now = time.monotonic()
            if now >= deadline:
                holder = _read_holder(fd)
                if not _holder_is_exiting(holder) or now >= deadline + EXITING_HOLDER_WAIT_S:
                    return holder
            time.sleep(0.01)


class ExperimentLockedError(RuntimeError):
    """Another live process holds the experiment; the message names it."""

    def __init__(self, message: str, holder: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.holder = holder or {}


def lock_path(experiment_root: Path) -> Path:
    """``<experiment root>/db/.lock``."""
    return Path(experiment_root) / 'db' / '.lock'


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        data = os.pread(fd, 4096, 0)
        holder = json.loads(data.decode('utf-8')) if data.strip() else {}
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def describe_holder(experiment_id: str, holder: dict[str, Any]) -> str:
    """The message a refused start shows: who holds the experiment, since when, and what to do."""
    if not holder:
        who = 'another process (it has not written its details yet)'
    else:
        started = holder.get('started')
        when = (time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(started))
                if isinstance(started, (int, float)) else '?')
        who = (f'the NNI manager pid {holder.get("pid", "?")} on host {holder.get("host", "?")} '
               f'({holder.get("action", "?")}, started {when})')
    return (f'experiment {experiment_id} is already in use by {who}; stop it first '
            f'(nnictl stop {experiment_id}) or wait for it to exit')


class ExperimentLock:
    """The exclusive lock of one experiment folder.

    Parameters
    ----------
    experiment_root
        ``<experiment_working_directory>/<id>``.
    experiment_id
        Named in the error message.
    """

    def __init__(self, experiment_root: Path, experiment_id: str) -> None:
        self.path = lock_path(experiment_root)
        self.experiment_id = experiment_id
        self._fd: int | None = None

    def acquire(self, action: str) -> None:
        """Take the lock now or raise :class:`ExperimentLockedError` (never waits).

        The file descriptor is close-on-exec, so processes the manager starts (the trial
        supervisor, trials) never inherit the lock and never keep it after the manager's death.
        """
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        # a client's probe holds a shared lock for microseconds: a few quick retries keep it
        # from refusing a manager, while a real holder is still reported within 0.2 s
        try:
            holder = _flock_with_patience(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        if holder is not None:
            os.close(fd)
            raise ExperimentLockedError(describe_holder(self.experiment_id, holder), holder)
        holder = {'pid': os.getpid(), 'host': socket.gethostname(), 'started': time.time(), 'action': action}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode('utf-8'), 0)
        self._fd = fd

    def release(self) -> None:
        """Drop the lock (the process's end drops it too)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None


def probe(experiment_root: Path, experiment_id: str) -> None:
    """Raise :class:`ExperimentLockedError` when a live manager holds the experiment; else return.

    The client calls this before it spawns a manager, to fail at once with a clear message; the
    manager's own :meth:`ExperimentLock.acquire` stays the real guard (two clients may probe at
    the same moment).
    """
    import fcntl

    path = lock_path(experiment_root)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return  # no lock file: no manager ever ran here, or the folder is not ours to read
    try:
        holder = _flock_with_patience(fd, fcntl.LOCK_SH)
    finally:
        os.close(fd)
    if holder is not None:
        raise ExperimentLockedError(describe_holder(experiment_id, holder), holder)
