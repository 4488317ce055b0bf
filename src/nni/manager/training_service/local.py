"""Local training service: trials are processes on this machine.

Each trial runs as ``/bin/bash -c <trialCommand>`` in its own session (so the whole process
group can be signalled), with cwd = the trial code directory, stdout/stderr into the trial
directory and NNI's environment variables. The end of a trial is learnt from the process exit,
not by polling, which is what keeps short trials fast.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .base import TrainingService, TrainingServiceError, TrialExit, TrialSpec
from .gpu import GpuAllocator

_logger = logging.getLogger('nni.manager.local')

#: seconds between SIGINT and SIGKILL when a trial is killed (NNI uses the same 5 s)
KILL_GRACE_SECONDS = 5.0


def _load_prctl():  # type: ignore[no-untyped-def]
    if not sys.platform.startswith('linux'):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


# Resolved once in the manager: the child must not import anything between fork and exec, as
# another thread of the manager may hold the import lock at the moment of the fork.
_PRCTL = _load_prctl()
_PR_SET_PDEATHSIG = 1
# util-linux's setpriv sets the parent-death signal and execs the trial: unlike a preexec_fn it
# lets Python spawn with vfork, which keeps the event loop from stalling ~10 ms per trial.
_SETPRIV = shutil.which('setpriv') if sys.platform.startswith('linux') else None


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: if the manager is killed (even with SIGKILL)
    # the trial gets SIGKILL too, so no trial outlives its manager as an orphan.
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def _trial_argv(command: str) -> tuple[list[str], Any]:
    """The argv that runs ``command`` with bash, tied to the manager's life, and its preexec_fn."""
    argv = ['/bin/bash', '-c', command]
    if _SETPRIV is not None:
        return [_SETPRIV, '--pdeathsig', 'KILL', '--', *argv], None
    return argv, (_die_with_parent if _PRCTL is not None else None)


class _RunningTrial:
    def __init__(self, spec: TrialSpec, process: asyncio.subprocess.Process, gpus: list[int]) -> None:
        self.spec = spec
        self.process = process
        self.gpus = gpus
        self.kill_task: asyncio.Task[None] | None = None


class LocalTrainingService(TrainingService):
    """Run trials as local processes.

    Parameters
    ----------
    config
        The ``trainingService`` section (camelCase JSON) of the experiment config.
    """

    environment_id = 'local-env'
    platform = 'local'

    def __init__(self, config: dict) -> None:
        super().__init__()
        self._config = config
        self._running: dict[str, _RunningTrial] = {}
        self._gpus = GpuAllocator(
            gpu_indices=config.get('gpuIndices'),
            max_trials_per_gpu=int(config.get('maxTrialNumberPerGpu') or 1),
            use_active_gpu=bool(config.get('useActiveGpu', False)),
        )

    async def start(self) -> None:
        await asyncio.to_thread(self._gpus.detect)

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
        spec.trial_dir.mkdir(parents=True, exist_ok=True)
        (spec.trial_dir / 'parameter.cfg').write_text(spec.parameter_record, encoding='utf-8')
        env = dict(os.environ)
        env.update(spec.env)
        gpus: list[int] = []
        if spec.gpu_number is not None:
            gpus = self._gpus.allocate(spec.gpu_number) if spec.gpu_number > 0 else []
            env['CUDA_VISIBLE_DEVICES'] = ','.join(str(index) for index in gpus)
        if not spec.code_dir.is_dir():
            self._gpus.release(gpus)
            raise TrainingServiceError(f'trial code directory {spec.code_dir} does not exist')
        stdout = open(spec.trial_dir / 'trial.stdout', 'wb')  # noqa: SIM115 - handed to the child
        stderr = open(spec.trial_dir / 'trial.stderr', 'wb')  # noqa: SIM115
        try:
            argv, preexec = _trial_argv(spec.command)
            process = await asyncio.create_subprocess_exec(
                *argv, cwd=str(spec.code_dir), env=env, stdin=subprocess.DEVNULL, stdout=stdout,
                stderr=stderr, start_new_session=True, preexec_fn=preexec)
        except OSError as error:
            self._gpus.release(gpus)
            stderr.write(f'nni: cannot start trial command: {error}\n'.encode())
            raise TrainingServiceError(f'cannot start trial {spec.trial_id}: {error}') from error
        finally:
            stdout.close()
            stderr.close()
        started = int(time.time() * 1000)
        running = _RunningTrial(spec, process, gpus)
        self._running[spec.trial_id] = running
        asyncio.get_running_loop().create_task(self._watch(running))
        return started

    async def _watch(self, running: _RunningTrial) -> None:
        code = await running.process.wait()
        self._running.pop(running.spec.trial_id, None)
        self._gpus.release(running.gpus)
        if running.kill_task is not None:
            running.kill_task.cancel()
        # asyncio reports death by signal N as -N; the engine only needs "no exit code"
        exit_code = code if code >= 0 else None
        self._report_exit(TrialExit(running.spec.trial_id, exit_code))

    async def kill(self, trial_id: str) -> None:
        running = self._running.get(trial_id)
        if running is None or running.kill_task is not None:
            return
        self._signal_group(running, signal.SIGINT)
        running.kill_task = asyncio.get_running_loop().create_task(self._kill_after_grace(running))

    async def _kill_after_grace(self, running: _RunningTrial) -> None:
        await asyncio.sleep(KILL_GRACE_SECONDS)
        if running.process.returncode is None:
            _logger.info('trial %s ignored SIGINT for %.0f s, sending SIGKILL', running.spec.trial_id,
                         KILL_GRACE_SECONDS)
            self._signal_group(running, signal.SIGKILL)

    @staticmethod
    def _signal_group(running: _RunningTrial, sig: int) -> None:
        try:
            os.killpg(running.process.pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError as error:
            _logger.warning('cannot signal trial %s: %s', running.spec.trial_id, error)

    async def stop(self) -> None:
        trials = list(self._running.values())
        for running in trials:
            if running.kill_task is None:
                self._signal_group(running, signal.SIGINT)
        deadline = time.monotonic() + KILL_GRACE_SECONDS
        while self._running and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for running in list(self._running.values()):
            self._signal_group(running, signal.SIGKILL)
        for running in trials:
            try:
                await asyncio.wait_for(running.process.wait(), timeout=5)
            except asyncio.TimeoutError:
                _logger.error('trial %s (pid %d) did not exit after SIGKILL', running.spec.trial_id,
                              running.process.pid)
            # Reap helpers the command may have left in the group (e.g. `cmd &`).
            self._signal_group(running, signal.SIGKILL)

    def running_trial_ids(self) -> list[str]:
        return list(self._running)


def trial_directory(root: Path, environment_id: str, trial_id: str) -> Path:
    """``<root>/environments/<env>/trials/<trial>``, NNI 3.0's trial output directory."""
    return root / 'environments' / environment_id / 'trials' / trial_id


__all__ = ['LocalTrainingService', 'TrainingServiceError', 'trial_directory']
