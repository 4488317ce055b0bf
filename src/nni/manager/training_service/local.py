"""Local training service: trials are processes on this machine, owned by the trial supervisor.

Each trial runs as ``/bin/bash -c <trialCommand>`` in its own session, with cwd = the trial code
directory, stdout/stderr into the trial directory and NNI's environment variables. The processes
belong to the experiment's trial supervisor (``supervisor_process.py``), not to the manager: the
manager asks it over a Unix socket to spawn, kill and stop, and hears each trial's end from it
(no polling, which keeps short trials fast; no fork in the manager, so the event loop never
blocks on one). When the manager dies the trials run on, and a resumed manager takes them back
with :meth:`LocalTrainingService.reattach` (docs/internals.md, "Trial supervisor and reattach").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from pathlib import Path
from typing import Any

from .base import (
    EXIT_CODE_FILE,
    TrainingService,
    TrainingServiceError,
    TrialExit,
    TrialHandle,
    TrialSpec,
    append_stderr_note,
    read_exit_code,
)
from .gpu import GpuAllocator
from .supervisor_client import SupervisorClient, SupervisorError, boot_id, process_start_ticks

_logger = logging.getLogger('nni.manager.local')

#: seconds between SIGINT and SIGKILL when a trial is killed (NNI uses the same 5 s)
KILL_GRACE_SECONDS = 5.0
#: written by the supervisor next to the exit code when it stopped a trial because no manager came back
INTERRUPTED_FILE = '.nni/interrupted'
#: files of an attempt that a later attempt of the same trial must not overwrite or read as its own
ATTEMPT_FILES = ('trial.stdout', 'trial.stderr', '.nni/metrics')
#: the current manager's trial channel URL, for trials started by an earlier manager
MANAGER_URL_FILE = '.nni/manager-url'


#: characters that make a command more than "program and plain arguments" for bash
_SHELL_SYNTAX = frozenset('$`\\"\'*?[]{}()<>|&;~!#=%\n')


def trial_argv(command: str) -> list[str]:
    """The argv that runs a trial command: ``bash -c`` as NNI does, or the program itself when bash would
    only split it on spaces (saves a bash start per trial; the process and its exit are the same)."""
    words = command.split()
    if (words and words[0].startswith('/') and not any(char in _SHELL_SYNTAX for char in command)
            and os.access(words[0], os.X_OK)):
        return words
    return ['/bin/bash', '-c', command]


def point_to_this_manager(spec: TrialSpec) -> None:
    """Tell a reattached trial where this manager listens (``.nni/manager-url``).

    The trial's ``NNI_TRIAL_COMMAND_CHANNEL`` names the port of the manager that started it; a
    resumed manager may listen elsewhere. The trial's channel reads this file when its manager
    cannot be reached (nni.runtime.http_channel), so it reports live again instead of only into its
    metrics file.
    """
    url = spec.env.get('NNI_TRIAL_COMMAND_CHANNEL')
    if not url:
        return
    path = spec.trial_dir / MANAGER_URL_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + '.tmp')
        temporary.write_text(url + '\n', encoding='utf-8')
        os.replace(temporary, path)
    except OSError as error:
        _logger.warning('cannot tell trial %s where the manager listens: %s', spec.trial_id, error)


def rotate_attempt_files(trial_dir: Path, previous_attempt: int) -> None:
    """Keep the files of attempt ``previous_attempt`` as ``<name>.attempt-<n>`` before the next one starts."""
    for name in ATTEMPT_FILES:
        path = trial_dir / name
        if path.exists():
            os.replace(path, path.with_name(f'{path.name}.attempt-{previous_attempt}'))
    for name in (EXIT_CODE_FILE, INTERRUPTED_FILE, MANAGER_URL_FILE):
        try:
            (trial_dir / name).unlink()
        except FileNotFoundError:
            pass


class _RunningTrial:
    def __init__(self, spec: TrialSpec, pid: int, start_ticks: int | None, gpus: list[int]) -> None:
        self.spec = spec
        self.pid = pid
        self.start_ticks = start_ticks
        self.gpus = gpus
        self.killing = False


class LocalTrainingService(TrainingService):
    """Run trials as local processes.

    Parameters
    ----------
    config
        The ``trainingService`` section (camelCase JSON) of the experiment config.
    root
        The experiment folder (where the supervisor keeps its socket and identity). Tests that
        build the service by hand may leave it out: a private temporary folder is used.
    experiment_id
        Lets the supervisor recognise the experiment's processes by ``NNI_EXP_ID``.
    """

    environment_id = 'local-env'
    platform = 'local'

    def __init__(self, config: dict, root: Path | None = None, experiment_id: str = '') -> None:
        super().__init__()
        self._config = config
        self._root = root
        self._experiment_id = experiment_id
        self._running: dict[str, _RunningTrial] = {}
        #: exits the supervisor reported before ``submit`` registered the trial (a very short trial)
        self._early_exits: dict[str, dict[str, Any]] = {}
        self._supervisor: SupervisorClient | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._expected: tuple[str, Path, dict[str, str]] | None = None
        self._gpus = GpuAllocator(
            gpu_indices=config.get('gpuIndices'),
            max_trials_per_gpu=int(config.get('maxTrialNumberPerGpu') or 1),
            use_active_gpu=bool(config.get('useActiveGpu', False)),
        )

    async def start(self) -> None:
        await asyncio.to_thread(self._gpus.detect)
        # the supervisor's interpreter starts in the background: the answer to POST /experiment (which
        # Experiment.start() waits for) does not wait for it; the first launch or reattach does
        self._connecting = asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        if self._root is None:
            import tempfile

            self._root = Path(tempfile.mkdtemp(prefix='nni-local-'))
            (self._root / 'db').mkdir()
        client = SupervisorClient(self._root, self._experiment_id, self._on_supervisor_event,
                                  self._on_supervisor_lost)
        await client.connect()
        self._supervisor = client
        if self._expected is not None:
            command, code_dir, env = self._expected
            # the supervisor readies its warm interpreter now, so the first trials need not start cold
            request = {'op': 'warm', 'command': command, 'cwd': str(code_dir), 'env': {**self._trial_base_env(), **env}}
            with contextlib.suppress(SupervisorError, asyncio.TimeoutError, OSError):
                await client.request(request)

    def expect_trials(self, command: str, code_dir: Path, env: dict[str, str]) -> None:
        self._expected = (command, code_dir, env)

    @staticmethod
    def _trial_base_env() -> dict[str, str]:
        env = dict(os.environ)
        env.pop('NNI_USER_UMASK', None)
        return env

    async def _ensure_supervisor(self) -> SupervisorClient:
        """The connected supervisor; connects (or starts one) when there is none. One attempt at a time."""
        while self._supervisor is None:
            task = self._connecting
            if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
                task = self._connecting = asyncio.get_running_loop().create_task(self._connect())
            try:
                await asyncio.shield(task)
            except (SupervisorError, OSError) as error:
                raise TrainingServiceError(f'the trial supervisor cannot be started: {error}') from error
            if self._supervisor is None:
                self._connecting = None  # connected, then lost already: try again
        return self._supervisor

    def can_start(self, spec: TrialSpec) -> bool:
        if not spec.gpu_number:
            return True
        return self._gpus.can_allocate(spec.gpu_number)

    def check_gpu_request(self, gpu_number: int | None) -> str | None:
        """An error message if no trial asking for ``gpu_number`` GPUs could ever start here."""
        if not gpu_number:
            return None
        return self._gpus.check_request(gpu_number)

    def log_path(self, spec: TrialSpec) -> str:
        return str(spec.trial_dir)

    async def submit(self, spec: TrialSpec) -> int:
        supervisor = await self._ensure_supervisor()
        spec.trial_dir.mkdir(parents=True, exist_ok=True)
        if spec.attempt > 0:
            rotate_attempt_files(spec.trial_dir, spec.attempt - 1)
        (spec.trial_dir / 'parameter.cfg').write_text(spec.parameter_record, encoding='utf-8')
        env = self._trial_base_env()
        env.update(spec.env)
        gpus: list[int] = []
        if spec.gpu_number is not None:
            gpus = self._gpus.allocate(spec.gpu_number) if spec.gpu_number > 0 else []
            env['CUDA_VISIBLE_DEVICES'] = ','.join(str(index) for index in gpus)
        if not spec.code_dir.is_dir():
            self._gpus.release(gpus)
            raise TrainingServiceError(f'trial code directory {spec.code_dir} does not exist')
        request = {'op': 'spawn', 'id': spec.trial_id, 'argv': trial_argv(spec.command), 'command': spec.command,
                   'cwd': str(spec.code_dir), 'env': env, 'trial_dir': str(spec.trial_dir),
                   'stdout': str(spec.trial_dir / 'trial.stdout'), 'stderr': str(spec.trial_dir / 'trial.stderr')}
        try:
            answer = await supervisor.request(request)
        except (SupervisorError, asyncio.TimeoutError) as error:
            self._gpus.release(gpus)
            raise TrainingServiceError(f'cannot start trial {spec.trial_id}: {error}') from error
        if answer.get('op') != 'spawned':
            self._gpus.release(gpus)
            error = OSError(answer.get('errno') or 0, f'cannot start trial {spec.trial_id}: {answer.get("error")}')
            append_stderr_note(spec.trial_dir, f'nni: cannot start trial command: {answer.get("error")}\n')
            raise TrainingServiceError(str(error)) from error
        running = _RunningTrial(spec, int(answer['pid']), answer.get('start_ticks'), gpus)
        self._running[spec.trial_id] = running
        early = self._early_exits.pop(spec.trial_id, None)
        if early is not None and early.get('pid') == running.pid:
            asyncio.get_running_loop().call_soon(self._on_supervisor_event, early)
        return int(answer.get('time_ms') or time.time() * 1000)

    # ------------------------------------------------------------------ supervisor events

    def _on_supervisor_event(self, message: dict[str, Any]) -> None:
        if message.get('op') != 'exit':
            return
        trial_id = str(message.get('id'))
        running = self._running.get(trial_id)
        if running is None or running.pid != message.get('pid'):
            # the answer to "spawn" and this event can cross: keep it for submit
            self._early_exits[trial_id] = message
            return
        self._running.pop(trial_id, None)
        self._gpus.release(running.gpus)
        self._report_exit(_trial_exit(trial_id, message))

    def _on_supervisor_lost(self) -> None:
        # Without the supervisor nobody will report these trials' ends: report them lost now so
        # the experiment does not wait forever (their processes were killed with the supervisor,
        # or are found by pid and start time on the next resume).
        self._supervisor = None
        for trial_id, running in list(self._running.items()):
            self._running.pop(trial_id, None)
            self._gpus.release(running.gpus)
            self._report_exit(TrialExit(trial_id, read_exit_code(running.spec.trial_dir),
                                        'the trial supervisor process went away'))

    # ------------------------------------------------------------------ kill / stop

    async def kill(self, trial_id: str) -> None:
        running = self._running.get(trial_id)
        if running is None or running.killing or self._supervisor is None:
            return
        running.killing = True
        try:
            await self._supervisor.request({'op': 'kill', 'id': trial_id, 'grace': KILL_GRACE_SECONDS})
        except (SupervisorError, asyncio.TimeoutError) as error:
            _logger.warning('cannot kill trial %s: %s', trial_id, error)

    async def stop(self) -> None:
        if self._supervisor is None and self._connecting is not None and not self._connecting.done():
            with contextlib.suppress(Exception):
                await self._connecting
        supervisor = self._supervisor
        if supervisor is None:
            return
        try:
            await supervisor.request({'op': 'stop_all', 'grace': KILL_GRACE_SECONDS},
                                     timeout=KILL_GRACE_SECONDS + 30)
        except (SupervisorError, asyncio.TimeoutError) as error:
            _logger.error('the trial supervisor did not confirm that every trial stopped: %s', error)
        await supervisor.close()
        self._supervisor = None

    def running_trial_ids(self) -> list[str]:
        return list(self._running)

    # ------------------------------------------------------------------ reattach

    def trial_handle(self, trial_id: str) -> TrialHandle | None:
        running = self._running.get(trial_id)
        if running is None or self._supervisor is None:
            return None
        identity = self._supervisor.identity
        return {'pid': running.pid, 'start_ticks': running.start_ticks, 'boot_id': identity.get('boot_id'),
                'supervisor_pid': identity.get('pid'), 'supervisor_start_ticks': identity.get('start_ticks'),
                'gpus': running.gpus}

    async def reattach(self, spec: TrialSpec, handle: TrialHandle) -> TrialExit | None:
        supervisor = await self._ensure_supervisor()
        identity = supervisor.identity
        if not handle.get('pid'):
            # the manager died while launching, before it recorded the handle: the supervisor knows
            return await self._reattach_by_id(supervisor, spec)
        same_supervisor = (handle.get('supervisor_pid') == identity.get('pid')
                           and handle.get('supervisor_start_ticks') == identity.get('start_ticks')
                           and handle.get('boot_id') == identity.get('boot_id'))
        if same_supervisor:
            try:
                answer = await supervisor.request({'op': 'status', 'id': spec.trial_id, 'pid': handle.get('pid'),
                                                   'start_ticks': handle.get('start_ticks')})
            except (SupervisorError, asyncio.TimeoutError) as error:
                # it went away (it leaves only once no trial runs): the files say how the trial ended
                _logger.warning('the trial supervisor did not answer about trial %s: %s', spec.trial_id, error)
                answer = {}
            if answer.get('state') == 'running':
                gpus = [int(index) for index in handle.get('gpus') or []]
                for index in gpus:  # still held by the trial: not free for others
                    self._gpus._in_use[index] += 1
                self._running[spec.trial_id] = _RunningTrial(spec, int(handle['pid']), handle.get('start_ticks'),
                                                             gpus)
                point_to_this_manager(spec)
                return None
            if answer.get('state') == 'exited':
                return _trial_exit(spec.trial_id, answer)
        # the supervisor that ran it is gone (killed, or the machine restarted): only the files tell
        if (handle.get('boot_id') == boot_id() and isinstance(handle.get('pid'), int)
                and process_start_ticks(handle['pid']) == handle.get('start_ticks')):
            # still running with nobody to report its end: stop it, the engine runs it again
            _logger.warning('trial %s (pid %d) outlived its supervisor; stopping it', spec.trial_id, handle['pid'])
            _kill_group(handle['pid'])
            return TrialExit(spec.trial_id, None, 'the trial outlived its supervisor and was stopped', lost=True)
        code = read_exit_code(spec.trial_dir)
        if code is None:
            return TrialExit(spec.trial_id, None, 'the trial ended while no manager watched it and left no exit code',
                             lost=True)
        interrupted = (spec.trial_dir / INTERRUPTED_FILE).exists()
        return TrialExit(spec.trial_id, None if interrupted else code,
                         'stopped by the trial supervisor: no manager came back in time' if interrupted else None,
                         lost=interrupted)


    async def _reattach_by_id(self, supervisor: SupervisorClient, spec: TrialSpec) -> TrialExit | None:
        try:
            answer = await supervisor.request({'op': 'status', 'id': spec.trial_id})
        except (SupervisorError, asyncio.TimeoutError):
            answer = {}
        if answer.get('state') == 'running':
            self._running[spec.trial_id] = _RunningTrial(spec, int(answer['pid']), answer.get('start_ticks'), [])
            point_to_this_manager(spec)
            return None
        if answer.get('state') == 'exited':
            return _trial_exit(spec.trial_id, answer)
        return TrialExit(spec.trial_id, None, 'the manager stopped while launching the trial', lost=True)


def _trial_exit(trial_id: str, message: dict[str, Any]) -> TrialExit:
    if message.get('interrupted'):
        return TrialExit(trial_id, None, 'stopped by the trial supervisor: no manager came back in time', lost=True)
    code = message.get('code')
    return TrialExit(trial_id, code if isinstance(code, int) else None)


def _kill_group(pid: int) -> None:
    for sig in (signal.SIGKILL,):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def trial_directory(root: Path, environment_id: str, trial_id: str) -> Path:
    """``<root>/environments/<env>/trials/<trial>``, NNI 3.0's trial output directory."""
    return root / 'environments' / environment_id / 'trials' / trial_id


__all__ = ['LocalTrainingService', 'TrainingServiceError', 'rotate_attempt_files', 'trial_directory']
