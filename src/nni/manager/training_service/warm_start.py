"""The supervisor's end of the warm interpreter (``warm_python.py``): when to use it, start it, ask it.

A trial command that is just ``<python> <script.py> [plain arguments]`` does not need a fresh
interpreter: the warm interpreter, started once with the same executable and environment and with
``nni`` already imported, forks the trial instead. That saves the interpreter start and the imports
(most of a short trial's CPU). Everything else (shell syntax, options before the script, another
interpreter or environment than the warm one's) goes through ``Popen`` as before.

Standard library only: imported by ``supervisor_process.py``, which runs under ``python -S``.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time

#: trial environment variables that differ from trial to trial: given to the forked trial, not part of
#: what must match the warm interpreter's own environment
PER_TRIAL_VARIABLES = ('CUDA_VISIBLE_DEVICES',)
PER_TRIAL_PREFIX = 'NNI_'
#: set to 0 in the experiment's environment to start every trial in a fresh interpreter
SWITCH_VARIABLE = 'NNI_TRIAL_WARM_START'
#: characters that make a command more than "program and plain arguments"
SHELL_SYNTAX = frozenset('$`\\"\'*?[]{}()<>|&;~!#=%\n')
INTERPRETER_NAME = re.compile(r'python(\d+(\.\d+)?)?$')
#: seconds the warm interpreter may take to fork a trial before it counts as broken
FORK_TIMEOUT_S = 5.0
#: warm interpreters that failed to start or broke; after this many the supervisor stops trying
MAX_FAILURES = 3
#: room for the trials' command lines in the warm interpreter's own (``warm_python.show_command_line``)
TITLE_ROOM = 2048
#: room for the trials' environments in the warm interpreter's own (``warm_python.show_environment``)
ENVIRONMENT_ROOM = 16384
_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'warm_python.py')


def which(program: str, path: str | None) -> str | None:
    if '/' in program:
        return program if os.access(program, os.X_OK) and os.path.isfile(program) else None
    for folder in (path or os.defpath).split(os.pathsep):
        candidate = os.path.join(folder or '.', program)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def stable_environment(env: dict[str, str]) -> dict[str, str]:
    """The part of a trial's environment that is the same for every trial of the experiment."""
    return {key: value for key, value in env.items()
            if not key.startswith(PER_TRIAL_PREFIX) and key not in PER_TRIAL_VARIABLES}


class WarmPlan:
    """How a spawn request runs in the warm interpreter: which interpreter, script and arguments."""

    def __init__(self, interpreter: str, script: str, argv: list[str], words: list[str], key: tuple) -> None:
        self.interpreter = interpreter
        self.script = script
        self.argv = argv
        self.words = words  # the command line ``ps`` shows for the trial
        self.key = key


def plan_for(request: dict) -> WarmPlan | None:
    """A :class:`WarmPlan` when the request's command can run in a warm interpreter, else ``None``."""
    command = request.get('command') or ''
    env = request.get('env') or {}
    if env.get(SWITCH_VARIABLE, '1').strip().lower() in ('0', 'false', 'no', 'off'):
        return None
    if any(char in SHELL_SYNTAX for char in command):
        return None
    words = command.split()
    if len(words) < 2 or not INTERPRETER_NAME.match(os.path.basename(words[0])) or words[1].startswith('-'):
        return None
    interpreter = which(words[0], env.get('PATH'))
    cwd = request.get('cwd') or '.'
    script = os.path.join(cwd, words[1])
    if interpreter is None or not os.path.isfile(script):
        return None
    folder = os.path.dirname(os.path.abspath(script))
    if os.path.exists(os.path.join(folder, 'nni')) or os.path.exists(os.path.join(folder, 'nni.py')):
        return None  # the script's own "nni" would shadow the one the warm interpreter imported
    key = (interpreter, tuple(sorted(stable_environment(env).items())))
    return WarmPlan(interpreter, script, [words[1], *words[2:]], words, key)


class WarmInterpreter:
    """One warm interpreter process and the socket to it; the supervisor keeps at most one."""

    def __init__(self, plan: WarmPlan, env: dict[str, str], log) -> None:  # type: ignore[no-untyped-def]
        self.key = plan.key
        self.ready = False
        self.broken = False
        self.log = log
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.process = subprocess.Popen(
                [plan.interpreter, _SCRIPT, str(theirs.fileno()), ' ' * TITLE_ROOM],
                env=dict(stable_environment(env), NNI_WARM_ROOM=' ' * ENVIRONMENT_ROOM),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, pass_fds=(theirs.fileno(),), cwd='/')
        finally:
            theirs.close()
        self.socket = ours
        self.socket.setblocking(False)
        self.started = time.monotonic()

    @property
    def pid(self) -> int:
        return self.process.pid

    def on_readable(self) -> None:
        """The ready message (or an end) arrived."""
        try:
            data = self.socket.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b''
        if not data:
            self.broken = True
            return
        message = json.loads(data)
        if message.get('ready'):
            self.ready = True
            self.log(f'warm interpreter pid {self.pid} ready in {time.monotonic() - self.started:.3f} s')
        else:
            self.broken = True
            self.log(f'warm interpreter pid {self.pid} cannot preload: {message.get("error")}')

    def fork_trial(self, plan: WarmPlan, request: dict, stdout: int, stderr: int, umask: int,
                   cgroup: str | None) -> int:
        """Start the trial; its pid. Raises ``OSError`` when the warm interpreter does not answer."""
        message = {'script': plan.script, 'argv': plan.argv, 'words': plan.words, 'cwd': request['cwd'],
                   'env': request['env'], 'umask': umask, 'cgroup': cgroup}
        self.socket.setblocking(True)
        self.socket.settimeout(FORK_TIMEOUT_S)
        try:
            socket.send_fds(self.socket, [json.dumps(message).encode('utf-8')], [stdout, stderr])
            data = self.socket.recv(65536)
        except OSError:
            self.broken = True
            raise
        finally:
            if not self.broken:
                self.socket.setblocking(False)
        if not data:
            self.broken = True
            raise OSError('the warm interpreter went away')
        answer = json.loads(data)
        if 'pid' not in answer:
            self.broken = True
            raise OSError(f'the warm interpreter cannot fork: {answer.get("error")}')
        return int(answer['pid'])

    def close(self) -> None:
        self.socket.close()
        if self.process.poll() is None:
            try:
                self.process.kill()
            except OSError:
                pass


class WarmStarter:
    """Decides per spawn request whether the warm interpreter runs it, and keeps that interpreter."""

    def __init__(self, log, register, unregister) -> None:  # type: ignore[no-untyped-def]
        self.log = log
        self.register = register
        self.unregister = unregister
        self.current: WarmInterpreter | None = None
        self.failures = 0

    def try_spawn(self, request: dict, stdout: int, stderr: int, umask: int, cgroup: str | None) -> int | None:
        """The pid of the trial started warm, or ``None`` when the caller must start it the usual way."""
        if self.failures >= MAX_FAILURES:
            return None
        plan = plan_for(request)
        if plan is None:
            return None
        current = self.current
        if current is not None and (current.broken or current.key != plan.key):
            self.discard(count_failure=current.broken)
            current = None
        if current is None:
            self.start(plan, request['env'])
            return None  # this trial starts the usual way while the new interpreter warms up
        if not current.ready:
            return None
        try:
            return current.fork_trial(plan, request, stdout, stderr, umask, cgroup)
        except OSError as error:
            self.log(f'warm interpreter failed ({error}); starting the trial the usual way')
            self.discard(count_failure=True)
            return None

    def prepare(self, request: dict) -> None:
        """Start a warm interpreter for trials like ``request`` (command, cwd, env) before they come."""
        plan = plan_for(request)
        if plan is None or self.failures >= MAX_FAILURES:
            return
        if self.current is not None and self.current.key == plan.key and not self.current.broken:
            return
        self.discard(count_failure=False)
        self.start(plan, request['env'])

    def start(self, plan: WarmPlan, env: dict[str, str]) -> None:
        try:
            self.current = WarmInterpreter(plan, env, self.log)
        except OSError as error:
            self.failures += 1
            self.log(f'cannot start a warm interpreter: {error}')
            return
        self.register(self.current.socket, self.current)

    def discard(self, count_failure: bool) -> None:
        current, self.current = self.current, None
        if current is None:
            return
        if count_failure:
            self.failures += 1
        self.unregister(current.socket)
        current.close()

    def on_readable(self, interpreter: WarmInterpreter) -> None:
        if interpreter is not self.current:
            return
        interpreter.on_readable()
        if interpreter.broken:
            self.discard(count_failure=True)

    def owns(self, pid: int) -> bool:
        return self.current is not None and self.current.pid == pid

    def on_exit(self, pid: int) -> None:
        """The warm interpreter process ended (reaped by the supervisor)."""
        if self.current is not None and self.current.pid == pid:
            self.current.process.returncode = -1  # reaped already: Popen must not wait for it
            # killed by a sweep after it served: expected; dead before it was ready: a failure
            self.discard(count_failure=not self.current.ready)
