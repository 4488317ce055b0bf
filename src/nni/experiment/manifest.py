"""
The global experiment manifest, ``$NNI_HOME_DIR/.experiment``.

The manifest is a JSON object keyed by experiment id (see ``spec/files.md`` section 2). It is shared by
every client (``Experiment``, ``nnictl``) and every manager process on the machine, including real NNI
ones, so the lock-file protocol below must stay exactly NNI's:

* a writer holds the lock while a file ``.experiment.lock.<pid>`` exists next to the manifest;
* the lock counts as held while *any* ``.experiment.lock.*`` file is younger than 2 seconds;
* to acquire: check that no fresh lock file exists, then create our own with ``O_CREAT | O_EXCL``;
* to release: delete it.

This module is imported by the manager process on every status change, so it only uses the standard
library and keeps each operation to one small read-modify-write.
"""

from __future__ import annotations

import json
import logging
import os
import random
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = [
    'Experiments',
    'ManifestLock',
    'home_dir',
    'manifest_path',
    'pid_alive',
    'sweep_dead_experiments',
]

_logger = logging.getLogger('nni.experiment.manifest')

#: A lock file older than this (seconds) is ignored, as in NNI.
LOCK_STALE_SECONDS = 2.0

def home_dir() -> Path:
    """
    Folder of the global manifest.

    ``$NNI_HOME_DIR`` when set (read on every call so tests can redirect it), else ``~/nni-experiments``.
    """
    value = os.environ.get('NNI_HOME_DIR')
    if value:
        return Path(value).expanduser()
    return Path.home() / 'nni-experiments'


def manifest_path(home: str | os.PathLike[str] | None = None) -> Path:
    """Path of the ``.experiment`` manifest in ``home`` (default: :func:`home_dir`)."""
    return Path(home if home is not None else home_dir()) / '.experiment'


class ManifestLock:
    """
    NNI's preemptive lock-file protocol for the manifest.

    Besides NNI's check-then-create, we re-check after creating our file: two writers that passed the check
    at the same moment both see each other's file, both back off and retry after a random delay. Peers that
    do not re-check (NNI itself) simply see our file as a held lock, so the protocol stays compatible while
    concurrent writers that use this class never lose updates.

    Reentrant within a thread is not supported; one process-wide file name (``.lock.<pid>``) means that
    threads of the same process also exclude each other through ``O_EXCL``.

    Parameters
    ----------
    path
        The manifest file the lock protects.
    stale
        Age in seconds after which a lock file is ignored.
    """

    def __init__(self, path: str | os.PathLike[str], stale: float = LOCK_STALE_SECONDS) -> None:
        path = Path(path)
        self._dir = path.parent
        self._prefix = path.name + '.lock.'
        self._stale = stale
        self._fd: int | None = None
        self._name = ''

    def _fresh_locks(self, now: float) -> list[str]:
        # os.scandir rather than glob: a home folder containing "[" would break glob patterns.
        fresh = []
        try:
            entries = list(os.scandir(self._dir))
        except FileNotFoundError:
            return fresh
        for entry in entries:
            if not entry.name.startswith(self._prefix):
                continue
            try:
                mtime = entry.stat().st_mtime
            except FileNotFoundError:
                continue
            if now - mtime < self._stale:
                fresh.append(entry.name)
        return fresh

    def acquire(self) -> None:
        """Block until the lock is ours (NNI waits without a timeout; a lock expires after ``stale`` s)."""
        name = f'{self._prefix}{os.getpid()}'
        own_path = self._dir / name
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_TRUNC
        while True:
            if self._fresh_locks(time.time()):
                _backoff()
                continue
            try:
                fd = os.open(own_path, flags, 0o644)
            except FileExistsError:
                # Our own name exists: another thread of this process holds it, or a crashed process with
                # the same pid left it behind. Only the second case is stale, and then it blocks O_EXCL forever.
                try:
                    if time.time() - own_path.stat().st_mtime >= self._stale:
                        own_path.unlink()
                except FileNotFoundError:
                    pass
                _backoff()
                continue
            others = [n for n in self._fresh_locks(time.time()) if n != name]
            if others:
                os.close(fd)
                _unlink_quiet(own_path)
                _backoff()
                continue
            self._fd = fd
            self._name = name
            return

    def release(self) -> None:
        """Delete our lock file."""
        if self._fd is None:
            return
        os.close(self._fd)
        self._fd = None
        _unlink_quiet(self._dir / self._name)

    def __enter__(self) -> ManifestLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _backoff() -> None:
    # Writers hold the lock for well under a millisecond, so poll fast; jitter breaks ties between
    # writers that keep colliding.
    time.sleep(random.uniform(0.002, 0.015))


def _unlink_quiet(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding='utf-8')
    except FileNotFoundError:
        return {}
    except OSError as e:
        _logger.warning('Cannot read experiment manifest %s: %s', path, e)
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        # NNI treats an unparsable manifest as empty (and overwrites it on the next write).
        return {}
    return data if isinstance(data, dict) else {}


def _write(path: Path, data: Mapping[str, Any]) -> None:
    # Write to a temporary file and rename it over the manifest, so a reader that does not take the lock
    # (or crashes mid-way) never sees a half-written file. The temporary name must not match ".lock.*".
    tmp = path.with_name(f'{path.name}.{os.getpid()}.tmp')
    tmp.write_text(json.dumps(data, indent=4), encoding='utf-8')
    os.replace(tmp, path)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    lock = ManifestLock(path)
    lock.acquire()
    try:
        yield
    finally:
        lock.release()


class Experiments:
    """
    The global manifest of experiments (NNI's ``nni.tools.nnictl.config_utils.Experiments``).

    Every mutating method re-reads the file under the lock, changes it and writes it back whole.

    Parameters
    ----------
    home_dir
        Folder holding ``.experiment``; default ``$NNI_HOME_DIR`` or ``~/nni-experiments``.

    Attributes
    ----------
    experiment_file
        Path of the manifest.
    experiments
        Snapshot of the manifest: read at construction, refreshed by every mutating call.
    """

    def __init__(self, home_dir: str | os.PathLike[str] | None = None) -> None:
        self.experiment_file = manifest_path(home_dir)
        self.experiment_file.parent.mkdir(parents=True, exist_ok=True)
        with _locked(self.experiment_file):
            self.experiments: dict[str, Any] = _read(self.experiment_file)

    def add_experiment(
        self,
        expId: str,  # NNI's keyword names are part of the API
        port: int | None,
        startTime: int,
        platform: str,
        experiment_name: str | None,
        endTime: int | str = 'N/A',
        status: str = 'INITIALIZED',
        tag: list[str] | None = None,
        pid: int | None = None,
        webuiUrl: list[str] | None = None,
        logDir: str | os.PathLike[str] = '',
        prefixUrl: str | None = None,
    ) -> None:
        """
        Add (or overwrite) the entry of an experiment.

        Parameters
        ----------
        expId
            Experiment id.
        port
            REST / web portal port.
        startTime
            Launch time in ms.
        platform
            Training service platform (``hybrid`` for several).
        experiment_name
            ``config.experiment_name``.
        endTime
            ``'N/A'`` until the experiment ends.
        status
            Initial status.
        tag
            Tags (the Python API passes ``[]``).
        pid
            Manager process id, used for liveness checks.
        webuiUrl
            Kept for NNI compatibility; ``[]``.
        logDir
            Experiment working directory (the folder that holds ``<id>/``).
        prefixUrl
            URL prefix or ``None``.
        """
        entry = {
            'id': expId,
            'port': port,
            'startTime': startTime,
            'endTime': endTime,
            'status': status,
            'platform': platform,
            'experimentName': experiment_name,
            'tag': list(tag) if tag else [],
            'pid': pid,
            'webuiUrl': list(webuiUrl) if webuiUrl else [],
            'logDir': str(logDir),
            'prefixUrl': prefixUrl,
        }
        with _locked(self.experiment_file):
            self.experiments = _read(self.experiment_file)
            self.experiments[expId] = entry
            _write(self.experiment_file, self.experiments)

    def update_experiment(self, expId: str, key: str, value: Any) -> bool:
        """
        Set one field of an entry; ``value=None`` removes the field.

        Returns
        -------
        bool
            ``False`` when the experiment is not in the manifest (nothing is written).
        """
        return self.update_fields(expId, {key: value})

    def update_fields(self, expId: str, fields: Mapping[str, Any]) -> bool:
        """
        Set several fields of an entry in one locked write (``None`` removes a field).

        An extension of NNI's API so the manager can write status and ``endTime`` together.

        Returns
        -------
        bool
            ``False`` when the experiment is not in the manifest (nothing is written).
        """
        with _locked(self.experiment_file):
            self.experiments = _read(self.experiment_file)
            entry = self.experiments.get(expId)
            if not isinstance(entry, dict):
                return False
            for key, value in fields.items():
                if value is None:
                    entry.pop(key, None)
                else:
                    entry[key] = value
            _write(self.experiment_file, self.experiments)
            return True

    def remove_experiment(self, expId: str) -> None:
        """
        Remove an entry from the manifest.

        Unlike NNI, this does not delete any experiment folder; ``nnictl experiment delete`` cleans the
        experiment's data itself.
        """
        with _locked(self.experiment_file):
            self.experiments = _read(self.experiment_file)
            if self.experiments.pop(expId, None) is not None:
                _write(self.experiment_file, self.experiments)

    def get_all_experiments(self) -> dict[str, Any]:
        """The manifest as read at construction (or by the latest mutating call)."""
        return self.experiments


def sweep_dead_experiments(home_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """
    Mark experiments whose manager process is gone as ``STOPPED``.

    Every entry whose status is not ``STOPPED`` and whose ``pid`` is not a live process gets
    ``status = "STOPPED"`` and loses its ``port`` key (what NNI's manager does on ``GET /experiments-info``;
    nnictl does the same minus the port). The file is written only when something changed.

    Parameters
    ----------
    home_dir
        Folder holding ``.experiment``; default ``$NNI_HOME_DIR`` or ``~/nni-experiments``.

    Returns
    -------
    dict
        The manifest after the sweep.
    """
    path = manifest_path(home_dir)
    if not path.exists():
        return {}
    with _locked(path):
        data = _read(path)
        changed = False
        for entry in data.values():
            if not isinstance(entry, dict) or entry.get('status') == 'STOPPED':
                continue
            if not pid_alive(entry.get('pid')):
                entry['status'] = 'STOPPED'
                entry.pop('port', None)
                changed = True
        if changed:
            _write(path, data)
    return data


_HAS_PROC = os.path.isdir('/proc/self')


def pid_alive(pid: Any) -> bool:
    """
    Whether ``pid`` names a running (not zombie) process.

    ``None`` or anything that is not a positive integer counts as dead, as in NNI's manager.
    """
    if isinstance(pid, bool):
        return False
    if isinstance(pid, str) and pid.isdigit():
        pid = int(pid)
    if not isinstance(pid, int) or pid <= 0:
        return False
    if sys.platform == 'win32':
        return _pid_alive_windows(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    except OSError:
        return False
    if _HAS_PROC:
        # A zombie still answers kill(0) until its parent reaps it; for a manager it means "exited".
        try:
            with open(f'/proc/{pid}/stat', 'rb') as f:
                stat = f.read()
        except OSError:
            # Gone in between, or /proc belongs to another pid namespace: trust kill(0).
            return True
        state = stat[stat.rfind(b')') + 2:stat.rfind(b')') + 3]
        return state not in (b'Z', b'X')
    return True


def _pid_alive_windows(pid: int) -> bool:  # pragma: no cover - not exercised on Linux
    # os.kill(pid, 0) would terminate the process on Windows, so ask the kernel instead.
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return False
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)
