"""Slurm training service: each trial is one batch job of a Slurm cluster.

* **Submit**: the trial's folder gets ``parameter.cfg`` and a batch script (``.nni/job.sbatch``:
  prologue, environment, ``cd`` to the code, the trial command, the exit code file); ``sbatch``
  queues it under the experiment's job name (``nni-<experiment id>``) with the trial named in the
  job's comment. The job id is the trial's handle, available as soon as ``submit`` returns.
* **Watch**: one ``squeue --name=nni-<id> -t all`` per poll covers every job of the experiment,
  finished ones included while Slurm keeps them (``MinJobAge``); jobs that left even that view
  are looked up in one ``sacct`` call where accounting exists, else in their exit code files.
  On the manager's own machine the exit code files are also checked between polls (a ``stat``
  each), so a trial's end is seen at once without asking Slurm more often.
* **States**: PENDING (and requeued) jobs are WAITING, RUNNING ones RUNNING; COMPLETED and FAILED
  end with the trial's exit code; TIMEOUT, NODE_FAIL, OUT_OF_MEMORY, PREEMPTED (not requeued)
  and the like end FAILED with the reason as the trial's message and in its stderr. A job that
  Slurm requeues simply waits and runs again under the same trial.
* **Kill/stop**: ``scancel`` the job; stop cancels every job carrying the experiment's name.
* **Resume**: a restarted manager takes its jobs back by job id (:meth:`reattach`); a job whose
  handle never reached the store (the manager died right after ``sbatch``) is cancelled before
  its trial is submitted again, so no trial runs twice.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import TrainingService, TrainingServiceError, TrialExit, TrialHandle, TrialSpec, append_stderr_note
from .slurm_jobs import (
    FINAL_STATES,
    RUNNING_STATES,
    SQUEUE_FORMAT,
    WAITING_STATES,
    JobStatus,
    batch_script,
    comment_trial,
    failure_message,
    is_failure_state,
    job_comment,
    job_name,
    parse_sacct,
    parse_squeue,
    sbatch_options,
)
from .slurm_shell import LocalSlurmShell, LoginHostSlurmShell, SlurmShell

_logger = logging.getLogger('nni.manager.slurm')

#: seconds between two looks at the exit code files of the running trials (local shared folder)
EXIT_FILE_INTERVAL = 0.25
#: seconds ``stop`` waits for the cancelled jobs to leave the queue
STOP_WAIT_SECONDS = 30.0
#: Slurm commands the service needs where it runs them
REQUIRED_COMMANDS = ['sbatch', 'squeue', 'scancel', 'scontrol']
#: where the batch script goes, relative to the trial folder
BATCH_SCRIPT = '.nni/job.sbatch'

#: called with (trial id, 'WAITING' or 'RUNNING', time in ms) when a job's state changes
StatusCallback = Callable[[str, str, int], None]


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class _Job:
    spec: TrialSpec
    job_id: str
    #: the trial folder as the job sees it (on the cluster)
    job_dir: str
    state: str = 'PENDING'
    kill_requested: bool = False
    finished: bool = False


class SlurmTrainingService(TrainingService):
    """Run each trial as one Slurm batch job.

    Parameters
    ----------
    config
        The ``trainingService`` section (camelCase JSON) of the experiment config.
    experiment_root
        The experiment's folder (``<working directory>/<experiment id>``).
    """

    environment_id = 'slurm-env'
    platform = 'slurm'

    def __init__(self, config: dict[str, Any], experiment_root: Path) -> None:
        super().__init__()
        from nni.experiment.config.utils.public import parse_time

        self._config = config
        self._root = Path(experiment_root)
        self._experiment_id = self._root.name
        self._job_name = job_name(self._experiment_id)
        login_host = config.get('loginHost')
        self._shell: SlurmShell = LoginHostSlurmShell(login_host) if login_host else LocalSlurmShell()
        self._user = (login_host or {}).get('user') or getpass.getuser()
        shared = config.get('sharedDirectory')
        self._shared_root = f'{str(shared).rstrip("/")}/{self._experiment_id}' if shared else None
        self._poll_interval = float(parse_time(config.get('pollInterval') or 2))
        self._jobs: dict[str, _Job] = {}
        #: live jobs of this experiment that no handle claims yet (trial id -> job ids), from start()
        self._unclaimed: dict[str, list[str]] = {}
        self._poll_task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._snapshot: tuple[float, dict[str, JobStatus]] | None = None
        self._sacct_works: bool | None = None
        self._started = False
        self._stopping = False
        self._status_callback: StatusCallback | None = None

    # ------------------------------------------------------------------ configuration

    def set_status_callback(self, callback: StatusCallback) -> None:
        """Be told when a trial's job starts waiting in the queue or starts running."""
        self._status_callback = callback

    @property
    def _metrics_channel(self) -> str:
        channel = self._config.get('metricsChannel')
        if channel:
            return str(channel)
        return 'file' if self._config.get('loginHost') and not self._config.get('nniManagerIp') else 'http'

    def _job_dir(self, spec: TrialSpec) -> str:
        if self._shared_root is not None:
            return f'{self._shared_root}/trials/{spec.trial_id}'
        return str(spec.trial_dir)

    def _code_dir(self, spec: TrialSpec) -> str:
        if self._shell.remote:
            return f'{self._shared_root}/code'
        return str(spec.code_dir)

    def _adopt_job_dir(self, spec: TrialSpec, job_dir: str) -> None:
        """Point the engine's spec at the shared folder when the manager sees it directly."""
        if self._shell.remote or job_dir == str(spec.trial_dir):
            return
        spec.trial_dir = Path(job_dir)
        for name in ('NNI_SYS_DIR', 'NNI_OUTPUT_DIR'):
            spec.env[name] = job_dir

    def _trial_env(self, spec: TrialSpec, job_dir: str) -> tuple[dict[str, str], tuple[str, ...]]:
        env = dict(spec.env)
        env['NNI_SYS_DIR'] = env['NNI_OUTPUT_DIR'] = job_dir
        env['NNI_CODE_DIR'] = self._code_dir(spec)
        unset: tuple[str, ...] = ()
        channel = env.get('NNI_TRIAL_COMMAND_CHANNEL')
        if self._metrics_channel == 'file':
            # no URL: the trial writes .nni/metrics in its folder, read when it ends
            env.pop('NNI_TRIAL_COMMAND_CHANNEL', None)
            unset = ('NNI_TRIAL_COMMAND_CHANNEL',)
        elif channel and self._config.get('nniManagerIp'):
            # compute nodes reach the manager at the address the config names, not at loopback
            scheme, _, rest = channel.partition('://')
            _, _, port_and_path = rest.partition(':')
            address = str(self._config['nniManagerIp'])
            host = f'[{address}]' if ':' in address else address
            env['NNI_TRIAL_COMMAND_CHANNEL'] = f'{scheme}://{host}:{port_and_path}'
        return env, unset

    # ------------------------------------------------------------------ start

    async def start(self) -> None:
        """Check that Slurm answers and the partition exists, before any trial is submitted."""
        try:
            await self._shell.open()
        except Exception as error:  # noqa: BLE001 - SshError and friends: say which host
            raise TrainingServiceError(f'cannot reach the Slurm login host: {error}') from error
        missing = await self._shell.missing_commands(REQUIRED_COMMANDS)
        if missing:
            raise TrainingServiceError(
                f'{", ".join(missing)} not found on {self._shell.label} (PATH): the slurm platform runs Slurm\'s '
                f'client commands ({", ".join(REQUIRED_COMMANDS)}) there; install the Slurm client (or load its '
                f'module before starting nni), or set trainingService.loginHost to a machine that has them')
        await self._check_partition()
        if self._shell.remote:
            code_dir = self._config.get('trialCodeDirectory') or '.'
            try:
                count = await self._shell.upload_code(Path(code_dir), f'{self._shared_root}/code')
            except Exception as error:  # noqa: BLE001
                raise TrainingServiceError(f'cannot copy the trial code to {self._shared_root}/code on '
                                           f'{self._shell.label}: {error}') from error
            _logger.info('copied %d files of %s to %s/code', count, code_dir, self._shared_root)
        rows = await self._squeue()
        for status in (rows or {}).values():
            owner = comment_trial(status.comment, self._experiment_id)
            if owner is not None and status.state not in FINAL_STATES:
                self._unclaimed.setdefault(owner[0], []).append(status.job_id)
        self._started = True

    async def _check_partition(self) -> None:
        partition = self._config.get('partition')
        status, stdout, stderr = await self._shell.run(['scontrol', '-o', 'show', 'partition'])
        if status != 0:
            raise TrainingServiceError(f'Slurm does not answer on {self._shell.label} (scontrol show partition '
                                       f'exited with {status}): {(stderr or stdout).strip()[-500:]}')
        names = []
        for line in stdout.splitlines():
            for item in line.split():
                if item.startswith('PartitionName='):
                    names.append(item.split('=', 1)[1])
        if partition and partition not in names:
            raise TrainingServiceError(
                f'trainingService.partition: Slurm has no partition {partition!r} '
                f'(partitions: {", ".join(names) or "none"})')

    # ------------------------------------------------------------------ submit

    def can_start(self, spec: TrialSpec) -> bool:
        return True  # Slurm queues what it cannot run yet; trialConcurrency bounds the queue

    def log_path(self, spec: TrialSpec) -> str:
        if self._shell.remote:
            return str(spec.trial_dir)  # the copy the manager keeps
        return self._job_dir(spec)

    async def submit(self, spec: TrialSpec) -> int:
        if self._stopping:
            raise TrainingServiceError('the Slurm training service is stopping')
        job_dir = self._job_dir(spec)
        self._adopt_job_dir(spec, job_dir)
        spec.trial_dir.mkdir(parents=True, exist_ok=True)
        await self._cancel_unclaimed(spec.trial_id)
        env, unset = self._trial_env(spec, job_dir)
        script = batch_script(trial_id=spec.trial_id, attempt=spec.attempt, experiment_id=self._experiment_id,
                              trial_dir=job_dir, code_dir=self._code_dir(spec), command=spec.command, env=env,
                              prologue=list(self._config.get('prologue') or []),
                              python_path=self._config.get('pythonPath'), unset=unset)
        files = {'parameter.cfg': spec.parameter_record.encode(), BATCH_SCRIPT: script.encode(),
                 'trial.stdout': b'', 'trial.stderr': b''}
        # an earlier attempt's ending must not be read as this one's (here, or in the manager's copy)
        (spec.trial_dir / '.nni' / 'exitcode').unlink(missing_ok=True)
        try:
            await self._shell.write_trial_files(job_dir, files)
        except Exception as error:  # noqa: BLE001 - OSError locally, SshError remotely
            raise TrainingServiceError(f'cannot write the files of trial {spec.trial_id} to {job_dir} on '
                                       f'{self._shell.label}: {error}') from error
        if self._shell.remote:
            (spec.trial_dir / 'parameter.cfg').write_text(spec.parameter_record, encoding='utf-8')
        argv = ['sbatch', '--parsable', f'--job-name={self._job_name}',
                f'--comment={job_comment(self._experiment_id, spec.trial_id, spec.attempt)}',
                f'--chdir={job_dir}', f'--output={job_dir}/trial.stdout', f'--error={job_dir}/trial.stderr',
                '--open-mode=append', *sbatch_options(self._config, spec.gpu_number), f'{job_dir}/{BATCH_SCRIPT}']
        status, stdout, stderr = await self._shell.run(argv)
        job_id = stdout.strip().split(';')[0].strip()
        if status != 0 or not job_id.isdigit():
            raise TrainingServiceError(f'sbatch refused trial {spec.trial_id} (exit status {status}): '
                                       f'{(stderr or stdout).strip()[-1000:]}')
        started = _now_ms()
        self._jobs[spec.trial_id] = _Job(spec, job_id, job_dir)
        _logger.info('trial %s is Slurm job %s', spec.trial_id, job_id)
        self._set_state(self._jobs[spec.trial_id], 'PENDING')
        self._ensure_polling()
        return started

    async def _cancel_unclaimed(self, trial_id: str) -> None:
        # a job an earlier manager submitted for this trial but never recorded: it must not run
        # beside the attempt about to start
        job_ids = self._unclaimed.pop(trial_id, [])
        if job_ids:
            _logger.warning('cancelling Slurm jobs %s of trial %s left by an earlier manager', job_ids, trial_id)
            await self._shell.run(['scancel', *job_ids])

    def trial_handle(self, trial_id: str) -> TrialHandle | None:
        job = self._jobs.get(trial_id)
        if job is None:
            return None
        return {'job_id': job.job_id, 'trial_dir': job.job_dir}

    def running_trial_ids(self) -> list[str]:
        return list(self._jobs)

    # ------------------------------------------------------------------ reattach

    async def reattach(self, spec: TrialSpec, handle: TrialHandle) -> TrialExit | None:
        job_id = str(handle.get('job_id') or '')
        job_dir = str(handle.get('trial_dir') or self._job_dir(spec))
        self._adopt_job_dir(spec, job_dir)
        if not job_id.isdigit():
            return TrialExit(spec.trial_id, None, f'the handle {handle!r} names no Slurm job')
        for claimed in self._unclaimed.values():
            if job_id in claimed:
                claimed.remove(job_id)
        job = _Job(spec, job_id, job_dir)
        rows = await self._squeue(max_age=2.0)  # one squeue serves a whole resume
        row = None if rows is None else rows.get(job_id)
        if rows is None or (row is not None and row.state not in FINAL_STATES):
            # alive (or Slurm cannot tell right now): watch it like a job submitted here
            self._jobs[spec.trial_id] = job
            if row is not None:
                self._set_state(job, row.state)
            self._ensure_polling()
            _logger.info('reattached trial %s to Slurm job %s', spec.trial_id, job_id)
            return None
        accounted = {} if row is not None else await self._sacct([job_id])
        final = row if row is not None else accounted.get(job_id)
        if final is not None and final.state in FINAL_STATES:
            exit_code, message = await self._outcome(job, final)
        else:
            exit_code, message = await self._outcome_of_gone(job, accounted)
        # cancelled while no manager watched (the earlier manager's stop cancels every job), or gone
        # without a trace or killed by a signal that Slurm no longer explains: the attempt has no
        # result of its own and the trial runs again
        if final is not None and final.state in FINAL_STATES:
            lost = exit_code is None and final.state == 'CANCELLED'
        else:
            lost = exit_code is None or exit_code > 128
        await self._collect(job, message)
        return TrialExit(spec.trial_id, exit_code, message, lost=lost)

    # ------------------------------------------------------------------ watching

    def _ensure_polling(self) -> None:
        if self._poll_task is None or self._poll_task.done():
            self._poll_task = asyncio.get_running_loop().create_task(self._poll_loop())

    async def _poll_loop(self) -> None:
        last_queue_look = time.monotonic()
        check_files = not self._shell.remote
        while self._jobs and not self._stopping:
            interval = EXIT_FILE_INTERVAL if check_files else self._poll_interval
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=interval)
            except asyncio.TimeoutError:
                pass
            woken = self._wake.is_set()
            self._wake.clear()
            if self._stopping:
                return
            try:
                if check_files and await self._check_exit_files():
                    woken = True  # a trial ended by a signal: ask Slurm why now
                if woken or time.monotonic() - last_queue_look >= self._poll_interval:
                    last_queue_look = time.monotonic()
                    await self._poll_queue()
            except Exception:  # noqa: BLE001 - a bad poll must not end the watching
                _logger.exception('polling Slurm failed')

    async def _check_exit_files(self) -> bool:
        """Finish trials whose exit code file says they ended; True when one ended by a signal."""
        signalled = False
        for job in list(self._jobs.values()):
            text = await self._shell.read_exit_code_text(job.job_dir)
            code = _parse_code(text)
            if code is None:
                continue
            if code > 128:
                signalled = True  # TERM from scancel or the time limit: Slurm's state says which
                continue
            await self._finish(job, code, None)
        return signalled

    async def _poll_queue(self) -> None:
        # only jobs submitted before squeue ran can be judged by its answer (submit runs meanwhile)
        known = list(self._jobs.values())
        rows = await self._squeue()
        if rows is None:
            return  # Slurm did not answer; the jobs are left as they are until it does
        gone: list[_Job] = []
        for job in known:
            if job.finished:
                continue
            row = rows.get(job.job_id)
            if row is None:
                gone.append(job)
            elif row.state in FINAL_STATES:
                exit_code, message = await self._outcome(job, row)
                await self._finish(job, exit_code, message)
            else:
                self._set_state(job, row.state)
        if gone:
            accounted = await self._sacct([job.job_id for job in gone])
            for job in gone:
                exit_code, message = await self._outcome_of_gone(job, accounted)
                await self._finish(job, exit_code, message)

    async def _squeue(self, max_age: float = 0.0) -> dict[str, JobStatus] | None:
        """Every job of the experiment (finished ones too, while Slurm keeps them); None if Slurm fails."""
        if max_age and self._snapshot is not None and time.monotonic() - self._snapshot[0] <= max_age:
            return self._snapshot[1]
        status, stdout, stderr = await self._shell.run(
            ['squeue', '--noheader', '--states=all', f'--name={self._job_name}', f'--user={self._user}',
             f'--Format={SQUEUE_FORMAT}'])
        if status != 0:
            _logger.warning('squeue failed on %s (exit status %d): %s', self._shell.label, status,
                            (stderr or stdout).strip()[-300:])
            return None
        rows = parse_squeue(stdout)
        self._snapshot = (time.monotonic(), rows)
        return rows

    async def _sacct(self, job_ids: list[str]) -> dict[str, JobStatus]:
        """Accounting records of jobs that left the queue, in one call; empty without accounting."""
        if not job_ids or self._sacct_works is False:
            return {}
        status, stdout, stderr = await self._shell.run(
            ['sacct', '--noheader', '--parsable2', '--allocations', f'--jobs={",".join(job_ids)}',
             '--format=JobID,State,ExitCode'])
        if status != 0:
            if self._sacct_works is None:
                _logger.info('no Slurm accounting (sacct: %s); ended jobs are read from their exit code files',
                             (stderr or stdout).strip()[-200:])
            self._sacct_works = False
            return {}
        self._sacct_works = True
        return parse_sacct(stdout)

    def _set_state(self, job: _Job, state: str) -> None:
        before = _nni_state(job.state)
        job.state = state
        after = _nni_state(state)
        if after is not None and after != before and self._status_callback is not None:
            self._status_callback(job.spec.trial_id, after, _now_ms())

    # ------------------------------------------------------------------ endings

    def _limits_text(self) -> tuple[str | None, str | None]:
        limit = self._config.get('timeLimit')
        memory = self._config.get('memoryPerTrial')
        return (None if limit is None else f'timeLimit {limit}'), (None if memory is None else str(memory))

    async def _outcome(self, job: _Job, row: JobStatus) -> tuple[int | None, str | None]:
        """Exit code and reason of a job in a final state."""
        time_limit, memory = self._limits_text()
        message = failure_message(job.job_id, row.state, row.reason, time_limit=time_limit, memory=memory)
        if is_failure_state(row.state):
            if job.kill_requested and row.state == 'CANCELLED':
                message = None  # the engine knows it asked
            return None, message
        code = _parse_code(await self._shell.read_exit_code_text(job.job_dir))
        if code is None:
            code = row.exit_code
        return code, message if code != 0 else None

    async def _outcome_of_gone(self, job: _Job, accounted: dict[str, JobStatus]) -> tuple[int | None, str | None]:
        """Exit code and reason of a job Slurm no longer lists."""
        row = accounted.get(job.job_id)
        if row is not None and row.state in FINAL_STATES:
            return await self._outcome(job, row)
        if self._shell.remote:
            await self._shell.fetch_trial_files(job.job_dir, job.spec.trial_dir)
            text = _read_text(job.spec.trial_dir / '.nni' / 'exitcode')
        else:
            text = await self._shell.read_exit_code_text(job.job_dir)
        code = _parse_code(text)
        if code is not None:
            return code, None
        if job.kill_requested:
            return None, None
        return None, (f'Slurm job {job.job_id} is no longer known to Slurm and left no exit code (it was purged '
                      f'after MinJobAge, or killed before its trial ended)')

    async def _collect(self, job: _Job, message: str | None) -> None:
        """Bring the trial's files to the manager and note the reason of a failure in its stderr."""
        if self._shell.remote:
            try:
                await self._shell.fetch_trial_files(job.job_dir, job.spec.trial_dir)
            except Exception as error:  # noqa: BLE001 - the ending is reported anyway
                _logger.warning('cannot copy the files of trial %s back: %s', job.spec.trial_id, error)
        if message:
            append_stderr_note(job.spec.trial_dir, f'nni: {message}\n')

    async def _finish(self, job: _Job, exit_code: int | None, message: str | None) -> None:
        if job.finished:
            return
        job.finished = True
        self._jobs.pop(job.spec.trial_id, None)
        await self._collect(job, message)
        if exit_code is None and message is None and not job.kill_requested:
            message = f'Slurm job {job.job_id} ended without an exit code'
        _logger.info('Slurm job %s of trial %s ended: exit code %s%s', job.job_id, job.spec.trial_id, exit_code,
                     f' ({message})' if message else '')
        if not self._stopping:
            self._report_exit(TrialExit(job.spec.trial_id, exit_code, message))

    # ------------------------------------------------------------------ kill and stop

    async def kill(self, trial_id: str) -> None:
        job = self._jobs.get(trial_id)
        if job is None or job.kill_requested:
            return
        job.kill_requested = True
        status, stdout, stderr = await self._shell.run(['scancel', job.job_id])
        if status != 0:
            _logger.warning('scancel %s (trial %s) failed: %s', job.job_id, trial_id, (stderr or stdout).strip())
        self._wake.set()

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._started:
            # every job of the experiment, those no handle names included
            status, stdout, stderr = await self._shell.run(
                ['scancel', f'--name={self._job_name}', f'--user={self._user}'])
            if status != 0:
                _logger.warning('scancel --name=%s failed: %s', self._job_name, (stderr or stdout).strip())
            deadline = time.monotonic() + STOP_WAIT_SECONDS
            while time.monotonic() < deadline:
                rows = await self._squeue()
                if rows is not None and all(row.state in FINAL_STATES for row in rows.values()):
                    break
                await asyncio.sleep(0.5)
            else:
                _logger.error('jobs of %s still in the Slurm queue %.0f s after scancel', self._job_name,
                              STOP_WAIT_SECONDS)
        self._jobs.clear()
        if self._poll_task is not None:
            self._poll_task.cancel()
        await self._shell.close()


def _nni_state(state: str) -> str | None:
    if state in WAITING_STATES:
        return 'WAITING'
    if state in RUNNING_STATES:
        return 'RUNNING'
    return None


def _parse_code(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding='ascii')
    except (OSError, UnicodeDecodeError):
        return None


__all__ = ['SlurmTrainingService']
