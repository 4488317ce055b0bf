"""The engine: the one loop that decides what an experiment does next.

It owns the experiment status, the trial records and the waiting queue; it writes every state
change to the store before acting on it or acknowledging it; it talks to the algorithms through
the :class:`~nni.runtime.msg_dispatcher.Dispatcher` and to trials through a training service.

Scheduling is event driven: a trial's exit, a tuner's answer or a REST update wakes the
scheduler at once, and a one-second tick accounts for the experiment duration.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import random
import secrets
import sqlite3
import string
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nni.runtime.msg_dispatcher import Dispatcher

from .external_tuner import ExternalDispatcher
from .failure_guard import FailureGuard, non_finite_warning
from .failure_guard import halt as halt_failing_experiment
from .launch_backoff import LaunchBackoff, is_disk_full
from .store import ExperimentStore, MetricRow, StoreError, TrialEventRow, now_ms
from .training_service.base import (
    TrainingService,
    TrainingServiceError,
    TrialExit,
    TrialSpec,
    append_stderr_note,
)
from .trial_metrics_file import read_metrics_file
from .trial_records import TERMINAL_STATUSES, TrialRecord

_logger = logging.getLogger('nni.manager')

#: statuses during which the experiment's duration is counted
COUNTING_STATUSES = frozenset({'RUNNING', 'NO_MORE_TRIAL', 'TUNER_NO_MORE_TRIAL'})
#: statuses in which the scheduler works
ACTIVE_STATUSES = frozenset({'RUNNING', 'NO_MORE_TRIAL', 'TUNER_NO_MORE_TRIAL', 'DONE'})
FINAL_EXPERIMENT_STATUSES = frozenset({'DONE', 'ERROR', 'STOPPED'})
PROFILE_STORE_INTERVAL_S = 10.0
UPDATE_TYPES = ('TRIAL_CONCURRENCY', 'MAX_EXEC_DURATION', 'SEARCH_SPACE', 'MAX_TRIAL_NUM')
# variables of the dispatcher world that must not leak into trials' environments
_DISPATCHER_ENV = ('SDK_PROCESS', 'NNI_MODE', 'NNI_CHECKPOINT_DIRECTORY', 'NNI_LOG_DIRECTORY',
                   'NNI_TUNER_COMMAND_CHANNEL', 'NNI_INCLUDE_INTERMEDIATE_RESULTS', 'NNI_LOG_LEVEL')


class EngineError(Exception):
    """A request the engine refuses; ``status`` is the HTTP status the REST layer answers."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def parse_duration(value: Any, field_name: str = 'duration') -> float | None:
    """Seconds of a config duration (`'1h'`, `'30m'`, `90`); ``None`` when unset.

    The unit rules are the config's (:func:`nni.experiment.config.utils.parse_time`, NNI's
    rounding up); this only turns a bad value into a REST error.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise EngineError(f'bad {field_name} {value!r}: use a number of seconds or a string like "30m", "2h"')
    from nni.experiment.config.utils import parse_time

    try:
        seconds = float(parse_time(value))
    except (ValueError, OverflowError):
        raise EngineError(f'bad {field_name} {value!r}: use a number of seconds or a string like "30m", "2h", '
                          f'"1d"') from None
    # NaN would make GET /experiment invalid JSON; infinity and negatives are no limit anyone means
    if not math.isfinite(seconds) or seconds < 0:
        raise EngineError(f'bad {field_name} {value!r}: must be a finite, non-negative number of seconds')
    return seconds


def _new_trial_id(taken: set[str] | dict[str, Any]) -> str:
    letters = string.ascii_letters
    alphabet = string.ascii_letters + string.digits
    while True:
        trial_id = random.choice(letters) + ''.join(random.choices(alphabet, k=4))
        if trial_id not in taken:
            return trial_id


@dataclass
class PendingTrial:
    """A parameter record waiting for a free slot."""

    record: str
    source: str = 'algorithm'
    trial_id: str | None = None
    sequence_id: int | None = None
    #: 0 for a trial's first run; a re-run of a lost attempt gets the next number
    attempt: int = 0


@dataclass
class RunningTrial:
    """Book-keeping for a trial the training service is running."""

    spec: TrialSpec
    record: str
    kill_requested: bool = False
    early_stop: bool = False
    duration_timer: asyncio.TimerHandle | None = None
    metric_keys: set[tuple[str, int]] = field(default_factory=set)


@dataclass
class ManagerOptions:
    """What the manager was started with (its command line)."""

    experiment_id: str
    port: int
    action: str
    experiments_directory: Path
    log_level: str = 'info'
    foreground: bool = False
    url_prefix: str = ''
    bind_address: str = '127.0.0.1'
    #: the tuner lives in the launching process (legacy ``Experiment(tuner, 'local')``)
    external_tuner: bool = False
    #: stop when the launching process goes away (Background/Foreground run modes)
    stop_with_parent: bool = False


class Engine:
    """State and decisions of one experiment."""

    def __init__(self, options: ManagerOptions,
                 training_service_factory: Callable[[dict[str, Any]], TrainingService] | None = None) -> None:
        self.options = options
        self.experiment_id = options.experiment_id
        self.root = options.experiments_directory / options.experiment_id
        self.log_dir = self.root / 'log'
        self.token = secrets.token_hex(16)
        self.status = 'INITIALIZED'
        self.errors: list[str] = []
        self.params: dict[str, Any] = {}
        self.trials: dict[str, TrialRecord] = {}
        # failed-trial counts, the first failure's reason, maxConsecutiveFailedTrials (failure_guard.py)
        self.failure_guard = FailureGuard(self.trials, lambda: self.params)
        self.store: ExperimentStore | None = None
        self._ts_factory = training_service_factory
        self.training_service: TrainingService | None = None
        self.dispatcher: Dispatcher | None = None
        self._tuner_ready = False
        self._tuner_exhausted = False
        self._pending_requests: deque[int] = deque()
        self._waiting: deque[PendingTrial] = deque()
        self._running: dict[str, RunningTrial] = {}
        self._submitted = 0
        self._next_sequence_id = 0
        self._revision = 0
        self._start_time: int | None = None
        self._end_time: int | None = None
        self._exec_base = 0.0
        self._counting_since: float | None = None
        self._last_profile_store = time.monotonic()
        self._resume_history: list[dict[str, Any]] = []
        self._resumed_records: list[dict[str, Any]] = []
        #: newest attempt number of every trial that has started at least once
        self._attempts: dict[str, int] = {}
        #: trials a resumed manager took back from the training service (still running)
        self._reattached: list[str] = []
        #: consecutive launch failures pause scheduling (launch_backoff.py)
        self.launch_backoff = LaunchBackoff()
        self._imported: list[str] = []
        self._wake = asyncio.Event()
        self._scheduler_task: asyncio.Task[None] | None = None
        self._manifest_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix='nni-manifest')
        self._loop: asyncio.AbstractEventLoop | None = None
        self.stopped = asyncio.Event()
        self._stopping = False

    # ------------------------------------------------------------------ status and profile

    def exec_duration(self) -> int:
        extra = time.monotonic() - self._counting_since if self._counting_since is not None else 0.0
        return int(self._exec_base + extra)

    def _set_status(self, status: str) -> None:
        if status == self.status:
            return
        _logger.info('experiment status %s -> %s', self.status, status)
        counting_before = self.status in COUNTING_STATUSES
        counting_after = status in COUNTING_STATUSES
        if counting_before and not counting_after and self._counting_since is not None:
            self._exec_base += time.monotonic() - self._counting_since
            self._counting_since = None
        elif counting_after and not counting_before:
            self._counting_since = time.monotonic()
        self.status = status
        fields: dict[str, Any] = {'status': status}
        if status in FINAL_EXPERIMENT_STATUSES and self._end_time is None:
            self._end_time = now_ms()
            fields['endTime'] = self._end_time
        if status == 'DONE':
            _logger.info('Experiment done.')
        if self.store is not None and self.params:
            self._store_profile()
        self._update_manifest(fields)

    def _update_manifest(self, fields: dict[str, Any]) -> None:
        """Write manifest fields (``None`` removes one) in one locked write, off the event loop."""
        def write() -> None:
            try:
                from nni.experiment.manifest import Experiments

                Experiments().update_fields(self.experiment_id, fields)
            except Exception:  # noqa: BLE001 - the manifest is a convenience, never fatal
                _logger.exception('cannot update the experiment manifest')

        self._manifest_executor.submit(write)

    def critical_error(self, message: str) -> None:
        """Put the experiment in ERROR; the manager keeps serving its data."""
        _logger.error('critical error: %s', message)
        self.errors.append(message)
        self._set_status('ERROR')

    def profile(self) -> dict[str, Any]:
        """The ``ExperimentProfile`` JSON of ``GET /experiment``."""
        profile: dict[str, Any] = {
            'params': self.params,
            'id': self.experiment_id,
            'execDuration': self.exec_duration(),
            'logDir': str(self.root),
            'nextSequenceId': self._next_sequence_id,
            'revision': self._revision,
        }
        if self._start_time is not None:
            profile['startTime'] = self._start_time
        if self._end_time is not None:
            profile['endTime'] = self._end_time
        return profile

    def _store_profile(self) -> None:
        assert self.store is not None
        self._revision += 1
        self.store.store_profile(self.profile())
        self._last_profile_store = time.monotonic()

    # ------------------------------------------------------------------ limits

    @property
    def trial_concurrency(self) -> int:
        return int(self.params.get('trialConcurrency') or 1)

    @property
    def max_trial_number(self) -> int | None:
        value = self.params.get('maxTrialNumber')
        return None if value is None else int(value)

    @property
    def max_duration(self) -> float | None:
        return parse_duration(self.params.get('maxExperimentDuration'), 'maxExperimentDuration')

    @property
    def max_trial_duration(self) -> float | None:
        return parse_duration(self.params.get('maxTrialDuration'), 'maxTrialDuration')

    def _limit_reached(self) -> bool:
        max_duration = self.max_duration
        if max_duration is not None and self.exec_duration() > max_duration:
            return True
        max_trials = self.max_trial_number
        return max_trials is not None and self._submitted >= max_trials

    # ------------------------------------------------------------------ start / resume / view

    def _open_store(self, create: bool) -> ExperimentStore:
        from .store import StoreError

        try:
            return ExperimentStore(self.root / 'db' / 'nni.sqlite', create=create)
        except StoreError as error:
            raise EngineError(str(error), 404) from error

    async def create(self, config: dict[str, Any]) -> None:
        """Start a new experiment from its camelCase config."""
        if self.status != 'INITIALIZED':
            raise EngineError(f'experiment {self.experiment_id} is already {self.status}', 409)
        self.params = self._validated(config)
        self._make_training_service()  # an unavailable platform is refused before anything is written
        for folder in ('db', 'log', 'checkpoint', 'trials'):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        self.store = self._open_store(create=True)
        self._write_token()
        if self.store.latest_profile() is not None:
            raise EngineError(f'experiment {self.experiment_id} already exists in {self.root}; resume it instead',
                              409)
        self._start_time = now_ms()
        self._store_profile()
        await self._start_running(mode='start', first_parameter_id=0)

    async def resume(self) -> None:
        """Continue a stopped (or killed) experiment from its store."""
        if self.status != 'INITIALIZED':
            raise EngineError(f'experiment {self.experiment_id} is already {self.status}', 409)
        self.store = self._open_store(create=False)
        # trials that outlived the last manager keep the token they were started with
        self._write_token(keep_existing=True)
        self._load_from_store()
        # the training service first: unfinished trials may still run and are taken back, not re-run
        service_ready = await self._start_training_service()
        await self._prepare_resumed_trials(reattach=service_ready)
        if self._end_time is not None and not self._limit_reached():
            self._end_time = None
            self._update_manifest({'endTime': None})
        self._store_profile()
        await self._start_running(mode='resume', first_parameter_id=self._max_parameter_id() + 1)

    async def view(self) -> None:
        """Open a stopped experiment read-only."""
        if self.status != 'INITIALIZED':
            raise EngineError(f'experiment {self.experiment_id} is already {self.status}', 409)
        self.store = self._open_store(create=False)
        self._load_from_store()
        self._set_status('VIEWED')

    def _write_token(self, keep_existing: bool = False) -> None:
        # readable by the owner only: it authorises trials and, off loopback, REST edits
        path = self.root / 'db' / 'token'
        if keep_existing:
            try:
                token = path.read_text(encoding='ascii').strip()
            except (OSError, UnicodeDecodeError):
                token = ''
            if len(token) >= 32:
                self.token = token
                return
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, 'w') as handle:
            handle.write(self.token)

    def _validated(self, config: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(config, dict):
            raise EngineError('the experiment config must be a JSON object')
        external_tuner = config.get('tuner') if self.options.external_tuner else None
        if self.options.external_tuner:
            # the tuner object lives in the launching process: its class need not be importable here
            config = dict(config, tuner={'name': 'Random'})
        try:
            from nni.experiment.config import ExperimentConfig

            canonical = ExperimentConfig(**config).canonical_copy()
            params = canonical.json()
        except (ValueError, TypeError, AttributeError) as error:
            raise EngineError(f'invalid experiment config: {error}') from error
        if self.options.external_tuner:
            params['tuner'] = external_tuner or {'className': 'unknown.InProcessTuner', 'classArgs': {}}
        if params.get('useAnnotation'):
            raise EngineError('useAnnotation configs must be started with nnictl, which rewrites the trial code')
        return params

    def _load_from_store(self) -> None:
        assert self.store is not None
        profile = self.store.latest_profile()
        if profile is None:
            raise EngineError(f'experiment {self.experiment_id} has no stored profile in {self.root}', 404)
        self.params = profile['params']
        self._revision = profile['revision']
        self._exec_base = float(profile['execDuration'])
        self._start_time = profile.get('startTime')
        self._end_time = profile.get('endTime')
        self._next_sequence_id = profile['nextSequenceId']
        for row in self.store.trial_events():
            if row.event == 'IMPORT_DATA':
                if row.data:
                    self._imported.append(row.data)
                continue
            if not row.trial_job_id:
                continue
            record = self.trials.get(row.trial_job_id)
            if record is None:
                record = self.trials[row.trial_job_id] = TrialRecord(row.trial_job_id)
            record.apply(row)
            if row.sequence_id is not None:
                self._next_sequence_id = max(self._next_sequence_id, row.sequence_id + 1)
        for metric in self.store.metrics(metric_type='FINAL'):
            record = self.trials.get(metric.trial_job_id)
            if record is not None and record.final_metric is None:
                record.final_metric = metric

    async def _prepare_resumed_trials(self, reattach: bool) -> None:
        """Decide, for every unfinished trial, whether it still runs, ended meanwhile, or runs again.

        A trial whose newest attempt has a handle is given back to the training service
        (:meth:`TrainingService.reattach`); only a trial that is really lost (no handle, stopped
        with the experiment, killed for want of a manager, vanished) runs again, as a new attempt.
        """
        assert self.store is not None
        attempts = self.store.latest_attempts()
        for trial_id, latest in attempts.items():
            self._attempts[trial_id] = latest.attempt
        unfinished = [record for record in self.trials.values() if record.status not in TERMINAL_STATUSES]
        requeued = 0
        for record in unfinished:
            trial_id = record.trial_job_id
            trial_dir = Path(record.log_path) if record.log_path else self._trial_dir(trial_id)
            parameters_record = record.first_parameter_record or json.dumps(
                {'parameter_id': None, 'parameter_source': 'customized', 'parameters': {}, 'parameter_index': 0})
            packed = json.loads(parameters_record)
            packed['parameter_source'] = 'resumed'
            packed.setdefault('parameter_index', 0)
            latest = attempts.get(trial_id)
            # 'starting': the manager died during the launch, before the handle was recorded; the
            # platform is asked with an empty handle and says whether it knows the trial anyway
            if reattach and latest is not None and latest.state in ('running', 'starting'):
                pending = PendingTrial(parameters_record, 'resumed', trial_id, record.sequence_id, latest.attempt)
                spec = self._make_spec(pending)
                spec.trial_dir = trial_dir
                assert self.training_service is not None
                try:
                    outcome = await self.training_service.reattach(spec, latest.handle or {})
                except Exception as error:  # noqa: BLE001 - a platform error makes the trial lost, not the resume
                    _logger.exception('reattaching trial %s failed', trial_id)
                    outcome = TrialExit(trial_id, None, f'reattach failed: {error}', lost=True)
                if outcome is None:
                    _logger.info('trial %s (attempt %d) still runs: reattached', trial_id, latest.attempt)
                    running = RunningTrial(spec, parameters_record)
                    running.metric_keys = {(row.type, row.sequence) for row in self.store.metrics(trial_job_id=trial_id)}
                    self._running[trial_id] = running
                    self._reattached.append(trial_id)
                    if latest.state == 'starting':
                        # its launch was never acknowledged: record it now, handle and RUNNING together
                        handle = self.training_service.trial_handle(trial_id) or {}
                        record.apply(self.store.save_attempt(trial_id, latest.attempt, 'running', handle, event=dict(
                            trial_job_id=trial_id, event='RUNNING', log_path=record.log_path,
                            sequence_id=record.sequence_id,
                            environment_id=self.training_service.environment_id)))
                    self._resumed_records.append(packed)
                    continue
                if latest.state == 'starting' and outcome is not None and outcome.exit_code is None:
                    # an unrecorded launch the platform cannot account for: run it again, never FAILED
                    outcome = TrialExit(trial_id, None, outcome.message, lost=True)
                if not outcome.lost:
                    # it ended while no manager watched: count that end, run nothing again
                    self._ingest_metrics_file(record, trial_dir, tracked=False)
                    status = 'SUCCEEDED' if outcome.exit_code == 0 else 'FAILED'
                    how = ('was killed by a signal' if outcome.exit_code is None
                           else f'ended with exit code {outcome.exit_code}')
                    message = outcome.message or (None if outcome.exit_code == 0 else
                                                  f'the trial {how} while no manager was running')
                    self._finish_trial(trial_id, status, message=message, attempt=latest.attempt)
                    continue
                _logger.info('trial %s attempt %d is lost (%s); it runs again', trial_id, latest.attempt,
                             outcome.message)
            # the lost attempt may have written metrics to its fallback file while no manager listened
            self._ingest_metrics_file(record, trial_dir, tracked=False)
            if latest is not None:
                next_attempt = latest.attempt + 1
            else:
                # stores older than attempts: a trial that had started counts as attempt 0
                next_attempt = 1 if record.start_time is not None else 0
            self.store.add_trial_event(trial_id, 'ADD_RESUMED', data='')
            record.status = 'ADD_RESUMED'
            requeued += 1
            self._waiting.append(PendingTrial(json.dumps(packed), 'resumed', trial_id, record.sequence_id,
                                              next_attempt))
            self._resumed_records.append(packed)
        self._submitted = len(self.trials) - requeued

    def _max_parameter_id(self) -> int:
        highest = -1
        for record in self.trials.values():
            for text in record.hyper_parameters:
                try:
                    parameter_id = json.loads(text).get('parameter_id')
                except (ValueError, AttributeError):
                    continue
                if isinstance(parameter_id, int) and not isinstance(parameter_id, bool):
                    highest = max(highest, parameter_id)
        return highest

    async def _start_training_service(self) -> bool:
        """Create and start the training service once; ``False`` (experiment in ERROR) when it cannot start."""
        if self.training_service is not None:
            return True
        self._loop = asyncio.get_running_loop()
        self.training_service = self._make_training_service()
        self.training_service.set_exit_callback(self._on_trial_exit)
        self.training_service.set_status_callback(self._on_trial_queue_status)
        try:
            await self.training_service.start()
        except Exception as error:  # noqa: BLE001
            self.critical_error(f'training service failed to start: {error}')
            return False
        self.training_service.expect_trials(str(self.params.get('trialCommand')),
                                            Path(self.params.get('trialCodeDirectory') or '.'),
                                            dict.fromkeys(_DISPATCHER_ENV, ''))
        return True

    async def _start_running(self, mode: str, first_parameter_id: int) -> None:
        self._loop = asyncio.get_running_loop()
        os.environ['NNI_CHECKPOINT_DIRECTORY'] = str(self.root / 'checkpoint')
        os.environ['NNI_LOG_DIRECTORY'] = str(self.log_dir)
        os.environ['NNI_MODE'] = mode
        if not await self._start_training_service():
            return
        assert self.training_service is not None
        check = getattr(self.training_service, 'check_gpu_request', None)
        if check is not None:
            problem = check(self.params.get('trialGpuNumber'))
            if problem:
                self.critical_error(problem)
                return
        tuner_config = self.params.get('tuner') or self.params.get('advisor')
        if not tuner_config and not self.options.external_tuner:
            self.critical_error('the config has no tuner')
            return
        include_intermediate = bool((self.params.get('deprecated') or {}).get('includeIntermediateResults'))
        if self.options.external_tuner:
            self.dispatcher = ExternalDispatcher(self.critical_error)
        else:
            self.dispatcher = Dispatcher(tuner_config, self.params.get('assessor'), self._from_dispatcher_thread,
                                         first_parameter_id, include_intermediate, on_idle=self._wake_from_thread)
        self._set_status('RUNNING')
        self.dispatcher.command('IN', json.dumps(self.params.get('searchSpace') or {}))
        if mode == 'resume':
            # History and resumed trials go right behind IN, before any metric of a reattached
            # trial can reach the tuner; the history is taken now, so a trial that ends from here
            # on reaches the tuner once, through EN/ME, never also as history.
            self._resume_history = self._export_entries()
            for batch in self._imported:
                try:
                    self._resume_history.extend(json.loads(batch))
                except ValueError:
                    _logger.warning('ignoring an unreadable import-data batch in the store')
            if self._resume_history:
                self.dispatcher.command('FD', json.dumps(self._resume_history))
            self.dispatcher.command('AD', json.dumps(self._resumed_records))
            for trial_id in self._reattached:
                running = self._running.get(trial_id)
                if running is not None:
                    # metrics it wrote to its fallback file while no manager listened
                    self._ingest_metrics_file(self.trials[trial_id], running.spec.trial_dir, tracked=True)
                    self._arm_duration_timer(trial_id, running)
        # Started on the next loop turn, after the answer to POST /experiment has been written:
        # the tuner thread imports its libraries (numpy) and would otherwise compete for the GIL
        # with that answer, which Experiment.start() waits for.
        self._loop.call_soon(self.dispatcher.start)
        self._scheduler_task = self._loop.create_task(self._scheduler())

    def _make_training_service(self) -> TrainingService:
        config = self.params.get('trainingService')
        if isinstance(config, list):
            raise EngineError('hybrid (list) training services are not available in this version')
        config = config or {'platform': 'local'}
        if self._ts_factory is not None:
            return self._ts_factory(config)
        platform = config.get('platform', 'local')
        if platform == 'local':
            from .training_service.local import LocalTrainingService

            return LocalTrainingService(config, self.root, self.experiment_id)
        if platform == 'remote':
            from .training_service.remote import RemoteTrainingService

            return RemoteTrainingService(config, self.root, shared_storage=self.params.get('sharedStorage'))
        if platform == 'slurm':
            from .training_service.slurm import SlurmTrainingService

            return SlurmTrainingService(config, self.root)
        raise EngineError(f'training service platform {platform!r} is not available in this version '
                          f'(available: local)')

    # ------------------------------------------------------------------ dispatcher answers

    def _wake_from_thread(self) -> None:
        if self._loop is None or not self._tuner_exhausted:
            return  # only an exhausted search waits for the dispatcher to be idle
        try:
            self._loop.call_soon_threadsafe(self.wake)
        except RuntimeError:
            pass  # the loop is closed: the manager is exiting

    def _from_dispatcher_thread(self, code: str, content: str) -> None:
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(self._on_dispatcher_command, code, content)
        except RuntimeError:
            pass  # the loop is closed: the manager is exiting

    def _on_dispatcher_command(self, code: str, content: str) -> None:
        if self._stopping:
            return
        if code == 'ID':
            self._tuner_ready = True
        elif code == 'TR':
            if self._pending_requests:
                self._pending_requests[0] -= 1
                if self._pending_requests[0] <= 0:
                    self._pending_requests.popleft()
            self._waiting.append(PendingTrial(content))
            self._tuner_exhausted = False
            if self.status == 'TUNER_NO_MORE_TRIAL':
                self._set_status('RUNNING')
        elif code == 'NO':
            if self._pending_requests:
                self._pending_requests.popleft()
            self._tuner_exhausted = True
            if self.status == 'RUNNING':
                self._set_status('TUNER_NO_MORE_TRIAL')
        elif code == 'KI':
            try:
                trial_id = json.loads(content)
            except ValueError:
                trial_id = content
            if self._loop is not None:
                self._loop.create_task(self.kill_trial(str(trial_id), early_stop=True))
        elif code == 'ER':
            self.critical_error(f'tuner/assessor failed; see {self.log_dir / "dispatcher.log"}\n{content}')
        else:
            self.critical_error(f'unsupported command type {code!r} from the dispatcher')
        self.wake()

    # ------------------------------------------------------------------ scheduling

    def wake(self) -> None:
        """Ask the scheduler to look at the state again now."""
        self._wake.set()

    async def _scheduler(self) -> None:
        while not self._stopping:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()
            if self._stopping:
                return
            try:
                await self._schedule_once()
            except Exception as error:  # noqa: BLE001 - a bug must not kill the manager
                _logger.exception('scheduler failed')
                self.critical_error(f'job management error: {error}')

    async def _schedule_once(self) -> None:
        if self.status not in ACTIVE_STATUSES:
            return
        if time.monotonic() - self._last_profile_store >= PROFILE_STORE_INTERVAL_S:
            self._store_profile()
        self._enforce_trial_durations()
        if self._limit_reached():
            self._set_status('NO_MORE_TRIAL' if self._running else 'DONE')
            return
        exhausted_and_idle = (self._tuner_exhausted and not self._running and not self._waiting
                              and not self._pending_requests
                              # a tuner still handling a trial's end may yet send new trials (PBT's
                              # next generation): DONE only once it has answered everything
                              and not getattr(self.dispatcher, 'busy', False))
        if exhausted_and_idle:
            # NNI waits here forever; an exhausted search with nothing left to run is done
            self._set_status('DONE')
            return
        if self.status in ('DONE', 'NO_MORE_TRIAL'):
            # a limit was raised, or the search space was updated after exhaustion
            if self._end_time is not None:
                self._end_time = None
                self._update_manifest({'endTime': None})
            self._set_status('TUNER_NO_MORE_TRIAL' if self._tuner_exhausted else 'RUNNING')
        self._request_trials()
        await self._submit_waiting()

    def _request_trials(self) -> None:
        if not self._tuner_ready or self._tuner_exhausted or self.dispatcher is None or self.dispatcher.failed:
            return
        outstanding = sum(self._pending_requests)
        demand = self.trial_concurrency - len(self._running) - len(self._waiting) - outstanding
        max_trials = self.max_trial_number
        if max_trials is not None:
            demand = min(demand, max_trials - self._submitted - len(self._waiting) - outstanding)
        if demand > 0:
            self._pending_requests.append(demand)
            self.dispatcher.command('GE', str(demand))

    async def _submit_waiting(self) -> None:
        assert self.training_service is not None
        max_trials = self.max_trial_number
        if self.launch_backoff.paused_for() > 0:
            return
        while self._waiting and len(self._running) < self.trial_concurrency:
            pending = self._waiting[0]
            if pending.source != 'resumed' and max_trials is not None and self._submitted >= max_trials:
                break
            spec = self._make_spec(pending)
            if not self.training_service.can_start(spec):
                break
            self._waiting.popleft()
            await self._submit(pending, spec)
            if self._waiting and self._waiting[0] is pending:
                break  # it could not be launched (or stored): try again on a later turn, not in a loop

    def _trial_dir(self, trial_id: str) -> Path:
        environment = self.training_service.environment_id if self.training_service else 'local-env'
        return self.root / 'environments' / environment / 'trials' / trial_id

    def _make_spec(self, pending: PendingTrial) -> TrialSpec:
        assert self.training_service is not None
        if pending.trial_id is None:
            pending.trial_id = _new_trial_id(self.trials)
        trial_id = pending.trial_id
        if pending.sequence_id is None:
            pending.sequence_id = self._next_sequence_id
            self._next_sequence_id += 1
        trial_dir = self._trial_dir(trial_id)
        prefix = f'/{self.options.url_prefix}' if self.options.url_prefix else ''
        env = {
            'NNI_PLATFORM': self.training_service.platform,
            'NNI_EXP_ID': self.experiment_id,
            'NNI_TRIAL_JOB_ID': trial_id,
            'NNI_SYS_DIR': str(trial_dir),
            'NNI_OUTPUT_DIR': str(trial_dir),
            'NNI_TRIAL_SEQ_ID': str(pending.sequence_id),
            'NNI_CODE_DIR': str(self.params.get('trialCodeDirectory') or '.'),
            'NNI_TRIAL_COMMAND_CHANNEL': (f'http://127.0.0.1:{self.options.port}{prefix}/env/'
                                          f'{self.training_service.environment_id}/{trial_id}'),
            'NNI_TRIAL_TOKEN': self.token,
        }
        for name in _DISPATCHER_ENV:
            env[name] = ''
        gpu_number = self.params.get('trialGpuNumber')
        return TrialSpec(trial_id=trial_id, sequence_id=pending.sequence_id,
                         command=str(self.params.get('trialCommand')),
                         code_dir=Path(self.params.get('trialCodeDirectory') or '.'), trial_dir=trial_dir,
                         parameter_record=pending.record, env=env,
                         gpu_number=None if gpu_number is None else int(gpu_number), attempt=pending.attempt)

    async def _submit(self, pending: PendingTrial, spec: TrialSpec) -> None:
        assert self.store is not None and self.training_service is not None
        trial_id = spec.trial_id
        log_path = self.training_service.log_path(spec)
        environment = self.training_service.environment_id
        record = self.trials.get(trial_id)
        if record is None:
            record = self.trials[trial_id] = TrialRecord(trial_id)
        attempt = spec.attempt
        try:
            if attempt > 0 and self._attempts.get(trial_id, -1) < attempt:
                # the lost attempt's metrics leave what the REST API and the tuner see (kept aside)
                moved = self.store.supersede_metrics(trial_id, attempt - 1)
                record.final_metric = None
                if moved:
                    _logger.info('trial %s: %d metric(s) of attempt %d superseded by attempt %d', trial_id, moved,
                                 attempt - 1, attempt)
            self._attempts[trial_id] = attempt
            # "starting" first: a manager that dies during the launch leaves a trace the next one
            # follows (the supervisor replaces a same-id process left by an unrecorded launch)
            record.apply(self.store.save_attempt(trial_id, attempt, 'starting', event=dict(
                trial_job_id=trial_id, event='WAITING', data=pending.record, log_path=log_path,
                sequence_id=spec.sequence_id, environment_id=environment)))
        except (sqlite3.Error, OSError, StoreError) as error:
            self._store_failed(error)
            self._waiting.appendleft(pending)
            return
        running = RunningTrial(spec, pending.record)
        self._running[trial_id] = running
        self._submitted += 1
        try:
            started = await self.training_service.submit(spec)
        except (TrainingServiceError, OSError) as error:
            self._running.pop(trial_id, None)
            self._submitted -= 1
            self._launch_failed(pending, spec, error)
            return
        self.launch_backoff.succeeded()
        handle = self.training_service.trial_handle(trial_id)
        try:
            # the handle and the RUNNING event are one commit: a started trial is always findable
            record.apply(self.store.save_attempt(trial_id, attempt, 'running', handle or {}, event=dict(
                trial_job_id=trial_id, event='RUNNING', log_path=log_path, sequence_id=spec.sequence_id,
                environment_id=environment, timestamp=started)))
        except (sqlite3.Error, OSError, StoreError) as error:
            self._store_failed(error)
            return
        self._arm_duration_timer(trial_id, running)

    def _on_trial_queue_status(self, trial_id: str, status: str, timestamp: int) -> None:
        """A platform with a queue (Slurm) says a submitted trial waits in it or started running."""
        record = self.trials.get(trial_id)
        if (status not in ('WAITING', 'RUNNING') or record is None or trial_id not in self._running
                or record.status == status or record.status in TERMINAL_STATUSES or self.store is None):
            return
        try:
            record.apply(self.store.add_trial_event(trial_id, status, log_path=record.log_path,
                                                    sequence_id=record.sequence_id,
                                                    environment_id=record.environment_id, timestamp=timestamp))
        except (sqlite3.Error, OSError, StoreError) as error:
            self._store_failed(error)

    def _arm_duration_timer(self, trial_id: str, running: RunningTrial) -> None:
        limit = self.max_trial_duration
        if limit is None or self._loop is None:
            return
        record = self.trials.get(trial_id)
        elapsed = (now_ms() - record.start_time) / 1000 if record is not None and record.start_time else 0.0
        running.duration_timer = self._loop.call_later(max(0.0, limit - elapsed), self._on_trial_timeout, trial_id)

    def _launch_failed(self, pending: PendingTrial, spec: TrialSpec, error: BaseException) -> None:
        """A trial could not be launched: back off and keep it waiting, or stop on a full disk."""
        trial_id = spec.trial_id
        _logger.error('trial %s could not start: %s', trial_id, error)
        append_stderr_note(spec.trial_dir, f'nni: the trial could not start: {error}\n')
        if is_disk_full(error):
            self._finish_trial(trial_id, 'FAILED', message=str(error), attempt=spec.attempt)
            self.critical_error(f'the disk is full: {error}. Free some space, then resume the experiment.')
            return
        pause = self.launch_backoff.failed(f'{error}')
        # the trial itself is not to blame: it waits for the next try instead of counting as FAILED
        self._waiting.appendleft(pending)
        if pause > 0:
            _logger.warning('%d launches failed in a row; pausing launches for %.0f s', self.launch_backoff.consecutive,
                            pause)
            if self._loop is not None:
                self._loop.call_later(pause, self.wake)

    def _store_failed(self, error: BaseException) -> None:
        """The store cannot take a write: ERROR with the reason (nothing may be acknowledged unwritten)."""
        _logger.error('the store cannot be written: %s', error)
        reason = 'the disk is full' if is_disk_full(error) else 'the experiment database cannot be written'
        if self.status != 'ERROR':
            self.critical_error(f'{reason}: {error}. Free some space (or fix {self.root / "db"}), then resume '
                                f'the experiment.')

    def _on_trial_timeout(self, trial_id: str) -> None:
        if trial_id in self._running and self._loop is not None:
            _logger.info('trial %s ran over maxTrialDuration; stopping it', trial_id)
            self._loop.create_task(self.kill_trial(trial_id, early_stop=True))

    def _enforce_trial_durations(self) -> None:
        # The per-trial timers do the work; this catches a limit lowered by an update.
        limit = self.max_trial_duration
        if limit is None:
            return
        now = now_ms()
        for trial_id, running in list(self._running.items()):
            record = self.trials.get(trial_id)
            if (record and record.start_time and not running.kill_requested
                    and now - record.start_time > limit * 1000):
                self._on_trial_timeout(trial_id)

    # ------------------------------------------------------------------ trial ends

    def _on_trial_exit(self, trial_exit: TrialExit) -> None:
        running = self._running.get(trial_exit.trial_id)
        if running is None:
            return
        if self._stopping:
            # NNI leaves trials interrupted by a stop as RUNNING so a resume runs them again
            self._running.pop(trial_exit.trial_id, None)
            return
        record = self.trials[trial_exit.trial_id]
        self._ingest_metrics_file(record, running.spec.trial_dir, tracked=True)
        if running.kill_requested:
            status = 'EARLY_STOPPED' if running.early_stop else 'USER_CANCELED'
        elif trial_exit.exit_code == 0:
            status = 'SUCCEEDED'
        else:
            status = 'FAILED'
        message = trial_exit.message
        self.failure_guard.note_exit(trial_exit.trial_id, trial_exit.exit_code)
        if trial_exit.exit_code is None and not running.kill_requested and message is None:
            message = 'the trial process was killed by a signal'
        self._finish_trial(trial_exit.trial_id, status, message=message)

    def _finish_trial(self, trial_id: str, status: str, message: str | None = None,
                      attempt: int | None = None) -> None:
        assert self.store is not None
        running = self._running.pop(trial_id, None)
        if running is not None and running.duration_timer is not None:
            running.duration_timer.cancel()
        record = self.trials[trial_id]
        if attempt is None:
            attempt = running.spec.attempt if running is not None else self._attempts.get(trial_id, 0)
        event = dict(trial_job_id=trial_id, event=status, message=message, log_path=record.log_path,
                     sequence_id=record.sequence_id)
        try:
            row = self.store.save_attempt(trial_id, attempt, 'ended', event=event)
        except (sqlite3.Error, OSError, StoreError) as error:
            # the end is known even if it cannot be stored: the trial must not show RUNNING forever
            # (a resume reads its end again from the exit-code file)
            self._store_failed(error)
            row = TrialEventRow(now_ms(), trial_id, status, None, record.log_path, record.sequence_id, message, None)
        record.apply(row)
        _logger.info('trial %s %s', trial_id, status)
        if self.dispatcher is not None and not self.dispatcher.failed:
            hyper_params = running.record if running is not None else (record.first_parameter_record or '')
            self.dispatcher.command('EN', json.dumps({'trial_job_id': trial_id, 'event': status,
                                                      'hyper_params': hyper_params}))
        stop_reason = self.failure_guard.on_trial_finished(record)
        if stop_reason is not None and self.status in ACTIVE_STATUSES:
            halt_failing_experiment(self, stop_reason)
        self.wake()

    def _ingest_metrics_file(self, record: TrialRecord, trial_dir: Path, tracked: bool) -> None:
        try:
            envelopes = read_metrics_file(trial_dir / '.nni' / 'metrics')
        except OSError as error:
            _logger.warning('cannot read fallback metrics of trial %s: %s', record.trial_job_id, error)
            return
        for envelope in envelopes:
            try:
                self.ingest_metric(record.trial_job_id, envelope, forward=tracked)
            except EngineError as error:
                _logger.warning('skipping a fallback metric of trial %s: %s', record.trial_job_id, error)

    # ------------------------------------------------------------------ metrics

    def _metric_keys(self, trial_id: str) -> set[tuple[str, int]]:
        running = self._running.get(trial_id)
        if running is not None:
            return running.metric_keys
        keys: set[tuple[str, int]] = set()
        assert self.store is not None
        for row in self.store.metrics(trial_job_id=trial_id):
            keys.add((row.type, row.sequence))
        return keys

    def ingest_metric(self, trial_id: str, envelope_text: str, forward: bool = True) -> MetricRow | None:
        """Store one metric envelope of a trial, then forward it to the algorithms.

        Returns ``None`` for a duplicate (already stored) or a non-stored kind.
        """
        if self.store is None or self.status == 'VIEWED':
            raise EngineError('the experiment is not running', 409)
        record = self.trials.get(trial_id)
        if record is None:
            raise EngineError(f'unknown trial {trial_id}', 404)
        try:
            envelope = json.loads(envelope_text)
        except ValueError as error:
            raise EngineError(f'metric of trial {trial_id} is not JSON: {error}') from error
        if not isinstance(envelope, dict):
            raise EngineError(f'metric of trial {trial_id} must be a JSON object')
        if envelope.get('trial_job_id') not in (None, trial_id):
            raise EngineError(f'metric sent on the channel of trial {trial_id} names trial '
                              f'{envelope.get("trial_job_id")!r}')
        metric_type = envelope.get('type')
        if metric_type == 'REQUEST_PARAMETER':
            return None
        if metric_type not in ('FINAL', 'PERIODICAL'):
            raise EngineError(f'metric type must be FINAL or PERIODICAL, got {metric_type!r}')
        try:
            sequence = int(envelope.get('sequence') or 0)
        except (TypeError, ValueError) as error:
            raise EngineError(f'metric sequence must be an integer, got {envelope.get("sequence")!r}') from error
        value = envelope.get('value')
        if not isinstance(value, str):
            value = json.dumps(value)
        _check_metric_value(value, metric_type)
        if self._stopping and forward:
            raise EngineError('the experiment is stopping', 410)
        keys = self._metric_keys(trial_id)
        if (metric_type, sequence) in keys:
            return None
        parameter_id = envelope.get('parameter_id')
        try:
            row = self.store.add_metric(trial_id, None if parameter_id is None else str(parameter_id), metric_type,
                                        sequence, json.dumps(value))
        except (sqlite3.Error, OSError) as error:
            # not acknowledged: the trial keeps it in its metrics file, read again on resume
            self._store_failed(error)
            raise EngineError(f'the metric could not be stored: {error}', 507) from error
        keys.add((metric_type, sequence))
        if metric_type == 'FINAL' and record.final_metric is None:
            record.final_metric = row
            warning = non_finite_warning(trial_id, value)  # NaN/inf: stored as NNI does, but never silently
            if warning is not None:
                _logger.warning(warning.strip())
                if record.log_path:
                    append_stderr_note(Path(record.log_path), warning)
        if forward and trial_id in self._running and self.dispatcher is not None and not self.dispatcher.failed:
            envelope['value'] = value
            envelope['trial_job_id'] = trial_id
            if parameter_id is None and metric_type == 'FINAL':
                # customized trials have no tuner-side id; NNI drops their results, we hand
                # them to the tuner as imported data so the search still learns from them
                self.dispatcher.command('FD', json.dumps([{'parameter': record.parameters(), 'value': value}]))
            elif parameter_id is not None:
                self.dispatcher.command('ME', json.dumps(envelope))
        return row

    def trial_parameter(self, trial_id: str) -> str | None:
        """The parameter record of a running trial (trial channel GET)."""
        running = self._running.get(trial_id)
        return running.record if running is not None else None

    # ------------------------------------------------------------------ REST operations

    def _require_mutable(self, what: str) -> None:
        if self.status == 'VIEWED':
            raise EngineError(f'can not {what} in readonly mode!', 500)
        if self._stopping or self.status in ('STOPPING', 'STOPPED'):
            raise EngineError(f'can not {what}: the experiment is stopping', 409)
        if self.status == 'INITIALIZED':
            raise EngineError(f'can not {what}: the experiment has not started', 409)

    def update(self, update_type: str | None, body: Any) -> None:
        """``PUT /experiment?update_type=...``."""
        self._require_mutable('update experiment')
        if update_type not in UPDATE_TYPES:
            raise EngineError(f'update_type must be one of {", ".join(UPDATE_TYPES)}, got {update_type!r}')
        if not isinstance(body, dict) or not isinstance(body.get('params'), dict):
            raise EngineError('the body must be an experiment profile object with a "params" object')
        params = body['params']
        if update_type == 'TRIAL_CONCURRENCY':
            value = params.get('trialConcurrency')
            if not _is_positive_int(value):
                raise EngineError(f'trialConcurrency must be a positive integer, got {value!r}')
            self.params['trialConcurrency'] = value
        elif update_type == 'MAX_TRIAL_NUM':
            value = params.get('maxTrialNumber')
            if not _is_positive_int(value):
                raise EngineError(f'maxTrialNumber must be a positive integer, got {value!r}')
            self.params['maxTrialNumber'] = value
        elif update_type == 'MAX_EXEC_DURATION':
            value = params.get('maxExperimentDuration')
            seconds = parse_duration(value, 'maxExperimentDuration')
            if seconds is None or seconds <= 0:
                raise EngineError(f'maxExperimentDuration must be a positive duration, got {value!r}')
            self.params['maxExperimentDuration'] = value
        else:
            space = params.get('searchSpace')
            self._check_search_space(space)
            self.params['searchSpace'] = space
            if self.dispatcher is not None:
                self.dispatcher.command('SS', json.dumps(space))
            self._tuner_exhausted = False
        _logger.info('experiment updated: %s', update_type)
        self._store_profile()
        self.wake()

    @staticmethod
    def _check_search_space(space: Any) -> None:
        if not isinstance(space, dict):
            raise EngineError(f'searchSpace must be an object, got {type(space).__name__}')
        try:
            from nni.common.hpo_utils import validate_search_space

            validate_search_space(space)
        except ValueError as error:
            raise EngineError(f'invalid searchSpace: {error}') from error

    def import_data(self, data: Any) -> None:
        """``POST /experiment/import-data``."""
        self._require_mutable('import data')
        if not isinstance(data, list) or not all(isinstance(item, dict) and 'parameter' in item and 'value' in item
                                                 for item in data):
            raise EngineError('import data must be a list of {"parameter": {...}, "value": ...} objects')
        assert self.store is not None
        text = json.dumps(data)
        self.store.add_trial_event('', 'IMPORT_DATA', data=text)
        self._imported.append(text)
        if self.dispatcher is not None:
            self.dispatcher.command('FD', text)

    def imported_data(self) -> list[str]:
        return list(self._imported)

    def add_customized_trial(self, parameters: Any) -> int:
        """``POST /trial-jobs``: queue a trial with user-given parameters; returns its sequence id."""
        self._require_mutable('add trial job')
        if not isinstance(parameters, dict):
            raise EngineError('a customized trial needs a JSON object of hyper-parameters')
        max_trials = self.max_trial_number
        queued_customized = sum(1 for pending in self._waiting if pending.source == 'customized')
        if max_trials is not None and self._submitted + queued_customized >= max_trials:
            raise EngineError('reach maxTrialNum', 500)
        record = json.dumps({'parameter_id': None, 'parameter_source': 'customized', 'parameters': parameters,
                             'parameter_index': 0})
        assert self.store is not None
        trial_id = _new_trial_id(self.trials)
        sequence_id = self._next_sequence_id
        # committed before the answer: the trial and its sequence id survive a kill or stop + resume,
        # and the id is never handed out twice (the store's highest sequence id is read on resume)
        try:
            row = self.store.add_trial_event(trial_id, 'ADD_CUSTOMIZED', data=record, sequence_id=sequence_id)
        except (sqlite3.Error, OSError) as error:
            self._store_failed(error)
            raise EngineError(f'the customized trial could not be stored: {error}', 507) from error
        self._next_sequence_id += 1
        self.trials[trial_id] = TrialRecord(trial_id)
        self.trials[trial_id].apply(row)
        pending = PendingTrial(record, 'customized', trial_id=trial_id, sequence_id=sequence_id)
        # a trial the user asked for goes before the tuner's suggestions
        self._waiting.appendleft(pending)
        self.wake()
        return sequence_id

    async def kill_trial(self, trial_id: str, early_stop: bool = False) -> None:
        """``DELETE /trial-jobs/{id}`` (or an assessor / duration kill when ``early_stop``)."""
        if self.status == 'VIEWED':
            raise EngineError('can not kill trial job in readonly mode!', 500)
        if trial_id not in self.trials and not any(p.trial_id == trial_id for p in self._waiting):
            raise EngineError(f'trial {trial_id} not found', 404)
        was_waiting = False
        for pending in list(self._waiting):
            if pending.trial_id == trial_id:
                self._waiting.remove(pending)
                was_waiting = True
        running = self._running.get(trial_id)
        if running is None:
            if was_waiting and trial_id in self.trials and self.store is not None:
                # a queued trial (customized, or waiting to run again) ends here, recorded
                self._finish_trial(trial_id, 'EARLY_STOPPED' if early_stop else 'USER_CANCELED')
            return
        running.kill_requested = True
        running.early_stop = running.early_stop or early_stop
        if not early_stop and self.store is not None:
            self.store.add_trial_event(trial_id, 'USER_TO_CANCEL', data='')
        assert self.training_service is not None
        await self.training_service.kill(trial_id)

    async def tuner_commands(self, wait_s: float) -> list[tuple[str, str]]:
        """Commands for a tuner running in the launching process (long poll)."""
        if not isinstance(self.dispatcher, ExternalDispatcher):
            raise EngineError('this experiment does not run its tuner in the launching process', 409)
        return await self.dispatcher.fetch(wait_s)

    def tuner_answers(self, answers: Any) -> None:
        """Answers (``TR``, ``NO``, ``ID``, ``KI``, ``ER``) of a tuner running in the launching process."""
        if not isinstance(self.dispatcher, ExternalDispatcher):
            raise EngineError('this experiment does not run its tuner in the launching process', 409)
        if not isinstance(answers, list) or not all(
                isinstance(item, list) and len(item) == 2 and all(isinstance(part, str) for part in item)
                for item in answers):
            raise EngineError('tuner answers must be a list of [code, content] string pairs')
        for code, content in answers:
            if code == 'ER':
                self.dispatcher.failed = True
            self._on_dispatcher_command(code, content)

    def trial_jobs_json(self, status: str | None = None) -> str:
        """``GET /trial-jobs`` as JSON text, built from each record's cached encoding."""
        return '[' + ','.join(record.to_json() for record in self.trials.values()
                              if status is None or record.status == status) + ']'

    def trial_jobs(self, status: str | None = None) -> list[dict[str, Any]]:
        return [record.to_rest() for record in self.trials.values() if status is None or record.status == status]

    def trial_job(self, trial_id: str) -> dict[str, Any] | None:
        record = self.trials.get(trial_id)
        return record.to_rest() if record is not None else None

    def job_statistics(self) -> list[dict[str, Any]]:
        counts: dict[str, int] = {}
        for record in self.trials.values():
            counts[record.status] = counts.get(record.status, 0) + 1
        return [{'trialJobStatus': status, 'trialJobNumber': number} for status, number in counts.items()]

    def _export_entries(self) -> list[dict[str, Any]]:
        entries = []
        for record in self.trials.values():
            if record.status != 'SUCCEEDED' or record.final_metric is None:
                continue
            entries.append({'parameter': record.parameters(), 'value': json.loads(record.final_metric.data),
                            'trialJobId': record.trial_job_id})
        return entries

    def export_data(self) -> list[dict[str, Any]]:
        return self._export_entries()

    def pareto_front(self) -> dict[str, Any]:
        """``GET /pareto-front`` (ours): objectives and Pareto-optimal trials (nni.common.objectives)."""
        from nni.common.objectives import pareto_trials

        return pareto_trials(self.params, self.trials)

    def check_status(self) -> dict[str, Any]:
        # firstFailure: beyond NNI (its clients read only status and errors)
        errors = list(self.errors)
        launch_problem = self.launch_backoff.message()
        if launch_problem is not None and self.status in ACTIVE_STATUSES:
            errors.append(launch_problem)
        answer: dict[str, Any] = {'status': self.status, 'errors': errors}
        first_failure = self.failure_guard.first_failure
        if first_failure is not None:
            # only once a trial failed: NNI's exact {status, errors} otherwise
            answer['firstFailure'] = first_failure
        return answer

    def summary(self) -> dict[str, Any]:
        """Counts the portal and progress displays need (beyond NNI)."""
        best = None
        maximize = _optimize_mode(self.params) != 'minimize'
        for record in self.trials.values():
            if record.final_metric is None or record.status != 'SUCCEEDED':
                continue
            score = _scalar_metric(record.final_metric.data)
            if score is None or math.isnan(score):
                continue
            if best is None or (score > best[0] if maximize else score < best[0]):
                best = (score, record.trial_job_id)
        return {
            'status': self.status,
            'trials': len(self.trials),
            'running': len(self._running),
            'waiting': len(self._waiting),
            'maxTrialNumber': self.max_trial_number,
            'execDuration': self.exec_duration(),
            'bestMetric': None if best is None else best[0],
            'bestTrialJobId': None if best is None else best[1],
            **self.failure_guard.summary_fields(),
        }

    # ------------------------------------------------------------------ stop

    async def stop(self) -> None:
        """Stop the experiment: tuner, trials, store; idempotent."""
        if self._stopping:
            await self.stopped.wait()
            return
        self._stopping = True
        previous = self.status
        if previous not in ('VIEWED',):
            self._set_status('STOPPING')
        if self._scheduler_task is not None:
            self._scheduler_task.cancel()
        if isinstance(self.dispatcher, ExternalDispatcher):
            self.dispatcher.stop()
        elif self.dispatcher is not None:
            await asyncio.to_thread(self.dispatcher.stop, 30.0)
        interrupted = list(self._running)
        if self.training_service is not None:
            try:
                await self.training_service.stop()
            except Exception:  # noqa: BLE001
                _logger.exception('training service failed to stop cleanly')
        if self.store is not None and interrupted:
            # stopped with the experiment: a resume runs them again (NNI's rule), as new attempts
            try:
                self.store.mark_attempts(interrupted, 'interrupted')
            except (sqlite3.Error, OSError) as error:
                _logger.error('cannot record the interrupted trials: %s', error)
        if self.store is not None:
            if previous != 'VIEWED':
                self._set_status('STOPPED')
            self.store.close()
            self.store = None
        else:
            self.status = 'STOPPED'
            self._update_manifest({'status': 'STOPPED'})
        self._manifest_executor.shutdown(wait=True)
        self.stopped.set()


def _is_positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _optimize_mode(params: dict[str, Any]) -> str | None:
    for key in ('tuner', 'advisor', 'assessor'):
        section = params.get(key) or {}
        mode = (section.get('classArgs') or {}).get('optimize_mode')
        if mode:
            return str(mode)
    return None


def _scalar_metric(data: str) -> float | None:
    try:
        value = json.loads(json.loads(data))
    except (ValueError, TypeError):
        return None
    if isinstance(value, dict):
        value = value.get('default')
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _check_metric_value(value: str, metric_type: str) -> None:
    """Refuse a final metric no tuner can use: it would crash the tuner for everyone."""
    try:
        decoded = json.loads(value)
    except ValueError as error:
        raise EngineError(f'metric value is not JSON: {value[:100]!r}') from error
    if metric_type != 'FINAL':
        return
    scalar = decoded.get('default') if isinstance(decoded, dict) else decoded
    if isinstance(scalar, bool) or not isinstance(scalar, (int, float)):
        raise EngineError('a final metric must be a number or a dict with a numeric "default" key, got '
                          f'{value[:100]}')
