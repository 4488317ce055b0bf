"""Remote training service: trials run on other machines, reached over SSH (``platform: remote``).

Per machine there is one SSH connection (:mod:`.ssh`), opened in :meth:`start`; every command
and transfer is a channel on it. The layout on a machine::

    ~/nni-remote/<experiment id>/code/            the trial code, uploaded once (minus .nniignore)
    ~/nni-remote/<experiment id>/trials/<trial>/  one trial: .nni/run.sh, parameter.cfg,
                                                  trial.stdout/.stderr, .nni/{pid,exitcode,metrics}

With ``sharedStorage`` both folders live on the shared mount instead (``remoteMountPoint`` on the
machines, ``localMountPoint`` here) and nothing is uploaded or copied back.

A trial runs under a bash wrapper (:func:`.remote_scripts.trial_wrapper`) started with ``setsid``:
it leads its own session and process group, outlives the SSH command and the manager, and writes
the exit code to ``.nni/exitcode`` when the trial command ends. One poll command per machine and
interval checks all of its trials; an ended trial's folder is copied back into the manager's trial
folder (so the REST API and the portal find its files, and the engine its metrics file) before the
engine hears of the end.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import os
import shlex
import shutil
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .base import (
    TrainingService,
    TrainingServiceError,
    TrialExit,
    TrialHandle,
    TrialSpec,
    append_stderr_note,
    read_exit_code,
)
from .remote_gpu import RemoteGpuAllocator, fake_remote_inventory, parse_gpu_query
from .remote_nniignore import load_nniignore
from .remote_scripts import COLLECT, GPU_QUERY, KILL, LAUNCH, POLL, trial_wrapper
from .ssh import SshConnection, SshError, SshMachine, SshShell

_logger = logging.getLogger('nni.manager.remote')

__all__ = ['RemoteTrainingService']

#: longest pause between two polls of a machine's trials (env ``NNI_REMOTE_POLL_INTERVAL`` overrides)
POLL_INTERVAL = 1.0
#: shortest pause: right after a trial starts or ends on the machine the polls come this often, then
#: slow down (a tenth of the time since that event), so short trials are seen ending quickly and
#: long ones cost a poll a second
MIN_POLL_INTERVAL = 0.05
#: seconds between SIGINT and SIGKILL when a trial is killed (as the local service)
KILL_GRACE_SECONDS = 5.0
#: seconds a poll or a kill command may take before the machine counts as unreachable
COMMAND_TIMEOUT = 30.0
#: seconds between attempts to reach a machine that was lost
RECONNECT_INTERVAL = 2.0


@dataclass
class _RemoteTrial:
    spec: TrialSpec
    machine: _Machine
    remote_dir: str
    pid: int
    ticks: str
    gpus: list[int]
    kill_requested: bool = False
    kill_task: asyncio.Task[None] | None = None


@dataclass
class _Machine:
    index: int
    config: dict[str, Any]
    ssh: SshConnection
    #: the long-lived shell that runs polls, launches, kills and collections
    shell: SshShell
    gpus: RemoteGpuAllocator
    #: False while the machine cannot be reached; no trial is sent to it then
    up: bool = False
    home: str = ''
    #: the experiment's folder on the machine (trial code and trial folders)
    root: str = ''
    code_dir: str = ''
    trials_dir: str = ''
    #: whether the machine reaches the manager's trial channel (None: not checked yet)
    channel_ok: bool | None = None
    running: dict[str, _RemoteTrial] = field(default_factory=dict)
    #: trials reported lost while the machine was unreachable: killed when it is back
    orphans: set[str] = field(default_factory=set)
    reconnect_task: asyncio.Task[None] | None = None
    #: monotonic time of the last trial start or end here (the poll interval grows from it)
    last_event: float = 0.0
    next_poll: float = 0.0
    #: trial launches that failed in a row here (not for a lost connection); the machine gets no
    #: trial until ``benched_until`` (monotonic) while another machine can take it
    launch_failures: int = 0
    benched_until: float = 0.0

    @property
    def label(self) -> str:
        return self.ssh.machine.label

    @property
    def address(self) -> str:
        return self.ssh.machine.address


class RemoteTrainingService(TrainingService):
    """Run trials on the machines of ``machineList`` over SSH.

    Parameters
    ----------
    config
        The ``trainingService`` section (camelCase JSON) of the experiment config.
    experiment_root
        The experiment's folder on this machine (``<workdir>/<id>``); its name is the experiment id.
    shared_storage
        The experiment's ``sharedStorage`` section (camelCase JSON), if any.
    """

    environment_id = 'remote-env'
    platform = 'remote'

    def __init__(self, config: dict[str, Any], experiment_root: Path,
                 shared_storage: dict[str, Any] | None = None) -> None:
        super().__init__()
        self._config = config
        self._root = Path(experiment_root)
        self._experiment_id = self._root.name
        self._shared = shared_storage if shared_storage and shared_storage.get('remoteMountPoint') else None
        self._machines: list[_Machine] = []
        for index, machine_config in enumerate(config.get('machineList') or []):
            ssh_machine = SshMachine.from_config(machine_config)
            ssh_machine.label = f'trainingService.machineList[{index}] ({ssh_machine.address})'
            connection = SshConnection(ssh_machine)
            self._machines.append(_Machine(
                index=index, config=machine_config, ssh=connection, shell=SshShell(connection),
                gpus=RemoteGpuAllocator(machine_config.get('gpuIndices'),
                                        int(machine_config.get('maxTrialNumberPerGpu') or 1),
                                        bool(machine_config.get('useActiveGpu', False)))))
        self._trials: dict[str, _RemoteTrial] = {}
        self._poll_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._poll_interval = float(os.environ.get('NNI_REMOTE_POLL_INTERVAL') or POLL_INTERVAL)

    # ------------------------------------------------------------------ start

    async def start(self) -> None:
        """Log in to every machine, read its GPUs and upload the trial code.

        Raises :class:`TrainingServiceError` naming every machine that cannot be used, before any
        trial starts.
        """
        if not self._machines:
            raise TrainingServiceError('trainingService.machineList is empty: add at least one machine')
        try:
            from .ssh import import_asyncssh

            import_asyncssh()
        except SshError as error:
            raise TrainingServiceError(str(error)) from error
        results = await asyncio.gather(*(self._prepare_machine(machine) for machine in self._machines),
                                       return_exceptions=True)
        problems = list(dict.fromkeys(str(result) for result in results if isinstance(result, BaseException)))
        if problems:
            await asyncio.gather(*(machine.shell.close() for machine in self._machines), return_exceptions=True)
            await asyncio.gather(*(machine.ssh.close() for machine in self._machines), return_exceptions=True)
            raise TrainingServiceError('cannot use the remote machines: ' + '; '.join(problems))
        if self._poll_task is None:
            self._poll_task = asyncio.get_running_loop().create_task(self._poll_forever())

    async def _prepare_machine(self, machine: _Machine) -> None:
        await machine.ssh.connect()
        _, home = await machine.shell.run('cd && pwd', timeout=COMMAND_TIMEOUT)
        machine.home = home.strip()
        if self._shared is not None:
            machine.root = f'{self._shared["remoteMountPoint"].rstrip("/")}/nni-remote/{self._experiment_id}'
        else:
            machine.root = f'{machine.home}/nni-remote/{self._experiment_id}'
        machine.code_dir = f'{machine.root}/code'
        machine.trials_dir = f'{machine.root}/trials'
        await self._detect_gpus(machine)
        await self._upload_code(machine)
        machine.up = True

    async def _detect_gpus(self, machine: _Machine) -> None:
        fake = fake_remote_inventory(machine.ssh.machine.host, machine.ssh.machine.port)
        if fake is not None:
            inventory = fake
        else:
            _, output = await machine.shell.run(GPU_QUERY, timeout=COMMAND_TIMEOUT)
            inventory = parse_gpu_query(output)
        machine.gpus.apply_inventory(inventory)
        _logger.info('%s: GPUs available to trials: %s', machine.label, machine.gpus.available)

    async def _upload_code(self, machine: _Machine) -> None:
        code_dir = Path(self._config.get('trialCodeDirectory') or '.')
        if not code_dir.is_dir():
            raise SshError(f'trial code directory {code_dir} does not exist')
        if self._shared is not None:
            if machine.index == 0:
                await asyncio.to_thread(self._copy_code_to_shared_storage, code_dir)
            return
        ignore = load_nniignore(code_dir)
        q = shlex.quote
        # unpacked over an earlier upload, never removed first: after a manager restart, trials that
        # still run there would lose their working directory
        status, output = await machine.shell.run(f'mkdir -p {q(machine.trials_dir)}', timeout=COMMAND_TIMEOUT)
        if status != 0:
            raise SshError(f'{machine.label}: cannot create {machine.trials_dir}: {output.strip()}')
        count = await machine.ssh.put_tree(code_dir, machine.code_dir, ignore=ignore)
        _logger.info('%s: uploaded %d files of %s to %s', machine.label, count, code_dir, machine.code_dir)

    def _local_shared_root(self) -> Path:
        assert self._shared is not None
        return Path(self._shared['localMountPoint']) / 'nni-remote' / self._experiment_id

    def _copy_code_to_shared_storage(self, code_dir: Path) -> None:
        ignore = load_nniignore(code_dir)
        target = self._local_shared_root() / 'code'
        (self._local_shared_root() / 'trials').mkdir(parents=True, exist_ok=True)

        def ignored(folder: str, names: list[str]) -> set[str]:
            relative = os.path.relpath(folder, code_dir).replace(os.sep, '/')
            prefix = '' if relative == '.' else relative + '/'
            return {name for name in names
                    if ignore(prefix + name + ('/' if os.path.isdir(os.path.join(folder, name)) else ''))}

        shutil.copytree(code_dir, target, ignore=ignored, dirs_exist_ok=True)

    # ------------------------------------------------------------------ scheduling

    def _candidates(self, gpu_number: int | None) -> list[_Machine]:
        machines = [machine for machine in self._machines if machine.up]
        if gpu_number:
            machines = [machine for machine in machines if machine.gpus.can_allocate(gpu_number)]
        # the least busy machine first, so trials spread over the machines; machines where launches
        # keep failing come last while their pause lasts
        now = time.monotonic()
        return sorted(machines, key=lambda machine: (machine.benched_until > now, len(machine.running), machine.index))

    def can_start(self, spec: TrialSpec) -> bool:
        return bool(self._candidates(spec.gpu_number))

    def check_gpu_request(self, gpu_number: int | None) -> str | None:
        """An error message if no machine could ever give a trial ``gpu_number`` GPUs."""
        if not gpu_number:
            return None
        if any(len(machine.gpus.available) >= gpu_number for machine in self._machines):
            return None
        counts = ', '.join(f'{machine.label}: {machine.gpus.available}' for machine in self._machines)
        return (f'trialGpuNumber is {gpu_number} but no remote machine has that many usable GPUs ({counts}); '
                'lower trialGpuNumber or check gpuIndices/useActiveGpu')

    def log_path(self, spec: TrialSpec) -> str:
        # the manager's copy of the trial folder: the REST API and the portal read files there
        return str(spec.trial_dir)

    def trial_machine(self, trial_id: str) -> str | None:
        """``user@host:port`` of the machine that runs (or ran) ``trial_id``, if this service knows it."""
        trial = self._trials.get(trial_id)
        return trial.machine.address if trial is not None else None

    # ------------------------------------------------------------------ submit

    async def submit(self, spec: TrialSpec) -> int:
        failures = []
        for machine in self._candidates(spec.gpu_number):
            gpus = machine.gpus.allocate(spec.gpu_number) if spec.gpu_number else []
            try:
                trial = await self._launch(machine, spec, gpus)
                machine.launch_failures = 0
                break
            except TrainingServiceError as error:
                # the machine answers but cannot start trials (a full disk, no permission): try the
                # others, and leave this one alone for a while (5 s, doubling up to 5 min)
                machine.gpus.release(gpus)
                machine.launch_failures += 1
                pause = min(300.0, 5.0 * 2 ** (machine.launch_failures - 1))
                machine.benched_until = time.monotonic() + pause
                _logger.warning('%s; no trial goes there for %.0f s unless no other machine can take it', error, pause)
                failures.append(str(error))
            except SshError as error:
                machine.gpus.release(gpus)
                # the machine went away since the last poll: the trial goes to the next one
                failures.append(str(error))
                self._machine_lost(machine, str(error))
                machine.orphans.add(spec.trial_id)  # in case it started all the same
        else:
            reason = '; '.join(failures) or 'no remote machine is reachable with the resources this trial needs'
            raise TrainingServiceError(f'cannot start trial {spec.trial_id}: {reason}')
        machine = trial.machine
        machine.running[spec.trial_id] = trial
        self._trials[spec.trial_id] = trial
        machine.last_event = time.monotonic()
        machine.next_poll = min(machine.next_poll, machine.last_event + MIN_POLL_INTERVAL)
        self._write_machine_note(spec.trial_dir, machine)
        return int(time.time() * 1000)

    def _remote_trial_dir(self, machine: _Machine, spec: TrialSpec) -> str:
        # a trial run again after it was lost gets a fresh folder (its old one may still be written)
        suffix = f'-{spec.attempt}' if spec.attempt else ''
        return f'{machine.trials_dir}/{spec.trial_id}{suffix}'

    async def _launch(self, machine: _Machine, spec: TrialSpec, gpus: list[int]) -> _RemoteTrial:
        remote_dir = self._remote_trial_dir(machine, spec)
        env = await self._trial_env(machine, spec, remote_dir)
        if spec.gpu_number is not None:
            env['CUDA_VISIBLE_DEVICES'] = ','.join(str(index) for index in gpus)
        spec.trial_dir.mkdir(parents=True, exist_ok=True)
        (spec.trial_dir / 'parameter.cfg').write_text(spec.parameter_record, encoding='utf-8')
        wrapper = trial_wrapper(remote_dir, machine.code_dir, spec.command, env, machine.config.get('pythonPath'))
        payload = _tar_bytes({'.nni/run.sh': wrapper.encode(), 'parameter.cfg': spec.parameter_record.encode()})
        status, output = await machine.shell.run(LAUNCH, remote_dir, input=base64.b64encode(payload).decode(),
                                                 timeout=COMMAND_TIMEOUT)
        lines = output.strip().splitlines()
        fields = lines[-1].split() if lines else []
        if status != 0 or len(fields) != 2 or not fields[0].isdigit():
            raise TrainingServiceError(f'{machine.label}: the trial wrapper did not start in {remote_dir}: '
                                       f'{output.strip()[-300:]}')
        _logger.info('trial %s started on %s as pid %s in %s', spec.trial_id, machine.label, fields[0], remote_dir)
        return _RemoteTrial(spec, machine, remote_dir, int(fields[0]), fields[1], gpus)

    async def _trial_env(self, machine: _Machine, spec: TrialSpec, remote_dir: str) -> dict[str, str]:
        env = dict(spec.env)
        env['NNI_SYS_DIR'] = remote_dir
        env['NNI_OUTPUT_DIR'] = remote_dir
        env['NNI_CODE_DIR'] = machine.code_dir
        channel = env.get('NNI_TRIAL_COMMAND_CHANNEL')
        if channel:
            url = self._channel_for_machine(channel)
            if machine.channel_ok is None:
                machine.channel_ok = await self._reaches(machine, url)
                if not machine.channel_ok:
                    _logger.warning('%s cannot reach the manager at %s: its trials report metrics through '
                                    'their metrics file, collected when they end (set nniManagerIp to an '
                                    'address the machine reaches)', machine.label, url)
            if machine.channel_ok:
                env['NNI_TRIAL_COMMAND_CHANNEL'] = url
            else:
                # without a channel URL the trial writes .nni/metrics (the legacy file channel)
                env.pop('NNI_TRIAL_COMMAND_CHANNEL')
        return env

    def _channel_for_machine(self, url: str) -> str:
        manager_ip = self._config.get('nniManagerIp')
        if not manager_ip:
            return url
        parts = urlsplit(url)
        return urlunsplit(parts._replace(netloc=f'{manager_ip}:{parts.port}'))

    @staticmethod
    async def _reaches(machine: _Machine, url: str) -> bool:
        parts = urlsplit(url)
        probe = f'exec 3<>/dev/tcp/{parts.hostname}/{parts.port}'
        try:
            status, _ = await machine.shell.run(f'timeout 5 bash -c {shlex.quote(probe)}', timeout=COMMAND_TIMEOUT)
        except SshError:
            return False
        return status == 0

    @staticmethod
    def _write_machine_note(trial_dir: Path, machine: _Machine) -> None:
        # read by the REST API (trial field "machine") and kept after the experiment ends
        try:
            (trial_dir / '.nni').mkdir(parents=True, exist_ok=True)
            (trial_dir / '.nni' / 'machine').write_text(machine.address + '\n', encoding='utf-8')
        except OSError:
            _logger.exception('cannot write the machine note of %s', trial_dir)

    # ------------------------------------------------------------------ polling

    async def _poll_forever(self) -> None:
        while not self._stopping:
            for machine in self._machines:
                if machine.up and not machine.ssh.connected:
                    # the connection died while the machine had no trial to poll (keepalive)
                    self._machine_lost(machine, 'the SSH connection closed')
            now = time.monotonic()
            due = [machine for machine in self._machines if machine.up and machine.running
                   and now >= machine.next_poll]
            if due:
                results = await asyncio.gather(*(self._poll_machine(machine) for machine in due),
                                               return_exceptions=True)
                for machine, result in zip(due, results, strict=True):
                    if isinstance(result, Exception):
                        _logger.error('polling %s failed', machine.label, exc_info=result)
            for machine in due:
                quiet = time.monotonic() - machine.last_event
                machine.next_poll = time.monotonic() + min(self._poll_interval, max(MIN_POLL_INTERVAL, quiet / 10))
            await asyncio.sleep(MIN_POLL_INTERVAL / 2)

    async def _poll_machine(self, machine: _Machine) -> None:
        trials = list(machine.running.values())
        listing = ''.join(f'{t.spec.trial_id} {t.pid} {t.ticks} {t.remote_dir}\n' for t in trials)
        try:
            _, output = await machine.shell.run(POLL, input=listing, timeout=COMMAND_TIMEOUT)
        except SshError as error:
            self._machine_lost(machine, str(error))
            return
        states = {}
        for line in output.splitlines():
            parts = line.split()
            if len(parts) >= 2:
                states[parts[0]] = parts[1:]
        for trial in trials:
            state = states.get(trial.spec.trial_id)
            if state is None or state[0] == 'RUNNING':
                continue
            code = int(state[1]) if state[0] == 'EXIT' and len(state) > 1 and state[1].lstrip('-').isdigit() else None
            await self._finish(trial, code)

    async def _finish(self, trial: _RemoteTrial, code: int | None, message: str | None = None) -> None:
        machine = trial.machine
        if machine.running.pop(trial.spec.trial_id, None) is None:
            return
        machine.last_event = time.monotonic()
        machine.gpus.release(trial.gpus)
        if trial.kill_task is not None:
            trial.kill_task.cancel()
        if trial.kill_requested and not self._stopping:
            # what the killed trial left behind (background jobs ignore SIGINT, daemons left its group)
            try:
                await self._kill_on(machine, 'KILL', [trial.pid], [trial.spec.trial_id])
            except SshError as error:
                _logger.warning('cannot clean up after trial %s: %s', trial.spec.trial_id, error)
        await self._collect(trial)
        if code is None and message is None:
            # the wrapper may have written its code right after the poll looked
            code = read_exit_code(trial.spec.trial_dir)
            if code is None and not trial.kill_requested:
                message = f'the trial process on {machine.label} ended without an exit code (killed by a signal?)'
        self._report_exit(TrialExit(trial.spec.trial_id, code, message))

    async def _collect(self, trial: _RemoteTrial) -> None:
        """Copy the remote trial folder into the manager's trial folder."""
        if self._shared is not None:
            source = self._local_shared_root() / 'trials' / Path(trial.remote_dir).name
            await asyncio.to_thread(_copy_tree, source, trial.spec.trial_dir)
            return
        try:
            status, output = await trial.machine.shell.run(COLLECT, trial.remote_dir, timeout=COMMAND_TIMEOUT)
            if status != 0:
                raise SshError(f'no trial folder {trial.remote_dir} on {trial.machine.label}')
            data = base64.b64decode(output.strip())
            await asyncio.to_thread(_extract, data, trial.spec.trial_dir)
        except (SshError, OSError, ValueError, tarfile.TarError) as error:
            _logger.warning('cannot copy back the files of trial %s: %s', trial.spec.trial_id, error)

    # ------------------------------------------------------------------ lost and found machines

    def _machine_lost(self, machine: _Machine, reason: str) -> None:
        if not machine.up or self._stopping:
            return
        machine.up = False
        machine.channel_ok = None
        _logger.error('%s is unreachable: %s; its %d running trial(s) are lost', machine.label, reason,
                      len(machine.running))
        for trial in list(machine.running.values()):
            machine.running.pop(trial.spec.trial_id, None)
            machine.gpus.release(trial.gpus)
            if trial.kill_task is not None:
                trial.kill_task.cancel()
            machine.orphans.add(trial.spec.trial_id)
            append_stderr_note(trial.spec.trial_dir, f'nni: {machine.label} became unreachable: {reason}\n')
            self._report_exit(TrialExit(trial.spec.trial_id, None,
                                        f'{machine.label} became unreachable: {reason}'))
        if machine.reconnect_task is None or machine.reconnect_task.done():
            machine.reconnect_task = asyncio.get_running_loop().create_task(self._reconnect(machine))

    async def _reconnect(self, machine: _Machine) -> None:
        while not self._stopping and not machine.up:
            await asyncio.sleep(RECONNECT_INTERVAL)
            try:
                await machine.shell.close()
                await machine.ssh.close()
                await machine.ssh.connect()
                if machine.orphans:
                    # trials reported lost may have run on while the machine was cut off
                    await self._kill_on(machine, 'KILL', [], sorted(machine.orphans))
                    machine.orphans.clear()
            except SshError as error:
                _logger.debug('%s still unreachable: %s', machine.label, error)
                continue
            machine.up = True
            _logger.info('%s is reachable again; trials go to it again', machine.label)

    # ------------------------------------------------------------------ kill / stop

    async def _kill_on(self, machine: _Machine, signal_name: str, groups: list[int], trial_ids: list[str],
                       whole_experiment: bool = False) -> None:
        args = [signal_name, self._experiment_id] + ([] if whole_experiment else trial_ids)
        if not whole_experiment and not trial_ids:
            args = [signal_name, self._experiment_id, '-none-']
        await machine.shell.run(KILL, *args, input=''.join(f'{group}\n' for group in groups),
                                timeout=COMMAND_TIMEOUT)

    async def kill(self, trial_id: str) -> None:
        trial = self._trials.get(trial_id)
        if trial is None or trial.spec.trial_id not in trial.machine.running or trial.kill_requested:
            return
        trial.kill_requested = True
        try:
            # SIGINT to the trial's group only: the trial may clean up; the rest comes after the grace
            await self._kill_on(trial.machine, 'INT', [trial.pid], ['-none-'])
        except SshError as error:
            _logger.warning('cannot signal trial %s: %s', trial_id, error)
        trial.kill_task = asyncio.get_running_loop().create_task(self._kill_after_grace(trial))

    async def _kill_after_grace(self, trial: _RemoteTrial) -> None:
        await asyncio.sleep(KILL_GRACE_SECONDS)
        if trial.spec.trial_id in trial.machine.running:
            _logger.info('trial %s ignored SIGINT for %.0f s, sending SIGKILL', trial.spec.trial_id,
                         KILL_GRACE_SECONDS)
            try:
                await self._kill_on(trial.machine, 'KILL', [trial.pid], [trial.spec.trial_id])
            except SshError as error:
                _logger.warning('cannot kill trial %s: %s', trial.spec.trial_id, error)

    async def stop(self) -> None:
        """Kill every trial (SIGINT, SIGKILL after the grace) and anything left of the experiment."""
        live = [machine for machine in self._machines if machine.up]
        for machine in live:
            groups = [trial.pid for trial in machine.running.values()]
            for trial in machine.running.values():
                trial.kill_requested = True
            if groups:
                try:
                    await self._kill_on(machine, 'INT', groups, ['-none-'])
                except SshError as error:
                    _logger.warning('%s: %s', machine.label, error)
        deadline = time.monotonic() + KILL_GRACE_SECONDS
        while any(machine.running for machine in live) and time.monotonic() < deadline:
            await asyncio.gather(*(self._poll_machine(machine) for machine in live if machine.running),
                                 return_exceptions=True)
            await asyncio.sleep(0.1)
        self._stopping = True
        await self._clean_unreachable(live)
        for machine in live:
            try:
                groups = [trial.pid for trial in machine.running.values()]
                # every process of this experiment on the machine, daemonized ones included
                await self._kill_on(machine, 'KILL', groups, [], whole_experiment=True)
            except SshError as error:
                _logger.warning('%s: cannot clean up: %s', machine.label, error)
            for trial in list(machine.running.values()):
                await self._finish(trial, None, 'stopped with the experiment')
        tasks = [task for task in [self._poll_task] + [m.reconnect_task for m in self._machines] if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(machine.shell.close() for machine in self._machines), return_exceptions=True)
        await asyncio.gather(*(machine.ssh.close() for machine in self._machines), return_exceptions=True)

    async def _clean_unreachable(self, live: list[_Machine]) -> None:
        """One last try to reach the machines that were lost, to kill what is left of the experiment there."""
        for machine in self._machines:
            if machine in live:
                continue
            try:
                await machine.shell.close()
                await machine.ssh.close()
                await machine.ssh.connect(timeout=5)
                await self._kill_on(machine, 'KILL', [], [], whole_experiment=True)
            except SshError as error:
                _logger.warning('%s is still unreachable at stop; trials it ran may go on there: %s',
                                machine.label, error)

    def running_trial_ids(self) -> list[str]:
        return [trial_id for machine in self._machines for trial_id in machine.running]

    # ------------------------------------------------------------------ reattach

    def trial_handle(self, trial_id: str) -> TrialHandle | None:
        trial = self._trials.get(trial_id)
        if trial is None:
            return None
        machine = trial.machine
        return {'platform': 'remote', 'machine': machine.index, 'host': machine.ssh.machine.host,
                'port': machine.ssh.machine.port, 'user': machine.ssh.machine.user, 'pid': trial.pid,
                'startTicks': trial.ticks, 'remoteDir': trial.remote_dir, 'gpus': trial.gpus}

    def _machine_for_handle(self, handle: TrialHandle) -> _Machine | None:
        for machine in self._machines:
            ssh = machine.ssh.machine
            if (ssh.host, ssh.port, ssh.user) == (handle.get('host'), handle.get('port'), handle.get('user')):
                return machine
        return None

    async def reattach(self, spec: TrialSpec, handle: TrialHandle) -> TrialExit | None:
        machine = self._machine_for_handle(handle)
        if machine is None:
            return TrialExit(spec.trial_id, None, f'the machine {handle.get("user")}@{handle.get("host")}:'
                             f'{handle.get("port")} of this trial is no longer in machineList', lost=True)
        trial = _RemoteTrial(spec, machine, str(handle['remoteDir']), int(handle['pid']),
                             str(handle['startTicks']), [int(index) for index in handle.get('gpus') or []])
        if not machine.up:
            return TrialExit(spec.trial_id, None, f'{machine.label} is unreachable; the trial is lost', lost=True)
        listing = f'{spec.trial_id} {trial.pid} {trial.ticks} {trial.remote_dir}\n'
        try:
            _, output = await machine.shell.run(POLL, input=listing, timeout=COMMAND_TIMEOUT)
        except SshError as error:
            return TrialExit(spec.trial_id, None, f'cannot check the trial on {machine.label}: {error}', lost=True)
        state = output.split()[1:] or ['GONE']
        self._trials[spec.trial_id] = trial
        if state[0] == 'RUNNING':
            machine.gpus.take(trial.gpus)
            machine.running[spec.trial_id] = trial
            _logger.info('reattached trial %s on %s (pid %d)', spec.trial_id, machine.label, trial.pid)
            return None
        await self._collect(trial)
        code = int(state[1]) if state[0] == 'EXIT' and len(state) > 1 and state[1].lstrip('-').isdigit() else None
        if code is not None:
            return TrialExit(spec.trial_id, code)
        return TrialExit(spec.trial_id, None, f'the trial process on {machine.label} ended while no manager '
                                              'watched it, without an exit code', lost=True)


def _tar_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w') as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            # the wrapper holds the trial's token: readable by the machine's user only
            info.mode = 0o700 if name.endswith('.sh') else 0o644
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _extract(data: bytes, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode='r') as tar:
        tar.extractall(target, filter='data')


def _copy_tree(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True)



