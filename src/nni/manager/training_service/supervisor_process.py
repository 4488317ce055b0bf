"""The trial supervisor: one process per experiment that owns the local trial processes.

Run as a script (``python supervisor_process.py ...``), never imported by the manager's hot path;
standard library only, so it starts in one bare interpreter start. docs/internals.md, "Trial
supervisor and reattach", describes the design; in short:

* It is started once by the local training service in its own session, and is a child
  subreaper (``PR_SET_CHILD_SUBREAPER``): processes a trial leaves behind (``cmd &``, a
  double-forked daemon) are re-parented to it instead of to init.
* It serves one manager at a time over a Unix socket, JSON lines both ways. Requests carry
  ``"op"`` and ``"rid"``; answers echo ``rid``; ``{"op": "exit", ...}`` events are unsolicited.
* It spawns each trial in a new session (process group = session = the trial's pid), writes the
  exit code to ``<trial dir>/.nni/exitcode`` when the trial's first process ends, then kills
  whatever the trial left: its process group, its session, and every process re-parented to the
  supervisor whose environment names the trial (``NNI_TRIAL_JOB_ID`` and ``NNI_EXP_ID``).
* When its manager goes away (crash, SIGKILL) the trials keep running; a manager that connects
  within ``--grace`` seconds takes them over (``status``), else the supervisor stops them all,
  marks them ``.nni/interrupted`` and exits. With no trial and no manager it exits at once.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time

if __package__:  # imported as part of nni (by tests): a sibling module of the package
    from .process_identity import process_start_ticks
    from .trial_cgroups import TrialCgroups, join_cgroup
    from .warm_start import WarmInterpreter, WarmStarter
else:  # run as a script (``python -S supervisor_process.py``): the shared modules sit next to this file
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from process_identity import process_start_ticks
    from trial_cgroups import TrialCgroups, join_cgroup
    from warm_start import WarmInterpreter, WarmStarter

PR_SET_CHILD_SUBREAPER = 36
#: seconds between two sweeps for processes a finished trial left behind in other sessions
ORPHAN_SWEEP_INTERVAL = 0.5
#: seconds the supervisor waits for its first manager before giving up
FIRST_CONNECT_TIMEOUT = 60.0
#: seconds after its end during which a trial's process group and session ids are still swept
RECENT_END_S = 30.0
#: seconds a supervisor with no trial and no manager waits before it exits
IDLE_LINGER_S = 2.0
#: seconds a message to the manager may take before the manager counts as gone
SEND_TIMEOUT_S = 10.0


def log(message: str) -> None:
    sys.stderr.write(f'[{time.strftime("%Y-%m-%d %H:%M:%S")}] supervisor {os.getpid()}: {message}\n')
    sys.stderr.flush()


def scan_processes() -> list[tuple[int, int, int, int]]:
    """(pid, ppid, pgid, sid) of every live process this user can see."""
    found = []
    try:
        names = os.listdir('/proc')
    except OSError:
        return found  # no procfs (not Linux): process groups and sessions are all there is
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f'/proc/{name}/stat', 'rb') as stat:
                fields = stat.read().rsplit(b')', 1)[1].split()
        except OSError:
            continue
        if fields[0] == b'Z':
            continue
        found.append((int(name), int(fields[1]), int(fields[2]), int(fields[3])))
    return found


def environment_tag(pid: int) -> tuple[str | None, str | None]:
    """(``NNI_EXP_ID``, ``NNI_TRIAL_JOB_ID``) from a process's environment."""
    try:
        with open(f'/proc/{pid}/environ', 'rb') as environ:
            data = environ.read()
    except OSError:
        return None, None
    experiment = trial = None
    for item in data.split(b'\0'):
        if item.startswith(b'NNI_EXP_ID='):
            experiment = item[len(b'NNI_EXP_ID='):].decode('utf-8', 'replace')
        elif item.startswith(b'NNI_TRIAL_JOB_ID='):
            trial = item[len(b'NNI_TRIAL_JOB_ID='):].decode('utf-8', 'replace')
    return experiment, trial


def kill_quietly(pid: int, sig: int, group: bool = False) -> bool:
    try:
        (os.killpg if group else os.kill)(pid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def write_file_atomically(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = f'{path}.{os.getpid()}.tmp'
    with open(temporary, 'w', encoding='ascii') as handle:
        handle.write(text)
    os.replace(temporary, path)


class Trial:
    def __init__(self, trial_id: str, pid: int, trial_dir: str, process: subprocess.Popen | None = None,
                 cgroup: str | None = None) -> None:
        self.trial_id = trial_id
        self.cgroup = cgroup  # the trial's own cgroup v2 folder, where there is one
        self.process = process  # None for a trial forked by the warm interpreter
        self.pid = pid
        self.start_ticks = process_start_ticks(self.pid)
        self.trial_dir = trial_dir
        self.exit_code: int | None = None
        self.signal: int | None = None
        self.ended = False
        self.ended_at = 0.0
        self.interrupted = False
        self.kill_deadline: float | None = None


class Supervisor:
    def __init__(self, args: argparse.Namespace) -> None:
        self.experiment_id = args.experiment_id
        self.grace = args.grace
        self.user_umask = args.umask
        self.socket_path = args.socket
        self.selector = selectors.DefaultSelector()
        self.trials: dict[str, Trial] = {}
        self.by_pid: dict[int, Trial] = {}
        self.manager: socket.socket | None = None
        self.inbox = b''
        self.ever_connected = False
        self.started = time.monotonic()
        self.orphaned_since: float | None = None
        self.idle_since: float | None = None
        self.sweep_due: float | None = None
        self.last_sweep = 0.0
        self.stopping_all: list[int | None] | None = None  # rids waiting for stop_all
        self.quit = False
        self.warm = WarmStarter(log, self._watch_warm, self._unwatch)
        self.cgroups: TrialCgroups | None = None
        self.spawned = 0

    def _watch_warm(self, connection: socket.socket, interpreter: WarmInterpreter) -> None:
        self.selector.register(connection, selectors.EVENT_READ, interpreter)

    def _unwatch(self, connection: socket.socket) -> None:
        try:
            self.selector.unregister(connection)
        except (KeyError, ValueError):
            pass

    # ---------------------------------------------------------------- setup

    def setup(self) -> None:
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        except (OSError, AttributeError):
            log('cannot become a child subreaper; daemonized trial children are found by environment only')
        self.cgroups = TrialCgroups(self.experiment_id, log)
        self.wakeup_read, wakeup_write = os.pipe()
        os.set_blocking(self.wakeup_read, False)
        os.set_blocking(wakeup_write, False)
        signal.set_wakeup_fd(wakeup_write)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, lambda *_: None)  # the wakeup fd carries the signal number
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        self.selector.register(self.wakeup_read, selectors.EVENT_READ, 'signal')
        try:
            os.unlink(self.socket_path)
        except FileNotFoundError:
            pass
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o077)
        try:
            self.listener.bind(self.socket_path)
        finally:
            os.umask(old_umask)
        self.listener.listen(4)
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ, 'accept')

    # ---------------------------------------------------------------- manager connection

    def send(self, message: dict) -> None:
        if self.manager is None:
            return
        data = (json.dumps(message) + '\n').encode('utf-8')
        try:
            # bounded: a manager that stopped reading (stopped, stuck) must not stall the supervisor
            self.manager.settimeout(SEND_TIMEOUT_S)
            self.manager.sendall(data)
        except OSError:
            self.drop_manager()
        else:
            if self.manager is not None:
                self.manager.setblocking(False)

    def accept(self) -> None:
        try:
            connection, _ = self.listener.accept()
        except OSError:
            return
        if self.manager is not None:
            # the experiment lock allows one manager: a new one means the old one is dead
            self.drop_manager()
        connection.setblocking(False)
        self.manager = connection
        self.quit = False  # a manager that connects in the very turn the supervisor decided to leave
        self.idle_since = None
        self.inbox = b''
        self.ever_connected = True
        self.orphaned_since = None
        self.selector.register(connection, selectors.EVENT_READ, 'manager')
        log('manager connected')

    def drop_manager(self) -> None:
        if self.manager is None:
            return
        try:
            self.selector.unregister(self.manager)
        except (KeyError, ValueError):
            pass
        self.manager.close()
        self.manager = None
        self.orphaned_since = time.monotonic()
        running = sum(1 for trial in self.trials.values() if not trial.ended)
        log(f'manager disconnected; {running} trial(s) running, grace {self.grace:g} s')

    def read_manager(self) -> None:
        assert self.manager is not None
        try:
            data = self.manager.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b''
        if not data:
            self.drop_manager()
            return
        self.inbox += data
        while b'\n' in self.inbox:
            line, self.inbox = self.inbox.split(b'\n', 1)
            if not line.strip():
                continue
            request = None
            try:
                request = json.loads(line)
                self.handle(request)
            except Exception as error:  # noqa: BLE001 - a bad request must not end the supervisor
                log(f'request failed: {error!r}')
                rid = request.get('rid') if isinstance(request, dict) else None
                self.send({'op': 'error', 'rid': rid, 'error': f'{type(error).__name__}: {error}'})

    # ---------------------------------------------------------------- requests

    def handle(self, request: dict) -> None:
        op = request.get('op')
        rid = request.get('rid')
        if op == 'spawn':
            self.spawn(request)
        elif op == 'kill':
            trial = self.trials.get(request['id'])
            if trial is not None and not trial.ended:
                self.begin_kill(trial, float(request.get('grace', 5.0)))
            self.send({'op': 'ok', 'rid': rid})
        elif op == 'status':
            self.send(dict(self.status(request), rid=rid))
        elif op == 'forget':
            trial = self.trials.get(request['id'])
            if trial is not None and trial.ended:
                self.trials.pop(trial.trial_id, None)
            self.send({'op': 'ok', 'rid': rid})
        elif op == 'stop_all':
            self.stop_all(float(request.get('grace', 5.0)), interrupted=False)
            if self.stopping_all is None:
                self.stopping_all = []
            self.stopping_all.append(rid)
            self.check_stop_all()
        elif op == 'warm':
            self.warm.prepare(request)
            self.send({'op': 'ok', 'rid': rid})
        elif op == 'ping':
            self.send({'op': 'ok', 'rid': rid, 'pid': os.getpid()})
        else:
            self.send({'op': 'error', 'rid': rid, 'error': f'unknown op {op!r}'})

    def spawn(self, request: dict) -> None:
        trial_id = request['id']
        rid = request.get('rid')
        old = self.trials.get(trial_id)
        if old is not None and not old.ended:
            # an earlier attempt this supervisor still runs (its manager died before recording it)
            log(f'trial {trial_id}: killing the earlier attempt pid {old.pid} before the new one')
            self.kill_tree(old, signal.SIGKILL)
            self.wait_for_end(old, 5.0)
        stdout = stderr = None
        self.spawned += 1
        cgroup = self.cgroups.create(trial_id, self.spawned) if self.cgroups is not None else None
        try:
            stdout = open(request['stdout'], 'ab')  # noqa: SIM115 - handed to the child
            stderr = open(request['stderr'], 'ab')  # noqa: SIM115
            argv = request['argv']
            process = None
            pid = self.warm.try_spawn(request, stdout.fileno(), stderr.fileno(), self.user_umask, cgroup)
            try:
                if pid is None:
                    process = self.popen(argv, request, stdout, stderr, cgroup)
            except OSError as error:
                if argv[:2] == ['/bin/bash', '-c'] or not request.get('command') or error.errno not in (
                        errno.ENOEXEC, errno.EACCES, errno.ENOENT):
                    raise
                # not something exec runs by itself (a script without #!): bash runs it, as NNI would
                process = self.popen(['/bin/bash', '-c', request['command']], request, stdout, stderr, cgroup)
        except OSError as error:
            if self.cgroups is not None:
                self.cgroups.release(cgroup)
            self.send({'op': 'spawn_failed', 'rid': rid, 'id': trial_id, 'error': str(error),
                       'errno': error.errno})
            return
        finally:
            for handle in (stdout, stderr):
                if handle is not None:
                    handle.close()
        trial = Trial(trial_id, process.pid if process is not None else pid, request['trial_dir'], process, cgroup)
        self.trials[trial_id] = trial
        self.by_pid[trial.pid] = trial
        self.send({'op': 'spawned', 'rid': rid, 'id': trial_id, 'pid': trial.pid, 'start_ticks': trial.start_ticks,
                   'time_ms': int(time.time() * 1000)})

    def popen(self, argv: list[str], request: dict, stdout, stderr,  # type: ignore[no-untyped-def]
              cgroup: str | None) -> subprocess.Popen:
        def enter_cgroup() -> None:
            try:
                join_cgroup(cgroup)  # type: ignore[arg-type]
            except OSError:
                pass  # tracked by session and environment, as without cgroups

        return subprocess.Popen(argv, cwd=request['cwd'], env=request['env'], stdin=subprocess.DEVNULL,
                                stdout=stdout, stderr=stderr, start_new_session=True, close_fds=True,
                                umask=self.user_umask, preexec_fn=enter_cgroup if cgroup else None)

    def status(self, request: dict) -> dict:
        trial = self.trials.get(request['id'])
        if trial is None or (request.get('pid') is not None and trial.pid != request.get('pid')) or (
                request.get('start_ticks') is not None and trial.start_ticks != request.get('start_ticks')):
            return {'op': 'status', 'id': request['id'], 'state': 'unknown'}
        if not trial.ended:
            return {'op': 'status', 'id': trial.trial_id, 'state': 'running', 'pid': trial.pid,
                    'start_ticks': trial.start_ticks}
        return {'op': 'status', 'id': trial.trial_id, 'state': 'exited', 'code': trial.exit_code,
                'signal': trial.signal, 'interrupted': trial.interrupted}

    # ---------------------------------------------------------------- killing

    def kill_tree(self, trial: Trial, sig: int) -> None:
        kill_quietly(trial.pid, sig, group=True)
        if sig == signal.SIGKILL and self.cgroups is not None:
            self.cgroups.kill(trial.cgroup)
        if trial.ended or sig == signal.SIGKILL:
            self.sweep(only=trial.trial_id, sig=sig)

    def begin_kill(self, trial: Trial, grace: float) -> None:
        if trial.kill_deadline is not None:
            return
        kill_quietly(trial.pid, signal.SIGINT, group=True)
        trial.kill_deadline = time.monotonic() + grace

    def sweep(self, only: str | None = None, sig: int = signal.SIGKILL, everything: bool = False) -> int:
        """Kill what ended trials (or ``only`` that one) left behind; returns how many were signalled."""
        me = os.getpid()
        running_pids = {t.pid for t in self.trials.values() if not t.ended}
        now = time.monotonic()
        # a group or session id is a pid, and pids are recycled: only recent ends, never a live trial's
        ended_groups = {t.pid: t for t in self.trials.values()
                        if ((only is None and t.ended and now - t.ended_at < RECENT_END_S) or t.trial_id == only)
                        and t.pid not in running_pids}
        count = 0
        for pid, ppid, pgid, sid in scan_processes():
            if pid == me or pid in running_pids:
                continue
            if pgid in ended_groups or sid in ended_groups:
                count += kill_quietly(pid, sig)
                continue
            if ppid != me:
                continue
            experiment, trial_id = environment_tag(pid)
            if experiment != self.experiment_id and not everything:
                continue
            owner = self.trials.get(trial_id) if trial_id else None
            if everything or (owner is not None and (owner.ended or owner.trial_id == only)):
                count += kill_quietly(pid, sig)
        return count

    def stop_all(self, grace: float, interrupted: bool) -> None:
        for trial in self.trials.values():
            if not trial.ended:
                trial.interrupted = trial.interrupted or interrupted
                self.begin_kill(trial, grace)

    def check_stop_all(self) -> None:
        if self.stopping_all is None or any(not trial.ended for trial in self.trials.values()):
            return
        self.sweep(everything=True)
        for rid in self.stopping_all:
            self.send({'op': 'stopped', 'rid': rid})
        self.stopping_all = None

    def wait_for_end(self, trial: Trial, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not trial.ended and time.monotonic() < deadline:
            self.reap()
            if not trial.ended:
                time.sleep(0.005)

    # ---------------------------------------------------------------- exits

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            trial = self.by_pid.pop(pid, None)
            if trial is not None:
                self.trial_ended(trial, status)
            elif self.warm.owns(pid):
                self.warm.on_exit(pid)

    def trial_ended(self, trial: Trial, status: int) -> None:
        trial.ended = True
        trial.ended_at = time.monotonic()
        if trial.process is not None:
            trial.process.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait for it again
        if os.WIFSIGNALED(status):
            trial.signal = os.WTERMSIG(status)
            code_text = str(128 + trial.signal)
        else:
            trial.exit_code = os.WEXITSTATUS(status)
            code_text = str(trial.exit_code)
        try:
            if trial.interrupted:
                write_file_atomically(os.path.join(trial.trial_dir, '.nni', 'interrupted'),
                                      'stopped by the trial supervisor: no manager came back in time\n')
            write_file_atomically(os.path.join(trial.trial_dir, '.nni', 'exitcode'), code_text + '\n')
        except OSError as error:
            log(f'trial {trial.trial_id}: cannot write its exit code: {error}')
        # what it left in its own process group (and its cgroup) goes now; other sessions at the next sweep
        kill_quietly(trial.pid, signal.SIGKILL, group=True)
        if self.cgroups is not None:
            self.cgroups.release(trial.cgroup)
        if self.sweep_due is None:
            # one /proc scan per interval at most, however many trials end: short trials stay cheap
            self.sweep_due = max(time.monotonic(), self.last_sweep + ORPHAN_SWEEP_INTERVAL)
        self.send({'op': 'exit', 'id': trial.trial_id, 'pid': trial.pid, 'code': trial.exit_code,
                   'signal': trial.signal, 'interrupted': trial.interrupted})
        self.check_stop_all()

    # ---------------------------------------------------------------- loop

    def timers(self) -> float:
        now = time.monotonic()
        wait = 1.0
        for trial in list(self.trials.values()):
            if trial.kill_deadline is not None and not trial.ended:
                if now >= trial.kill_deadline:
                    log(f'trial {trial.trial_id} ignored SIGINT; SIGKILL')
                    self.kill_tree(trial, signal.SIGKILL)
                    trial.kill_deadline = now + 5.0
                else:
                    wait = min(wait, trial.kill_deadline - now)
        if self.sweep_due is not None:
            if now >= self.sweep_due:
                self.sweep_due = None
                self.last_sweep = now
                if self.sweep():
                    self.sweep_due = now + 0.05  # a fork racing the kill: look again soon
                # ended trials whose leftovers are gone and whose end the manager heard are done
            else:
                wait = min(wait, self.sweep_due - now)
        if self.cgroups is not None and self.cgroups.pending_removal and self.cgroups.retry_removals():
            wait = min(wait, 0.05)  # zombies of a released cgroup are reaped: try again soon
        running = any(not trial.ended for trial in self.trials.values())
        if self.manager is not None or running:
            self.idle_since = None
        if self.manager is None:
            if not running and (self.ever_connected or now - self.started > FIRST_CONNECT_TIMEOUT):
                # linger a moment: a manager resuming right now finds the ends in memory, not only on disk
                if self.idle_since is None:
                    self.idle_since = now
                if now - self.idle_since >= IDLE_LINGER_S:
                    self.sweep(everything=True)
                    self.quit = True
                else:
                    wait = min(wait, IDLE_LINGER_S - (now - self.idle_since))
            elif running and self.orphaned_since is not None and now - self.orphaned_since >= self.grace:
                log(f'no manager came back within {self.grace:g} s: stopping every trial')
                self.stop_all(5.0, interrupted=True)
                self.orphaned_since = None
            elif running and self.orphaned_since is not None:
                wait = min(wait, self.grace - (now - self.orphaned_since))
            elif not self.ever_connected:
                wait = min(wait, FIRST_CONNECT_TIMEOUT)
        return max(wait, 0.0)

    def run(self) -> None:
        self.setup()
        log(f'started for experiment {self.experiment_id}, socket {self.socket_path}')
        while not self.quit:
            for key, _ in self.selector.select(self.timers()):
                if key.data == 'signal':
                    self.on_signals()
                elif key.data == 'accept':
                    self.accept()
                elif key.data == 'manager' and self.manager is not None:
                    self.read_manager()
                elif isinstance(key.data, WarmInterpreter):
                    self.warm.on_readable(key.data)
            self.reap()
        # close first: a manager connecting now is refused (and starts a new supervisor) instead of
        # being accepted by one that is leaving
        self.listener.close()
        self.warm.discard(count_failure=False)
        if self.cgroups is not None:
            self.cgroups.close()
        try:
            os.unlink(self.socket_path)
        except OSError:
            pass
        log('no trial and no manager left: exiting')

    def on_signals(self) -> None:
        try:
            data = os.read(self.wakeup_read, 4096)
        except BlockingIOError:
            return
        for number in data:
            if number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                log(f'signal {number}: stopping every trial')
                self.stop_all(2.0, interrupted=True)
                self.ever_connected = True
                if self.manager is not None:
                    self.drop_manager()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description='NNI trial supervisor (started by the manager)')
    parser.add_argument('--socket', required=True)
    parser.add_argument('--experiment-id', required=True)
    parser.add_argument('--grace', type=float, required=True)
    parser.add_argument('--umask', type=lambda text: int(text, 8), default=0o022)
    args = parser.parse_args(argv)
    supervisor = Supervisor(args)
    try:
        supervisor.run()
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            log(f'socket {args.socket} is in use')
        raise
    return 0


if __name__ == '__main__':
    sys.exit(main())
