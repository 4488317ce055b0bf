"""
``nnictl create``, ``resume`` and ``view``: start an experiment's manager through :class:`nni.experiment.Experiment`.

Their output is the experiment logger's (``[time] message``), as in NNI. Differences from NNI (listed in
``docs/nnictl.md``): configs with ``useAnnotation: true`` work (the code is rewritten, see
:mod:`nni.tools.annotation`); errors are one clean line each with exit code 1 instead of tracebacks;
``resume --foreground`` waits like ``create --foreground``; the URL prefix of a resumed experiment is kept.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .errors import LaunchError
from .experiments import refresh

__all__ = ['add_parsers', 'cmd_create', 'cmd_resume', 'cmd_view']

_logger = logging.getLogger('nni.experiment')

#: Folder (inside the experiment's own folder) that holds the rewritten copy of annotated trial code.
ANNOTATED_CODE_DIR = 'annotated_code'


def add_parsers(commands: Any) -> None:
    """Register ``create``, ``resume`` and ``view``."""
    create = commands.add_parser('create', help='create a new experiment')
    create.add_argument('--config', '-c', required=True, dest='config', help='the path of yaml config file')
    create.add_argument('--port', '-p', default=8080, type=int, dest='port', help='the port of restful server')
    create.add_argument('--debug', '-d', action='store_true', help='set debug mode')
    create.add_argument('--url_prefix', '-u', dest='url_prefix', help='set prefix url')
    create.add_argument('--foreground', '-f', action='store_true',
                        help='set foreground mode, print log content to terminal')
    create.set_defaults(func=cmd_create)

    resume = commands.add_parser('resume', help='resume a new experiment')
    resume.add_argument('id', help='The id of the experiment you want to resume')
    resume.add_argument('--port', '-p', default=8080, type=int, dest='port', help='the port of restful server')
    resume.add_argument('--debug', '-d', action='store_true', help='set debug mode')
    resume.add_argument('--foreground', '-f', action='store_true',
                        help='set foreground mode, print log content to terminal')
    resume.add_argument('--experiment_dir', '-e',
                        help='resume experiment from external folder, specify the full path of experiment folder')
    resume.set_defaults(func=cmd_resume)

    view = commands.add_parser('view', help='view a stopped experiment')
    view.add_argument('id', help='The id of the experiment you want to view')
    view.add_argument('--port', '-p', default=8080, type=int, dest='port', help='the port of restful server')
    view.add_argument('--experiment_dir', '-e',
                      help='view experiment from external folder, specify the full path of experiment folder')
    view.set_defaults(func=cmd_view)


# ---------------------------------------------------------------------------------------------------------
# create


def _config_errors(error: Exception) -> str:
    lines = getattr(error, 'errors', None) or str(error).splitlines() or [str(error)]
    return '\n'.join(str(line) for line in lines)


def load_config(path: str) -> Any:
    """
    Load and check an experiment config file, as ``create`` does.

    Raises
    ------
    LaunchError
        The file is missing, is not YAML, or the config is invalid (every problem listed).
    """
    from nni.experiment.config import ConfigError, ExperimentConfig

    config_path = Path(path).expanduser()
    if not config_path.is_file():
        raise LaunchError(f'"{path}" is not a valid file.')
    legacy = _is_legacy(config_path)
    try:
        config = ExperimentConfig.load(config_path)
        canonical = config.canonical_copy()
    except (ConfigError, TypeError, AttributeError) as error:
        message = f'Invalid experiment config {config_path}:\n{_config_errors(error)}'
        if legacy:
            message += ('\nYou are using legacy config format with incorrect fields or values, to get more '
                        'accurate error message please update it to the new format.\n'
                        'Reference: https://nni.readthedocs.io/en/stable/reference/experiment_config.html')
        raise LaunchError(message) from None
    except (OSError, UnicodeDecodeError) as error:
        raise LaunchError(f'Cannot read {config_path}: {error}') from None
    # a converted v1 file is reported by ExperimentConfig.load() itself (with the v2 equivalent)
    if getattr(canonical, 'experiment_type', 'hpo') != 'hpo':
        raise LaunchError('Non-HPO experiment cannot be created with nnictl.')
    return config


def _is_legacy(path: Path) -> bool:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding='utf-8'))
    except Exception:  # noqa: BLE001 - load() reports unreadable files with a better message
        return False
    return isinstance(data, dict) and 'trainingServicePlatform' in data


def _check_port(port: int) -> None:
    from nni.experiment.port_check import port_busy, port_busy_message

    if not 0 < port < 65536:
        raise LaunchError(f'Port {port} is not a valid port number (1 to 65535).')
    if port_busy(port):
        # names the holder (an experiment, or a process) and a free port to use instead
        raise LaunchError(port_busy_message(port))


def prepare_annotation(config: Any, exp_id: str) -> Path:
    """
    Rewrite the annotated trial code of ``config`` into the experiment's folder and point the config at it.

    ``config`` is changed in place: ``search_space`` is the generated space, ``trial_code_directory`` the
    rewritten copy, ``use_annotation`` false (the manager runs plain code).

    Returns
    -------
    Path
        The rewritten copy (removed by the caller if the start fails).

    Raises
    ------
    LaunchError
        Bad annotations, or none at all.
    """
    from nni.tools.annotation import AnnotationError, expand_annotations

    canonical = config.canonical_copy()
    code_dir = Path(canonical.trial_code_directory)
    target = Path(canonical.experiment_working_directory).expanduser() / exp_id / ANNOTATED_CODE_DIR
    try:
        space = expand_annotations(code_dir, target)
    except AnnotationError as error:
        shutil.rmtree(target, ignore_errors=True)
        raise LaunchError(f'Annotation error in {code_dir}: {error}') from None
    if not space:
        shutil.rmtree(target, ignore_errors=True)
        raise LaunchError(f'useAnnotation is true but no @nni.variable or @nni.function_choice annotation was '
                          f'found in {code_dir}.')
    config.use_annotation = False
    config.search_space_file = None
    config.search_space = space
    config.trial_code_directory = str(target)
    _logger.info('Annotated trial code rewritten into %s', target)
    return target


def cmd_create(args: argparse.Namespace) -> int:
    """``nnictl create``."""
    from nni.experiment import Experiment, RunMode

    config = load_config(args.config)
    _check_port(args.port)
    experiment = Experiment(config)
    prefix = (args.url_prefix or '').strip('/')
    experiment.url_prefix = prefix or None
    annotated = prepare_annotation(config, experiment.id) if config.use_annotation else None
    mode = RunMode.Foreground if args.foreground else RunMode.Detach
    try:
        with _foreground_relay(args.foreground) as relay:
            _start(experiment, args.port, args.debug, mode)
            if args.foreground:
                return _wait_foreground(experiment, relay)
    except BaseException:
        # nothing started: do not leave a rewritten copy of the code behind
        if annotated is not None and experiment.port is None:
            shutil.rmtree(annotated, ignore_errors=True)
        raise
    _logger.info('To stop experiment run "nnictl stop %s" or "nnictl stop --all"', experiment.id)
    _logger.info('Reference: https://nni.readthedocs.io/en/stable/reference/nnictl.html')
    _detach(experiment)
    return 0


def _detach(experiment: Any) -> None:
    # The manager runs on without us: stop writing this process's log lines into its experiment.log.
    stop_logging = getattr(experiment, '_stop_logging', None)
    if callable(stop_logging):
        stop_logging()


def _start(experiment: Any, port: int, debug: bool, mode: Any) -> None:
    from nni.experiment.config import ConfigError

    try:
        experiment.start(port, debug, mode)
    except ConfigError as error:
        raise LaunchError(f'Invalid experiment config:\n{_config_errors(error)}') from None
    except RuntimeError as error:
        if 'is not idle' in str(error):
            raise LaunchError(str(error)) from None
        raise LaunchError(f'Create experiment failed: {error}') from None
    except OSError as error:
        raise LaunchError(f'Create experiment failed: {error}') from None


def _wait_foreground(experiment: Any, relay: _Relay | None) -> int:
    # NNI returns 0 whatever the outcome; an experiment that ends in ERROR exits 1 here.
    if relay is not None:
        relay.restore_stdout()
    try:
        succeeded = experiment._wait_completion()
    except KeyboardInterrupt:
        _logger.warning('KeyboardInterrupt detected')
        experiment.stop()
        return 0
    except (OSError, RuntimeError) as error:
        _logger.error('Lost the NNI manager: %s', error)
        experiment.stop()
        return 1
    experiment.stop()
    if relay is not None:
        relay.join()
    return 0 if succeeded else 1


# ---------------------------------------------------------------------------------------------------------
# Foreground output: the manager prints its log on our terminal. When a progress bar is shown there, its
# lines must be printed above the bar, so the manager's stdout goes through a pipe that a thread relays.


class _Relay:
    """Relays lines read from a pipe to the terminal through :func:`nni.experiment.progress.emit_line`."""

    def __init__(self, stdout_fd: int) -> None:
        sys.stdout.flush()
        self._stdout_fd = stdout_fd
        read_fd, write_fd = os.pipe()
        self._saved_fd: int | None = os.dup(stdout_fd)
        self._terminal: IO[str] = os.fdopen(os.dup(self._saved_fd), 'w', encoding=sys.stdout.encoding or 'utf-8',
                                            buffering=1)
        self._thread = threading.Thread(target=self._run, args=(read_fd,), name='nnictl-relay', daemon=True)
        self._thread.start()
        # The manager inherits fd 1 when it is spawned: it points at the pipe until restore_stdout().
        os.dup2(write_fd, stdout_fd)
        os.close(write_fd)

    def _run(self, read_fd: int) -> None:
        from nni.experiment.progress import emit_line

        with os.fdopen(read_fd, 'r', encoding='utf-8', errors='replace') as pipe:
            for line in pipe:
                emit_line(line, self._terminal)

    def restore_stdout(self) -> None:
        """Point our fd 1 back at the terminal (the manager keeps the pipe)."""
        if self._saved_fd is None:
            return
        sys.stdout.flush()
        os.dup2(self._saved_fd, self._stdout_fd)
        os.close(self._saved_fd)
        self._saved_fd = None

    def join(self, timeout: float = 5.0) -> None:
        """Wait for the manager's last lines (the pipe closes when it exits)."""
        self._thread.join(timeout)


@contextlib.contextmanager
def _foreground_relay(foreground: bool) -> Iterator[_Relay | None]:
    from nni.experiment.progress import terminal_progress

    if not foreground or sys.platform == 'win32' or not terminal_progress():
        yield None
        return
    try:
        stdout_fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        yield None
        return
    relay = _Relay(stdout_fd)
    try:
        yield relay
    finally:
        relay.restore_stdout()


# ---------------------------------------------------------------------------------------------------------
# resume / view


def _holder_of(exp_id: str, work_dir: str) -> str | None:
    """Who holds the experiment (a manager's pid, host, action), when a manager does."""
    from nni.common.experiment_lock import ExperimentLockedError, probe

    try:
        probe(Path(work_dir).expanduser() / exp_id, exp_id)
    except ExperimentLockedError as error:
        return str(error)
    return None


def _stopped_experiment(exp_id: str, experiment_dir: str | None) -> tuple[Any, dict[str, Any]]:
    from nni.experiment import Experiment
    from nni.experiment.launcher import get_stopped_experiment_config

    entries = refresh()
    entry = entries.get(exp_id) if isinstance(entries.get(exp_id), dict) else None
    if experiment_dir is None:
        if entry is None:
            raise LaunchError(f'Id {exp_id} not exist! "nnictl experiment list --all" lists every experiment '
                              f'of this machine.')
        if entry.get('status') != 'STOPPED':
            holder = _holder_of(exp_id, entry.get('logDir') or str(Path.home() / 'nni-experiments'))
            raise LaunchError(f'Only stopped experiments can be resumed or viewed! Experiment {exp_id} is '
                              f'{entry.get("status")}; ' + (holder or f'stop it first with "nnictl stop {exp_id}".'))
        work_dir = entry.get('logDir') or str(Path.home() / 'nni-experiments')
    else:
        if entry is not None and entry.get('status') != 'STOPPED':
            holder = _holder_of(exp_id, experiment_dir)
            if holder is not None:
                raise LaunchError(f'Experiment {exp_id} is {entry.get("status")}; {holder}')
            raise LaunchError(f'Experiment {exp_id} is {entry.get("status")}; stop it first with '
                              f'"nnictl stop {exp_id}".')
        work_dir = experiment_dir
    db = Path(work_dir).expanduser() / exp_id / 'db' / 'nni.sqlite'
    if not db.is_file():
        raise LaunchError(f'Cannot find the database of experiment {exp_id} ({db} does not exist).')
    try:
        config = get_stopped_experiment_config(exp_id, work_dir)
    except (ValueError, TypeError, AttributeError) as error:
        raise LaunchError(f'Cannot load the config of experiment {exp_id}: {error}') from None
    if getattr(config, 'experiment_type', 'hpo') != 'hpo':
        raise LaunchError('Non-HPO experiment cannot be resumed with nnictl. Please use experiment.resume() in '
                          'Python API.')
    experiment = Experiment(config, id=exp_id)
    return experiment, entry or {}


def cmd_resume(args: argparse.Namespace) -> int:
    """``nnictl resume``."""
    from nni.experiment import RunMode

    experiment, entry = _stopped_experiment(args.id, args.experiment_dir)
    _check_port(args.port)
    experiment._action = 'resume'
    experiment.url_prefix = entry.get('prefixUrl') or None
    mode = RunMode.Foreground if args.foreground else RunMode.Detach
    with _foreground_relay(args.foreground) as relay:
        _start(experiment, args.port, args.debug, mode)
        if args.foreground:
            return _wait_foreground(experiment, relay)
    _detach(experiment)
    return 0


def cmd_view(args: argparse.Namespace) -> int:
    """``nnictl view``."""
    from nni.experiment import RunMode

    experiment, entry = _stopped_experiment(args.id, args.experiment_dir)
    _check_port(args.port)
    experiment._action = 'view'
    experiment.url_prefix = entry.get('prefixUrl') or None
    _start(experiment, args.port, False, RunMode.Detach)
    _detach(experiment)
    return 0
