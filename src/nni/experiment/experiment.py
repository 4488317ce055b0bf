"""
The ``Experiment`` client: start, watch, change and stop one experiment's manager process.

The manager runs in its own process (``python -m nni.manager``); this class only launches it through
:mod:`nni.experiment.launcher` and talks to it over the REST API (:mod:`nni.experiment.rest`).
"""

from __future__ import annotations

import atexit
import difflib
import json
import logging
import os
import signal
import socket
import sys
import time
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from . import launcher, management, port_check, rest
from .data import TrialJob, TrialMetricData, TrialResult
from .manifest import Experiments

if TYPE_CHECKING:
    import subprocess

    from .config import ExperimentConfig

__all__ = ['Experiment', 'RunMode']

_logger = logging.getLogger('nni.experiment')

#: Seconds between two status checks while ``run()`` waits for the experiment to end (NNI: 10).
WAIT_INTERVAL = 0.5

#: Seconds ``stop()`` waits for the manager to exit after ``DELETE /experiment``. The manager forces its
#: own exit after 60 s of shutdown, so this is only reached when it is stuck.
STOP_TIMEOUT = 75.0

#: Seconds between SIGTERM and SIGKILL when the manager must be killed.
KILL_GRACE = 10.0


class RunMode(Enum):
    """
    Lifecycle and output of the manager process.

    - ``Background``: the manager is stopped when the Python script exits; its log is not printed. (default)
    - ``Foreground``: the manager is stopped when the Python script exits; its log is printed to stdout.
    - ``Detach``: the manager keeps running after the Python script exits; its stdout and stderr go to
      ``log/nnictl_stdout.log`` and ``log/nnictl_stderr.log``.
    """

    Background = 'background'
    Foreground = 'foreground'
    Detach = 'detach'


class Experiment:
    """
    Manage an NNI experiment.

    Give either an :class:`~nni.experiment.config.ExperimentConfig` or a training service name; a name creates
    a blank config for that training service, to be filled in before :meth:`run`.

    Parameters
    ----------
    config_or_platform
        The experiment config, a platform name (``'local'``), a list of platform names, or ``None``
        (for :meth:`connect`, :meth:`resume` and :meth:`view` of an existing experiment).
    id
        Experiment id; a random one by default. Give an existing id only to resume or view that experiment.
    tuner
        Legacy form ``Experiment(tuner_instance, 'local')``: a tuner object to run inside this Python process.
        Accepted and stored, but :meth:`start` raises :class:`NotImplementedError` for now.
    training_service
        Legacy form: platform name(s) or config going with ``tuner``.

    Attributes
    ----------
    config
        The experiment config.
    id
        Experiment id.
    port
        Web portal / REST port, or ``None`` while the experiment is not running.
    url_prefix
        URL prefix of the web portal and REST API, or ``None``.

    Notes
    -----
    Once the experiment is stopped (:meth:`stop`, or Ctrl-C in :meth:`run`), :meth:`export_data`,
    :meth:`list_trial_jobs`, :meth:`get_trial_job`, :meth:`get_job_statistics` and :meth:`get_job_metrics`
    read its database instead of the REST API, so a script can still collect the results.

    Examples
    --------
    .. code-block:: python

        experiment = Experiment('local')
        experiment.config.trial_command = 'python3 trial.py'
        experiment.config.search_space = {'lr': {'_type': 'loguniform', '_value': [1e-4, 0.1]}}
        experiment.config.tuner.name = 'TPE'
        experiment.config.trial_concurrency = 2
        experiment.run(8080)
    """

    def __init__(
        self,
        config_or_platform: ExperimentConfig | str | list[str] | None = None,
        id: str | None = None,  # noqa: A002 - NNI's parameter name
        *,
        tuner: Any = None,
        training_service: ExperimentConfig | str | list[str] | None = None,
    ) -> None:
        if _looks_like_tuner(config_or_platform):
            if tuner is not None:
                raise TypeError('Experiment() got the tuner twice')
            tuner, config_or_platform = config_or_platform, None
            if training_service is None:
                # Experiment(tuner, 'local'): the second positional argument is the training service.
                training_service, id = id, None  # type: ignore[assignment]
        if training_service is not None:
            if config_or_platform is not None:
                raise TypeError('Experiment() got both a config and a training_service')
            config_or_platform = training_service

        if id is not None:
            if not management.is_valid_experiment_id(id):
                raise ValueError(
                    f'Invalid experiment ID: {id}. Experiment ID should only contain digits, alphanumeric '
                    'characters, hyphens, and underscores, and should be no longer than 32 characters.'
                )
            self.id: str = id
        else:
            self.id = management.generate_experiment_id()

        self.config: ExperimentConfig | None
        if isinstance(config_or_platform, (str, list)):
            from .config import ExperimentConfig

            self.config = ExperimentConfig(config_or_platform)
        else:
            self.config = config_or_platform

        self.port: int | None = None
        self.url_prefix: str | None = None
        self._proc: subprocess.Popen[bytes] | launcher.ProcessHandle | None = None
        self._action: Literal['create', 'resume', 'view'] = 'create'
        self._tuner = tuner
        # Working directory of the running experiment, where the manager keeps <id>/db/token.
        self._exp_dir: str | None = None
        _ensure_console_logging()

    # -----------------------------------------------------------------------------------------------------
    # Lifecycle

    def start(self, port: int = 8080, debug: bool = False, run_mode: RunMode = RunMode.Background) -> None:
        """
        Start the experiment in the background and return once the manager has accepted its config.

        Raises an exception on failure; if it returns, the experiment has started.

        Parameters
        ----------
        port
            Port of the web portal and REST API.
        debug
            Whether to start in debug mode (log level ``debug``).
        run_mode
            ``Background``/``Foreground`` stop the manager when Python exits; ``Detach`` leaves it running.
        """
        if self.config is None:
            raise RuntimeError('Experiment has no config: pass an ExperimentConfig or a platform name to Experiment()')
        if self._proc is not None and self._proc.poll() is None:
            raise RuntimeError(f'Experiment {self.id} is already running on port {self.port}')
        run_mode = RunMode(run_mode)

        if self._tuner is not None:
            self._describe_in_process_tuner()
        config = self.config.canonical_copy()
        if getattr(config, 'use_annotation', False):
            raise RuntimeError('NNI annotation is not supported by Python experiment API.')
        if self._action != 'view':
            launcher.ensure_platform_runnable(config)  # before anything is written
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            raise ValueError(f'port must be an integer from 1 to 65535, got {port!r}')
        if port_check.port_busy(port):
            # said before the experiment folder is made, so a busy port leaves nothing behind
            raise port_check.PortBusyError(port, port_check.port_busy_message(port)) from None

        if run_mode is not RunMode.Detach:
            # Stopped at interpreter exit unless stop() was called; run() does not stop on completion.
            atexit.register(self.stop)
        try:
            self._start_logging(config, debug)
            self._proc = launcher.start_experiment(
                self._action, self.id, config, port, debug, run_mode, self.url_prefix,
                'in-process' if self._tuner is not None else None, []
            )
            if self._tuner is not None:
                self._start_tuner_bridge(port, str(config.experiment_working_directory))
        except BaseException:
            atexit.unregister(self.stop)
            self._stop_logging()
            raise
        self.port = port
        self._exp_dir = str(config.experiment_working_directory)
        urls = _web_portal_urls(port, self.url_prefix, getattr(config, 'nni_manager_ip', None))
        token = _read_token(Path(self._exp_dir) / self.id)
        _logger.info('Web portal URLs: %s', ' '.join(_with_token(url, token) for url in urls))

    def stop(self) -> None:
        """
        Stop the experiment.

        Sends ``DELETE /experiment`` and waits for the manager to exit; if that fails, the manager's process
        group gets SIGTERM, then SIGKILL.
        """
        _logger.info('Stopping experiment, please wait...')
        atexit.unregister(self.stop)
        _logger.info('Saving experiment checkpoint...')
        self.save_checkpoint()
        _logger.info('Stopping NNI manager, if any...')
        try:
            self._stop_nni_manager()
        finally:
            self._stop_logging()
        _logger.info('Experiment stopped.')

    def _describe_in_process_tuner(self) -> None:
        # The manager stores a tuner entry like any other; this one names the object's class and
        # is never imported there (the manager is told the tuner runs in this process).
        from .config import CustomAlgorithmConfig

        assert self.config is not None
        tuner_class = type(self._tuner)
        self.config.tuner = CustomAlgorithmConfig(
            class_name=f'{tuner_class.__module__}.{tuner_class.__qualname__}', code_directory=os.getcwd(),
            class_args={})

    def _start_tuner_bridge(self, port: int, exp_dir: str) -> None:
        from nni.runtime.tuner_bridge import TunerBridge

        token = launcher.read_token(exp_dir, self.id)
        if token is None:
            raise RuntimeError(f'experiment {self.id} has no token file; cannot connect the in-process tuner')
        self._tuner_bridge = TunerBridge(port, self.url_prefix, token, self._tuner)
        self._tuner_bridge.start()

    def _stop_nni_manager(self) -> None:
        proc = self._proc
        if proc is None:
            return
        try:
            try:
                rest.delete(self.port, '/experiment', self.url_prefix, token=self._token())
                proc.wait(STOP_TIMEOUT)
            except Exception as e:
                _logger.warning('Cannot gracefully stop experiment (%s), killing NNI manager...', e)
                launcher.stop_process(proc, KILL_GRACE)
                launcher.mark_stopped(self.id, proc.pid)
        except KeyboardInterrupt:
            # Ctrl-C while waiting for the manager: the user wants out now, but the manager must not outlive us.
            launcher.signal_process_group(proc.pid, getattr(signal, 'SIGKILL', signal.SIGTERM))
            launcher.mark_stopped(self.id, proc.pid)
            raise
        finally:
            bridge = getattr(self, '_tuner_bridge', None)
            if bridge is not None:
                bridge.stop()
                self._tuner_bridge = None
            self.port = None
            self._proc = None
            self._exp_dir = None

    def _token(self) -> str | None:
        # Read on each mutating call rather than cached: cheap, and a resumed manager may have a new one.
        return launcher.read_token(self._exp_dir, self.id) if self._exp_dir else None

    def run(self, port: int = 8080, wait_completion: bool = True, debug: bool = False) -> bool | None:
        """
        Run the experiment.

        Ctrl-C stops the experiment. Otherwise the experiment is not stopped when this method returns: call
        :meth:`stop`, or let the interpreter exit.

        Parameters
        ----------
        port
            Port of the web portal and REST API.
        wait_completion
            Block until the experiment is done or failed.
        debug
            Whether to start in debug mode.

        Returns
        -------
        bool or None
            ``None`` when not waiting (or after Ctrl-C); ``True`` when the experiment is ``DONE``/``STOPPED``
            and a trial succeeded (or none failed), ``False`` on ``ERROR`` or when every finished trial failed
            (NNI returns ``True`` then; ``docs/compatibility.md``). The first failure's reason is printed as
            soon as the first trials fail.
        """
        return self._run_impl(port, wait_completion, debug)

    def _run_impl(self, port: int, wait_completion: bool, debug: bool) -> bool | None:
        try:
            self.start(port, debug)
            if wait_completion:
                return self._wait_completion()
        except KeyboardInterrupt:
            _logger.warning('KeyboardInterrupt detected')
            self.stop()
        return None

    def _wait_completion(self) -> bool:
        from .progress import ProgressMonitor

        # a live progress line in a terminal or notebook, plain lines to a file or pipe; the first failure's
        # reason as soon as trials fail with none succeeded
        with ProgressMonitor(self) as progress:
            while True:
                try:
                    status = self.get_status()
                except OSError as e:
                    proc = self._proc
                    code = proc.poll() if proc is not None else None
                    if code is not None:
                        raise RuntimeError(f'NNI manager exited unexpectedly (exit code {code})') from e
                    raise
                if status in ('DONE', 'STOPPED'):
                    progress.refresh(force=True)
                    return self._verdict(progress.last_state)
                if status == 'ERROR':
                    self._report_errors()
                    return False
                progress.refresh()
                time.sleep(WAIT_INTERVAL)

    def _verdict(self, state: Any) -> bool:
        # NNI says True whenever the experiment ended; a run whose every finished trial failed is no success.
        if state is None or not state.all_failed:
            return True
        _logger.error('No trial succeeded: %d of %d trials failed. The first failure: %s', state.failed,
                      state.trials, _failure_summary(state.first_failure))
        return False

    def _report_errors(self) -> None:
        try:
            errors = rest.get(self.port, '/check-status', self.url_prefix).get('errors') or []
        except Exception:  # noqa: BLE001 - the status is known; the message is a courtesy
            return
        for error in errors:
            _logger.error('Experiment failed: %s', error)

    def run_or_resume(self, port: int = 8080, wait_completion: bool = True, debug: bool = False) -> bool | None:
        """
        :meth:`resume` when :meth:`has_checkpoint`, else :meth:`run`; parameters and return value as :meth:`run`.
        """
        if self.has_checkpoint():
            _logger.info('Checkpoint is found. Resume the experiment: %s', self.id)
            return self.resume(port, wait_completion, debug)
        _logger.info('No checkpoint is found. Start a new experiment: %s', self.id)
        return self.run(port, wait_completion, debug)

    def has_checkpoint(self) -> bool:
        """
        Whether this experiment id is in the experiment manifest (in any status).

        Returns
        -------
        bool
            ``True`` if the experiment can be resumed or viewed.
        """
        experiments = Experiments().get_all_experiments()
        if self.id in experiments:
            _logger.debug('Checkpoint is found in experiment manifest: %r', experiments[self.id])
            return True
        _logger.debug('No checkpoint with %s is found in experiment manifest.', self.id)
        return False

    def load_checkpoint(self) -> None:
        """
        Load the config of this (stopped) experiment from its database.

        When this instance already has a config, it is kept (its working directory tells where to look) and a
        warning shows how it differs from the stored one.
        """
        exp_dir = self.config.canonical_copy().experiment_working_directory if self.config is not None else None
        config = launcher.get_stopped_experiment_config(self.id, exp_dir=exp_dir)
        if self.config is None:
            _logger.debug('Current config is None. Loaded config will be used: %r', config)
            self.config = config
            return
        config_diff = _config_diff(self.config, config)
        if config_diff:
            _logger.warning('Config is found but does not match the current config:\n%s', config_diff)
            _logger.warning('Current config will NOT be overridden by the loaded config.')
        else:
            _logger.info('Current config matches the loaded config.')

    def save_checkpoint(self) -> None:
        """Nothing to do for HPO: the manager stores everything as it goes."""

    @classmethod
    def connect(cls, port: int) -> Experiment:
        """
        Connect to an experiment whose manager already runs on ``port`` (no URL prefix).

        :meth:`stop` works on the result when the manifest knows the manager's pid.

        Parameters
        ----------
        port
            Port of the web portal and REST API.

        Returns
        -------
        Experiment
            An instance without config, bound to the running experiment.
        """
        experiment = cls(None)
        experiment.port = port
        experiment.id = experiment.get_experiment_profile().get('id')
        status = experiment.get_status()
        metadata = experiment.get_experiment_metadata(experiment.id)
        if not metadata:
            # the manager could not tell; this machine's manifest may
            metadata = Experiments().get_all_experiments().get(experiment.id) or {}
        experiment._exp_dir = metadata.get('logDir') or None
        pid = metadata.get('pid')
        if pid is None:
            _logger.warning('Get experiment pid failed, can not stop experiment by stop().')
        else:
            experiment._proc = launcher.ProcessHandle(int(pid))
        _logger.info('Connect to port %d success, experiment id is %s, status is %s.', port, experiment.id, status)
        return experiment

    def resume(self, port: int = 8080, wait_completion: bool = True, debug: bool = False) -> bool | None:
        """
        Resume a stopped experiment.

        ``Experiment.resume('<id>')`` (the deprecated call style) still works, with a warning.

        Parameters
        ----------
        port
            Port of the web portal and REST API.
        wait_completion
            Block until the experiment is done or failed.
        debug
            Whether to start in debug mode.

        Returns
        -------
        bool or None
            See :meth:`run`.
        """
        if isinstance(self, str):
            _logger.warning('Experiment.resume(id) is deprecated. Use Experiment(None, id).resume() instead.')
            self = Experiment(None, id=self)  # noqa: PLW0642 - deprecated call style, self is the id
        if not self.has_checkpoint():
            raise RuntimeError(f'Experiment {self.id} does not exist thus cannot be resumed.')
        self.load_checkpoint()
        self._action = 'resume'
        return self._run_impl(port, wait_completion, debug)

    def view(self, port: int = 8080, non_blocking: bool = False) -> Experiment:
        """
        View a stopped experiment: its manager serves the data read-only (status ``VIEWED``).

        ``Experiment.view('<id>')`` (the deprecated call style) still works, with a warning.

        Parameters
        ----------
        port
            Port of the web portal and REST API.
        non_blocking
            Return at once, leaving the manager running (detached); otherwise block until Ctrl-C, then stop.

        Returns
        -------
        Experiment
            The instance (a new one for the deprecated call style).
        """
        if isinstance(self, str):
            _logger.warning('Experiment.view(id) is deprecated. Use Experiment(None, id).view() instead.')
            self = Experiment(None, id=self)  # noqa: PLW0642
        self._action = 'view'
        if not self.has_checkpoint():
            raise RuntimeError(f'Experiment {self.id} does not exist thus cannot be viewed.')
        self.load_checkpoint()
        self.start(port=port, debug=False, run_mode=RunMode.Detach)
        if not non_blocking:
            try:
                while self._proc is not None and self._proc.poll() is None:
                    time.sleep(WAIT_INTERVAL)
            except KeyboardInterrupt:
                _logger.warning('KeyboardInterrupt detected')
            finally:
                self.stop()
        return self

    # -----------------------------------------------------------------------------------------------------
    # Queries

    def get_status(self) -> str:
        """
        The experiment status (``INITIALIZED``, ``RUNNING``, ``DONE``, ``ERROR``, ``STOPPED``, ...).

        Returns
        -------
        str
            ``GET /check-status`` status.
        """
        resp = rest.get(self.port, '/check-status', self.url_prefix)
        return resp['status']

    def get_trial_job(self, trial_job_id: str) -> TrialJob:
        """
        One trial job.

        Parameters
        ----------
        trial_job_id
            Trial id.

        Returns
        -------
        TrialJob
            The trial.

        Raises
        ------
        ValueError
            The manager does not know this trial.
        """
        stored = self._stored_database()
        if stored is not None:
            from . import stored as store_reader

            resp = next((job for job in store_reader.trial_jobs(stored) if job['trialJobId'] == trial_job_id), None)
        else:
            resp = rest.get(self.port, f'/trial-jobs/{trial_job_id}', self.url_prefix)
        if not resp:
            # NNI's manager answers an empty body for an unknown id, which NNI turned into a TypeError.
            raise ValueError(f'Trial job {trial_job_id} does not exist')
        return TrialJob(**resp)

    def list_trial_jobs(self) -> list[TrialJob]:
        """
        All trial jobs, in submission order.

        Returns
        -------
        list of TrialJob
            The trials.
        """
        resp = self._query('/trial-jobs', 'trial_jobs')
        return [TrialJob(**trial_job) for trial_job in resp or []]

    def get_job_statistics(self) -> list[dict[str, Any]]:
        """
        Number of trials per status.

        Returns
        -------
        list of dict
            ``[{"trialJobStatus": "SUCCEEDED", "trialJobNumber": 3}, ...]``, one item per status in use.
        """
        return self._query('/job-statistics', 'job_statistics')

    def get_job_metrics(self, trial_job_id: str | None = None) -> dict[str, list[TrialMetricData]]:
        """
        Metrics of one trial, or of all trials.

        Parameters
        ----------
        trial_job_id
            Trial id; ``None`` for all trials.

        Returns
        -------
        dict
            Trial id -> list of :class:`TrialMetricData`, in the manager's order.
        """
        api = f'/metric-data/{trial_job_id}' if trial_job_id else '/metric-data'
        resp = self._query(api, 'metric_data', trial_job_id)
        metrics: dict[str, list[TrialMetricData]] = {}
        for metric in resp or []:
            metrics.setdefault(metric['trialJobId'], []).append(TrialMetricData(**metric))
        return metrics

    def get_experiment_profile(self) -> dict[str, Any]:
        """
        The experiment profile (``GET /experiment``).

        Returns
        -------
        dict
            ``id``, ``params`` (the config as camelCase JSON), ``execDuration``, ``startTime``, ...
        """
        return rest.get(self.port, '/experiment', self.url_prefix)

    def get_experiment_metadata(self, exp_id: str) -> dict[str, Any]:
        """
        The manifest entry of ``exp_id``, as known by the running manager.

        Parameters
        ----------
        exp_id
            Experiment id.

        Returns
        -------
        dict
            The entry (``id``, ``port``, ``status``, ``pid``, ``logDir``, ...), or ``{}`` if unknown.
        """
        for metadata in self.get_all_experiments_metadata():
            if metadata.get('id') == exp_id:
                return metadata
        return {}

    def get_all_experiments_metadata(self) -> list[dict[str, Any]]:
        """
        All manifest entries (``GET /experiments-info``).

        Returns
        -------
        list of dict
            One entry per experiment on this machine.
        """
        return rest.get(self.port, '/experiments-info', self.url_prefix) or []

    def export_data(self) -> list[TrialResult]:
        """
        Parameters and final metric of every trial that has one.

        Returns
        -------
        list of TrialResult
            One record per trial.
        """
        resp = self._query('/export-data', 'export_data')
        return [TrialResult(**trial_result) for trial_result in resp or []]

    def get_pareto_front(self) -> dict[str, Any]:
        """
        The Pareto front of a multi-objective experiment (ours; NNI has none).

        The objectives are named by the tuner's ``optimize_mode`` mapping, e.g.
        ``{'accuracy': 'maximize', 'latency': 'minimize'}`` (docs/multi_objective.md).

        Returns
        -------
        dict
            ``{'objectives': [{'name', 'mode'}, ...], 'trials': [...]}``: each Pareto-optimal trial
            with its id, sequence id, parameters and objective values; empty lists for an experiment
            with one objective. Works on a stopped experiment too (read from its database).
        """
        return self._query('/pareto-front', 'pareto_front')

    def _stored_database(self) -> Path | None:
        # Not running (stopped, or Ctrl-C in run()): the data is still in the experiment's database.
        if self.port is not None:
            return None
        from . import stored

        directories: list[Any] = [getattr(self.config, 'experiment_working_directory', None)]
        directories.append((Experiments().get_all_experiments().get(self.id) or {}).get('logDir'))
        return stored.database_path(self.id, directories)

    def _query(self, api: str, reader: str, *args: Any) -> Any:
        # GET from the manager while it runs; afterwards the same answer from the stored database
        path = self._stored_database()
        if path is None:
            return rest.get(self.port, api, self.url_prefix)
        from . import stored

        _logger.debug('Experiment %s is not running: reading %s from %s', self.id, api, path)
        return getattr(stored, reader)(path, *args)

    # -----------------------------------------------------------------------------------------------------
    # Updates

    def _update_experiment_profile(self, key: str, value: Any) -> None:
        profile = self.get_experiment_profile()
        profile['params'][key] = value
        rest.put(self.port, f'/experiment?update_type={_UPDATE_TYPES[key]}', profile, self.url_prefix,
                 token=self._token())
        _logger.info('Successfully update %s.', key)

    def update_trial_concurrency(self, value: int) -> None:
        """
        Change how many trials run at once.

        Parameters
        ----------
        value
            New ``trial_concurrency``.
        """
        self._update_experiment_profile('trialConcurrency', value)

    def update_max_experiment_duration(self, value: str) -> None:
        """
        Change the experiment's time limit.

        Parameters
        ----------
        value
            A duration such as ``'30m'`` or ``'2h'`` (suffix ``s``, ``m``, ``h`` or ``d``).
        """
        self._update_experiment_profile('maxExperimentDuration', value)

    def update_search_space(self, value: dict[str, Any]) -> None:
        """
        Replace the search space; the tuner is told.

        Parameters
        ----------
        value
            New search space.
        """
        self._update_experiment_profile('searchSpace', value)

    def update_max_trial_number(self, value: int) -> None:
        """
        Change how many trials the experiment runs in total.

        Parameters
        ----------
        value
            New ``max_trial_number``.
        """
        self._update_experiment_profile('maxTrialNumber', value)

    def kill_trial_job(self, trial_job_id: str) -> None:
        """
        Kill a trial job (it becomes ``USER_CANCELED``).

        Parameters
        ----------
        trial_job_id
            Trial id.
        """
        rest.delete(self.port, f'/trial-jobs/{trial_job_id}', self.url_prefix, token=self._token())

    # -----------------------------------------------------------------------------------------------------
    # Logging

    def _start_logging(self, config: Any, debug: bool) -> None:
        log_file = Path(config.experiment_working_directory, self.id, 'log', 'experiment.log').expanduser()
        log_file.parent.mkdir(parents=True, exist_ok=True)
        level = getattr(config, 'log_level', None) or 'info'
        if debug or level == 'trace':
            level = 'debug'
        _start_experiment_logging(self.id, log_file, level)

    def _stop_logging(self) -> None:
        _stop_experiment_logging(self.id)


_UPDATE_TYPES = {
    'trialConcurrency': 'TRIAL_CONCURRENCY',
    'maxExperimentDuration': 'MAX_EXEC_DURATION',
    'searchSpace': 'SEARCH_SPACE',
    'maxTrialNumber': 'MAX_TRIAL_NUM',
}


def _failure_summary(info: dict[str, Any] | None) -> str:
    if not info:
        return 'unknown (see the trials\' trial.stderr)'
    code = info.get('exitCode')
    text = f'trial {info.get("trialJobId")}' + (f' exited with code {code}' if code is not None else ' failed')
    tail = (info.get('stderrTail') or '').strip().splitlines()
    if tail:
        text += f'; its stderr ends with: {tail[-1]}'
    elif info.get('message'):
        text += f': {info["message"]}'
    if info.get('stderrPath') or info.get('trialDir'):
        text += f' ({info.get("stderrPath") or info.get("trialDir")})'
    return text


def _looks_like_tuner(obj: Any) -> bool:
    # Duck typing on the Tuner API keeps this module free of an import of nni.tuner.
    if obj is None or isinstance(obj, (str, list)):
        return False
    return callable(getattr(obj, 'generate_parameters', None)) or callable(
        getattr(obj, 'generate_multiple_parameters', None)
    )


def _config_diff(current: Any, loaded: Any) -> str:
    def as_text(config: Any) -> list[str]:
        try:
            data = config.canonical_copy().json()
        except Exception:
            data = config.json()
        return json.dumps(data, indent=2, sort_keys=True, default=str).splitlines()

    try:
        return '\n'.join(difflib.unified_diff(as_text(current), as_text(loaded), 'Current', 'Loaded', lineterm=''))
    except Exception as e:  # a diff is only informative; never let it break resume/view
        _logger.debug('Cannot compare configs: %s', e)
        return ''


def _web_portal_urls(port: int, prefix: str | None, nni_manager_ip: str | None) -> list[str]:
    # The manager binds 127.0.0.1 unless nniManagerIp is a non-loopback address, so only then are the
    # other interfaces worth listing.
    ips: list[str] = []
    if nni_manager_ip:
        ips.append(nni_manager_ip)
    ips.append('127.0.0.1')
    if nni_manager_ip and not _is_loopback(nni_manager_ip):
        ips += _ipv4_addresses()
    suffix = '/' + prefix.strip('/') if prefix and prefix.strip('/') else ''
    return [f'http://{ip}:{port}{suffix}' for ip in dict.fromkeys(ips)]


def _read_token(experiment_root: Path) -> str | None:
    try:
        return (experiment_root / 'db' / 'token').read_text(encoding='ascii').strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def _with_token(url: str, token: str | None) -> str:
    """``url`` with ``/?token=`` when it is not a loopback address: off loopback the portal needs the
    experiment's token to read anything, and this link hands it over once (it becomes a cookie)."""
    host = url.split('://', 1)[-1].split('/', 1)[0].rsplit(':', 1)[0].strip('[]')
    if token is None or _is_loopback(host):
        return url
    return f'{url}/?token={token}'


def _is_loopback(host: str) -> bool:
    return host == 'localhost' or host.startswith('127.') or host == '::1'


def _ipv4_addresses() -> list[str]:
    if not sys.platform.startswith('linux'):
        return []
    import fcntl
    import struct

    addresses = []
    for _, name in socket.if_nameindex():
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                packed = fcntl.ioctl(sock.fileno(), 0x8915, struct.pack('256s', name[:15].encode()))  # SIOCGIFADDR
        except OSError:
            continue
        addresses.append(socket.inet_ntoa(packed[20:24]))
    return addresses


# ---------------------------------------------------------------------------------------------------------
# Python-side logging: console output and <workdir>/<id>/log/experiment.log

_LEVELS = {
    'trace': logging.DEBUG,
    'debug': logging.DEBUG,
    'info': logging.INFO,
    'warning': logging.WARNING,
    'error': logging.ERROR,
    'fatal': logging.CRITICAL,
}

_log_handlers: dict[str, logging.Handler] = {}
_console_handler: logging.Handler | None = None


class _ConsoleFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(datefmt='%Y-%m-%d %H:%M:%S')

    def format(self, record: logging.LogRecord) -> str:
        prefix = f'[{self.formatTime(record, self.datefmt)}] '
        if record.levelno != logging.INFO:
            prefix += f'{record.levelname}: '
        text = prefix + record.getMessage()
        if record.exc_info:
            text += '\n' + self.formatException(record.exc_info)
        return text


def _ensure_console_logging() -> None:
    # NNI prints the experiment's progress ("Creating experiment, ...") on stdout. Only do it when nobody
    # configured logging, so an application's own logging setup wins.
    global _console_handler
    nni_logger = logging.getLogger('nni')
    if _console_handler is not None or nni_logger.handlers or logging.getLogger().handlers:
        return
    _console_handler = logging.StreamHandler(sys.stdout)
    _console_handler.setFormatter(_ConsoleFormatter())
    _console_handler.setLevel(logging.INFO)
    nni_logger.addHandler(_console_handler)
    if nni_logger.getEffectiveLevel() > logging.INFO:
        nni_logger.setLevel(logging.INFO)


def _start_experiment_logging(exp_id: str, log_file: Path, level: str) -> None:
    if exp_id in _log_handlers:
        return
    levelno = _LEVELS.get(level, logging.INFO)
    handler = logging.FileHandler(log_file, encoding='utf-8')
    handler.setFormatter(logging.Formatter(
        '[%(asctime)s] %(levelname)s (%(name)s/%(threadName)s) %(message)s', datefmt='%Y-%m-%d %H:%M:%S'
    ))
    handler.setLevel(levelno)
    nni_logger = logging.getLogger('nni')
    nni_logger.addHandler(handler)
    if nni_logger.getEffectiveLevel() > levelno:
        nni_logger.setLevel(levelno)
    _log_handlers[exp_id] = handler


def _stop_experiment_logging(exp_id: str) -> None:
    handler = _log_handlers.pop(exp_id, None)
    if handler is not None:
        logging.getLogger('nni').removeHandler(handler)
        handler.close()
