"""One cgroup v2 per trial, where this process may create them: exact "kill the whole trial".

The supervisor makes ``nni-<experiment>-<pid>`` under its own cgroup v2 and one child per trial
attempt; the trial process moves itself into it before it runs anything, so everything it ever
starts (even a daemon that left its session and cleared its environment) is in that cgroup, and
``cgroup.kill`` ends them all at once. Where there is no writable cgroup v2 (no delegation, not
Linux, an old kernel without ``cgroup.kill``), :class:`TrialCgroups` is inactive and the supervisor's
process-group, session and environment sweeps are all there is.

Standard library only: imported by ``supervisor_process.py``, which runs under ``python -S``.
"""

from __future__ import annotations

import os
import re
import signal

MOUNTINFO = '/proc/self/mountinfo'
OWN_CGROUP = '/proc/self/cgroup'


def cgroup2_mount(mountinfo: str = MOUNTINFO) -> str | None:
    """Where the cgroup v2 hierarchy is mounted, or ``None``."""
    try:
        with open(mountinfo, encoding='utf-8') as handle:
            for line in handle:
                fields = line.split(' - ')
                if len(fields) == 2 and fields[1].split()[0] == 'cgroup2':
                    return fields[0].split()[4].replace('\\040', ' ')
    except OSError:
        pass
    return None


def own_cgroup(path: str = OWN_CGROUP) -> str | None:
    """This process's cgroup v2 path (``0::/...``), or ``None``."""
    try:
        with open(path, encoding='utf-8') as handle:
            for line in handle:
                if line.startswith('0::'):
                    return line[3:].strip()
    except OSError:
        pass
    return None


def _safe_name(text: str) -> str:
    return re.sub(r'[^A-Za-z0-9_.-]', '_', text)[:64]


class TrialCgroups:
    """The experiment's cgroup and its per-trial children; :attr:`active` tells whether there are any."""

    def __init__(self, experiment_id: str, log) -> None:  # type: ignore[no-untyped-def]
        self.log = log
        self.base: str | None = None
        self.pending_removal: set[str] = set()
        mount, own = cgroup2_mount(), own_cgroup()
        if mount is None or own is None:
            return
        parent = os.path.join(mount, own.lstrip('/'))
        prefix = f'nni-{_safe_name(experiment_id)}-'
        self._clean_stale(parent, prefix)
        base = os.path.join(parent, f'{prefix}{os.getpid()}')
        try:
            os.mkdir(base, 0o700)
        except OSError as error:
            log(f'no writable cgroup v2 ({error.strerror}): trials are tracked by session and environment')
            return
        if not os.path.exists(os.path.join(base, 'cgroup.kill')):
            os.rmdir(base)
            log('cgroup v2 has no cgroup.kill (kernel < 5.14): trials are tracked by session and environment')
            return
        self.base = base
        log(f'one cgroup v2 per trial under {base}')

    def _clean_stale(self, parent: str, prefix: str) -> None:
        """Remove what an earlier supervisor of this experiment left (it was killed): its trials too."""
        try:
            names = [name for name in os.listdir(parent) if name.startswith(prefix)]
        except OSError:
            return
        for name in names:
            owner = name[len(prefix):]
            if owner.isdigit() and os.path.exists(f'/proc/{owner}'):
                continue  # still alive (or a recycled pid: leave it alone)
            self.base = os.path.join(parent, name)
            self.log(f'removing the cgroup {self.base} of a supervisor that is gone')
            self.close()
            self.base = None

    @property
    def active(self) -> bool:
        return self.base is not None

    def create(self, trial_id: str, attempt: int) -> str | None:
        """A new, empty cgroup for one attempt of a trial; its folder, or ``None`` when that fails."""
        if self.base is None:
            return None
        path = os.path.join(self.base, f'{_safe_name(trial_id)}-{attempt}')
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            self.kill(path)
            return path if self._remove(path) is None and self._mkdir(path) else None
        except OSError as error:
            self.log(f'cannot create cgroup {path}: {error}')
            return None
        return path

    def _mkdir(self, path: str) -> bool:
        try:
            os.mkdir(path, 0o700)
        except OSError:
            return False
        return True

    def kill(self, path: str | None) -> None:
        """SIGKILL every process in the cgroup at once."""
        if path is None:
            return
        try:
            with open(os.path.join(path, 'cgroup.kill'), 'w', encoding='ascii') as handle:
                handle.write('1')
        except OSError:
            for pid in self.members(path):  # cgroup.kill went missing: one by one
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def members(self, path: str) -> list[int]:
        try:
            with open(os.path.join(path, 'cgroup.procs'), encoding='ascii') as handle:
                return [int(line) for line in handle if line.strip()]
        except OSError:
            return []

    def release(self, path: str | None) -> None:
        """Kill what is left in a trial's cgroup and remove it (now, or later once its zombies are reaped)."""
        if path is None:
            return
        self.kill(path)
        if self._remove(path) is not None:
            self.pending_removal.add(path)

    def _remove(self, path: str) -> OSError | None:
        try:
            os.rmdir(path)
        except FileNotFoundError:
            return None
        except OSError as error:
            return error
        return None

    def retry_removals(self) -> bool:
        """Remove released cgroups that have emptied; whether some are still waiting."""
        for path in list(self.pending_removal):
            if self._remove(path) is None:
                self.pending_removal.discard(path)
            else:
                self.kill(path)
        return bool(self.pending_removal)

    def close(self) -> None:
        """Kill and remove every trial cgroup and the experiment's."""
        if self.base is None:
            return
        try:
            children = [os.path.join(self.base, name) for name in os.listdir(self.base)
                        if os.path.isdir(os.path.join(self.base, name))]
        except OSError:
            children = []
        for path in children:
            self.release(path)
        self.retry_removals()
        if self._remove(self.base) is None:
            self.base = None


def join_cgroup(path: str) -> None:
    """Move the calling process into the cgroup at ``path`` (run in the trial before it starts)."""
    with open(os.path.join(path, 'cgroup.procs'), 'w', encoding='ascii') as handle:
        handle.write('0')
