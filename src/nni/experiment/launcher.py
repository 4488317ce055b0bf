"""
Start the manager process of an experiment and read the config of a stopped one.

The manager is ``python -m nni.manager`` (see ``docs/internals.md``, "Manager process"); this module never
imports it, it only spawns it and talks HTTP. ``Experiment.start()`` has a 0.3 s budget including the
manager's own start-up, so everything here is cheap: a connect to check the port, one ``Popen``, then
``GET /check-status`` every 10 ms until the manager answers.

Test hook: the module run with ``-m`` is taken from the ``NNI_MANAGER_MODULE`` environment variable, else
from the module variable :data:`MANAGER_MODULE`. Tests point it at a fake manager; nothing else should.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from nni.common import experiment_lock

from . import rest
from .manifest import Experiments, pid_alive, sweep_dead_experiments

if TYPE_CHECKING:
    from .config import ExperimentConfig
    from .experiment import RunMode

__all__ = [
    'MANAGER_MODULE',
    'ManagerStartError',
    'ProcessHandle',
    'build_manager_command',
    'get_stopped_experiment_config',
    'get_stopped_experiment_config_json',
    'mark_stopped',
    'read_token',
    'signal_process_group',
    'start_experiment',
    'stop_process',
]

_logger = logging.getLogger('nni.experiment')

#: Module started with ``python -m`` (test hook; ``$NNI_MANAGER_MODULE`` wins when set).
MANAGER_MODULE = 'nni.manager'

#: Seconds to wait for the manager's first answer to ``GET /check-status``.
STARTUP_TIMEOUT = 30.0
#: training services this version can run; other platforms' configs validate but do not start
RUNNABLE_PLATFORMS = ('local', 'remote', 'slurm')

#: Seconds between two ``GET /check-status`` while waiting for the manager.
POLL_INTERVAL = 0.01

#: Seconds a manager gets to exit after SIGTERM when a start fails, before SIGKILL.
FAILED_START_GRACE = 2.0

# Platforms whose NNI manager opened a second (websocket) port at port + 1.

# src/nni/experiment/launcher.py -> the folder that holds the "nni" package.
_PACKAGE_ROOT = Path(__file__).resolve().parents[2]


class ManagerStartError(RuntimeError):
    """The manager process exited, or did not answer, before the experiment was set up."""


def start_experiment(
    action: Literal['create', 'resume', 'view'],
    exp_id: str,
    config: ExperimentConfig,
    port: int,
    debug: bool,
    run_mode: RunMode | str,
    url_prefix: str | None,
    tuner_command_channel: str | None = None,
    tags: list[str] | None = None,
    *,
    bind_address: str | None = None,
) -> subprocess.Popen[bytes]:
    """
    Spawn the manager, wait until it answers, register the experiment in the manifest and post the config.

    Parameters
    ----------
    action
        ``'create'``, ``'resume'`` or ``'view'``; the manager decides what ``POST /experiment`` does from it.
    exp_id
        Experiment id.
    config
        Canonical config (``config.canonical_copy()``).
    port
        Port of the REST API and web portal; must be idle.
    debug
        Raise the manager's log level to ``debug``.
    run_mode
        ``RunMode`` (or its value): ``detach`` sends the manager's output to ``log/nnictl_std{out,err}.log``,
        ``foreground`` lets the manager print its log, ``background`` keeps it quiet.
    url_prefix
        URL prefix of the REST API and portal, or ``None``.
    tuner_command_channel
        Passed on as ``--tuner-command-channel`` when given (NNI compatibility; not used by HPO).
    tags
        Tags stored in the manifest.
    bind_address
        Passed on as ``--bind-address`` when given.

    Returns
    -------
    subprocess.Popen
        The manager process (its own session and process group).

    Raises
    ------
    RuntimeError
        The port (or port + 1 for websocket platforms) is busy.
    ManagerStartError
        The manager exited or did not answer within :data:`STARTUP_TIMEOUT` seconds.
    OSError
        ``POST /experiment`` failed (:class:`~nni.experiment.rest.RestError`) or the manager went away.
    """
    mode = _run_mode_value(run_mode)
    if url_prefix is not None:
        url_prefix = url_prefix.strip('/') or None
    platform = _platform(config)
    exp_dir = _abs_dir(config.experiment_working_directory)
    root = Path(exp_dir, exp_id)

    # one manager per experiment: say at once who holds it instead of starting a manager that refuses
    experiment_lock.probe(root, exp_id)
    _ensure_port_idle(port)
    # NNI also demanded port+1 for remote-like platforms (its websocket); our manager serves
    # everything on one port, so that check would only refuse good ports.
    if bind_address is None and _is_remote_address(getattr(config, 'nni_manager_ip', None)):
        # trials on other machines must reach the manager at nniManagerIp
        bind_address = '0.0.0.0'

    log_dir = root / 'log'
    log_dir.mkdir(parents=True, exist_ok=True)
    _link_latest(Path(exp_dir), exp_id)

    cmd = build_manager_command(
        action, exp_id, exp_dir, port,
        log_level=_log_level(config, debug),
        foreground=(mode == 'foreground'),
        url_prefix=url_prefix,
        bind_address=bind_address,
        tuner_command_channel=tuner_command_channel,
        stop_with_parent=(mode != 'detach'),
    )

    _logger.info('Creating experiment, Experiment ID: %s', exp_id)
    proc: subprocess.Popen[bytes] | None = None
    stderr_log: Path | None = None
    stderr_offset = 0
    try:
        if mode == 'detach':
            proc, stderr_log, stderr_offset = _spawn_detached(cmd, root, exp_id)
        else:
            proc = _spawn(cmd, root, None, None)
        start_time = int(time.time() * 1000)

        _logger.info('Starting web server...')
        _wait_for_manager(proc, port, url_prefix, stderr_log, stderr_offset, log_dir)

        Experiments().add_experiment(
            exp_id,
            port,
            start_time,
            platform,
            getattr(config, 'experiment_name', None),
            pid=proc.pid,
            logDir=exp_dir,
            tag=list(tags) if tags else [],
            prefixUrl=url_prefix,
        )

        _logger.info('Setting up...')
        rest.post(port, '/experiment', config.json(), url_prefix, token=read_token(exp_dir, exp_id))

    except BaseException as e:
        # BaseException too: a Ctrl-C while we wait must not leave a manager behind.
        if not isinstance(e, KeyboardInterrupt):
            _logger.error('Create experiment failed: %s', e)
        if proc is not None:
            stop_process(proc, FAILED_START_GRACE)
            mark_stopped(exp_id, proc.pid)
        if stderr_log is not None and not isinstance(e, ManagerStartError):
            text = _read_tail(stderr_log, stderr_offset)
            if text:
                _logger.warning('NNI manager stderr:')
                _logger.warning(text)
        raise

    return proc


def mark_stopped(exp_id: str, pid: int) -> None:
    """
    Record in the manifest that the manager ``pid`` of ``exp_id`` was killed (it could not do it itself).

    Only touches the entry when it still names that pid: another pid means another run of this id.
    """
    with contextlib.suppress(Exception):
        manifest = Experiments()
        entry = manifest.get_all_experiments().get(exp_id)
        if isinstance(entry, dict) and entry.get('pid') == pid:
            manifest.update_fields(exp_id, {'status': 'STOPPED', 'port': None})


def build_manager_command(
    action: str,
    exp_id: str,
    experiments_directory: str,
    port: int,
    *,
    log_level: str = 'info',
    foreground: bool = False,
    url_prefix: str | None = None,
    bind_address: str | None = None,
    tuner_command_channel: str | None = None,
    stop_with_parent: bool = False,
) -> list[str]:
    """
    The manager's command line (``docs/internals.md``, "Manager process").

    Returns
    -------
    list of str
        ``[sys.executable, '-m', <module>, '--port', ...]``.
    """
    module = os.environ.get('NNI_MANAGER_MODULE') or MANAGER_MODULE
    cmd = [
        sys.executable, '-m', module,
        '--port', str(port),
        '--experiment-id', exp_id,
        '--action', action,
        '--experiments-directory', experiments_directory,
        '--log-level', log_level,
        '--foreground', 'true' if foreground else 'false',
    ]
    if url_prefix:
        cmd += ['--url-prefix', url_prefix]
    if bind_address:
        cmd += ['--bind-address', bind_address]
    if tuner_command_channel:
        cmd += ['--tuner-command-channel', tuner_command_channel]
    if stop_with_parent:
        # Background/Foreground: the experiment ends with this process even if it is killed
        # before its atexit hook can run (NNI leaves the manager running then)
        cmd += ['--stop-with-parent']
    return cmd


def _run_mode_value(run_mode: Any) -> str:
    return str(getattr(run_mode, 'value', run_mode)).lower()


def _platform(config: Any) -> str:
    ts = config.training_service
    if isinstance(ts, list):
        return 'hybrid'
    return str(ts.platform)


def _abs_dir(path: Any) -> str:
    return os.path.abspath(os.path.expanduser(str(path)))


def _log_level(config: Any, debug: bool) -> str:
    level = str(getattr(config, 'log_level', None) or 'info')
    if debug and level not in ('debug', 'trace'):
        level = 'debug'
    return level


def _ensure_port_idle(port: int, message: str | None = None) -> None:
    # Something that accepts a connection on the port would steal our REST calls; NNI refuses it too.
    # Connecting to a closed loopback port fails at once, so this costs nothing on the happy path.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        busy = sock.connect_ex(('127.0.0.1', port)) == 0
    if busy:
        # PortBusyError is a RuntimeError whose message names the holder and another port to use
        from .port_check import PortBusyError, port_busy_message

        raise PortBusyError(port, port_busy_message(port, message))


def _link_latest(exp_dir: Path, exp_id: str) -> None:
    link = exp_dir / '_latest'
    try:
        if os.path.lexists(link):
            link.unlink()
        link.symlink_to(exp_id, target_is_directory=True)
    except OSError:
        if sys.platform != 'win32':
            _logger.warning('Failed to create link %s', link)


def _manager_env() -> dict[str, str]:
    # The manager must run the same nni as this client, even when the client's nni is only importable
    # through the script's own sys.path tweaks. A site-packages folder is not added: the interpreter finds
    # it anyway, and on PYTHONPATH it would come before the standard library (a backport such as "enum34"
    # would then shadow the real module).
    env = dict(os.environ)
    if str(_PACKAGE_ROOT) not in _site_dirs():
        old = env.get('PYTHONPATH')
        env['PYTHONPATH'] = str(_PACKAGE_ROOT) + (os.pathsep + old if old else '')
    return env


def _site_dirs() -> set[str]:
    import site

    dirs = set(getattr(site, 'getsitepackages', list)())
    user = getattr(site, 'getusersitepackages', lambda: None)()
    if user:
        dirs.add(user)
    return {str(Path(d).resolve()) for d in dirs}


def _spawn(cmd: list[str], root: Path, stdout: Any, stderr: Any) -> subprocess.Popen[bytes]:
    kwargs: dict[str, Any] = {}
    if sys.platform == 'win32':
        kwargs['creationflags'] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
    else:
        # A new session (hence process group): terminal Ctrl-C does not reach the manager, and stop()
        # can signal the manager together with everything it started.
        kwargs['start_new_session'] = True
    # cwd = the experiment root: with "-m", sys.path[0] is the cwd, and the user's cwd may hold an
    # unrelated "nni" folder (e.g. a clone of NNI) that would shadow ours.
    return subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
        cwd=root, env=_manager_env(), close_fds=True, **kwargs,
    )


def _spawn_detached(cmd: list[str], root: Path, exp_id: str) -> tuple[subprocess.Popen[bytes], Path, int]:
    log_dir = root / 'log'
    header = f'Experiment {exp_id} start: {datetime.datetime.now()}'
    header = '-' * 80 + '\n' + header + '\n' + '-' * 80 + '\n'
    stderr_log = log_dir / 'nnictl_stderr.log'
    with open(log_dir / 'nnictl_stdout.log', 'a', encoding='utf-8') as out, \
            open(stderr_log, 'a', encoding='utf-8') as err:
        out.write(header)
        err.write(header)
        out.flush()
        err.flush()
        offset = err.tell()
        proc = _spawn(cmd, root, out, err)
    return proc, stderr_log, offset


def _wait_for_manager(
    proc: subprocess.Popen[bytes],
    port: int,
    url_prefix: str | None,
    stderr_log: Path | None,
    stderr_offset: int,
    log_dir: Path,
) -> dict[str, Any]:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last_error: BaseException | None = None
    while True:
        code = proc.poll()
        if code == experiment_lock.LOCK_EXIT_CODE:
            # another manager took the experiment between our probe and this manager's start
            experiment_lock.probe(log_dir.parent, log_dir.parent.name)
        if code is not None:
            raise ManagerStartError(
                f'NNI manager exited with code {code} before answering on port {port}.'
                + _diagnostics(stderr_log, stderr_offset, log_dir)
            )
        try:
            status = rest.request('GET', port, 'check-status', prefix=url_prefix, timeout=1.0, log_errors=False)
        except (OSError, ValueError) as e:
            # Refused while it starts; a plain-text "INITIALIZING" (NNI's early answer) is a ValueError.
            last_error = e
        else:
            if isinstance(status, dict) and 'status' in status:
                return status
            last_error = ValueError(f'unexpected /check-status answer: {status!r}')
        if time.monotonic() >= deadline:
            raise ManagerStartError(
                f'NNI manager did not answer on port {port} within {STARTUP_TIMEOUT:g} s '
                f'(last error: {last_error}).' + _diagnostics(stderr_log, stderr_offset, log_dir)
            ) from last_error
        time.sleep(POLL_INTERVAL)


def _diagnostics(stderr_log: Path | None, stderr_offset: int, log_dir: Path) -> str:
    if stderr_log is not None:
        text = _read_tail(stderr_log, stderr_offset)
        return f'\nNNI manager stderr ({stderr_log}):\n{text}' if text else f'\nNNI manager stderr ({stderr_log}) is empty.'
    # Background/Foreground: the manager's stderr is the console (as NNI), so point at what it printed.
    msg = '\nSee the NNI manager output above'
    manager_log = log_dir / 'nnimanager.log'
    if manager_log.exists():
        msg += f' and its log {manager_log}'
    return msg + '.'


def _read_tail(path: Path, offset: int = 0, limit: int = 4000) -> str:
    try:
        with open(path, 'rb') as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(offset, size - limit))
            return f.read().decode('utf-8', errors='replace').strip()
    except OSError:
        return ''


def ensure_platform_runnable(config: Any) -> None:
    """Raise ``RuntimeError`` if this version cannot run the config's training service."""
    # Checked before anything is spawned or written, so a config for a platform we cannot run
    # yet leaves nothing half-started.
    services = config.training_service if isinstance(config.training_service, list) else [config.training_service]
    for service in services:
        platform = str(getattr(service, 'platform', 'local'))
        if platform not in RUNNABLE_PLATFORMS:
            raise RuntimeError(
                f'training service platform "{platform}" is not available in this version of nni '
                f'(available: {", ".join(RUNNABLE_PLATFORMS)}). The config itself is valid.')
    if isinstance(config.training_service, list) and len(services) > 1:
        raise RuntimeError('a list of training services (hybrid) is not available in this version of nni')


def _is_remote_address(address: str | None) -> bool:
    if not address:
        return False
    return not (address == 'localhost' or address.startswith('127.') or address == '::1')


def read_token(exp_dir: str | os.PathLike[str], exp_id: str) -> str | None:
    """
    The experiment's secret (``<exp_dir>/<exp_id>/db/token``, written by the manager), or ``None``.

    A manager bound beyond loopback requires it as header ``X-NNI-Token`` on mutating REST calls.

    Parameters
    ----------
    exp_dir
        Experiment working directory.
    exp_id
        Experiment id.
    """
    try:
        token = Path(exp_dir, exp_id, 'db', 'token').expanduser().read_text(encoding='utf-8').strip()
    except (OSError, UnicodeDecodeError):
        return None
    return token or None


# ---------------------------------------------------------------------------------------------------------
# Processes


class ProcessHandle:
    """
    A ``Popen``-like handle on a process that is not our child (``Experiment.connect``).

    Without ``psutil`` the only portable way to wait on such a process is to poll whether it still exists.

    Parameters
    ----------
    pid
        Process id.

    Attributes
    ----------
    pid
        Process id.
    returncode
        ``None`` while the process runs; ``0`` once it is gone (the real exit code is not knowable).
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """``None`` while the process runs, else :attr:`returncode`."""
        if self.returncode is None and not pid_alive(self.pid):
            self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """
        Block until the process is gone.

        Raises
        ------
        subprocess.TimeoutExpired
            Still running after ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.005
        while True:
            code = self.poll()
            if code is not None:
                return code
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired([f'pid {self.pid}'], timeout or 0)
            time.sleep(delay)
            delay = min(delay * 2, 0.1)

    def send_signal(self, sig: int) -> None:
        """Send ``sig`` to the process, if it still runs."""
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def terminate(self) -> None:
        """SIGTERM."""
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL (SIGTERM on Windows)."""
        self.send_signal(getattr(signal, 'SIGKILL', signal.SIGTERM))

    def __repr__(self) -> str:
        return f'ProcessHandle(pid={self.pid})'


def signal_process_group(pid: int, sig: int) -> None:
    """
    Send ``sig`` to the process group led by ``pid`` (managers run in their own), or to ``pid`` alone when
    it does not lead a group. Never signals our own group.
    """
    if sys.platform == 'win32':  # pragma: no cover
        if sig == signal.SIGTERM:
            sig = signal.CTRL_BREAK_EVENT  # type: ignore[attr-defined]
        with contextlib.suppress(OSError):
            os.kill(pid, sig)
        return
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        return
    try:
        if pgid == pid and pgid != os.getpgrp():
            os.killpg(pgid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def stop_process(proc: subprocess.Popen[bytes] | ProcessHandle, grace: float) -> None:
    """
    SIGTERM the manager's process group, then SIGKILL it if the manager is still there after ``grace`` s.

    Parameters
    ----------
    proc
        The manager process.
    grace
        Seconds allowed for a graceful exit.
    """
    if proc.poll() is not None:
        return
    signal_process_group(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
        return
    except subprocess.TimeoutExpired:
        pass
    signal_process_group(proc.pid, getattr(signal, 'SIGKILL', signal.SIGTERM))
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(10)


# ---------------------------------------------------------------------------------------------------------
# Stopped experiments


def get_stopped_experiment_config(exp_id: str, exp_dir: str | os.PathLike[str] | None = None) -> ExperimentConfig:
    """
    The config of a stopped experiment, read from its database.

    Parameters
    ----------
    exp_id
        Experiment id.
    exp_dir
        Experiment working directory holding ``<exp_id>/db/nni.sqlite``. When ``None``, the manifest tells
        where the experiment is, and the experiment must be ``STOPPED``.

    Returns
    -------
    ExperimentConfig
        The stored config; its working directory is ``exp_dir`` when one was given.

    Raises
    ------
    ValueError
        The config cannot be loaded (the reason is logged).
    """
    from .config import ExperimentConfig

    config_json = get_stopped_experiment_config_json(exp_id, exp_dir)
    if config_json is None:
        raise ValueError(f'Config of {exp_id} (under {exp_dir}) failed to be loaded.')
    config = ExperimentConfig(**config_json)
    if exp_dir:
        stored = getattr(config, 'experiment_working_directory', None)
        if stored is None or not _same_dir(exp_dir, stored):
            _logger.warning(
                'Experiment working directory provided in command line (%s) is different from experiment config (%s)',
                exp_dir, stored,
            )
            config.experiment_working_directory = str(exp_dir)
    return config


def get_stopped_experiment_config_json(
    exp_id: str, exp_dir: str | os.PathLike[str] | None = None
) -> dict[str, Any] | None:
    """
    The camelCase config JSON of a stopped experiment, or ``None`` (with an error logged).

    Parameters
    ----------
    exp_id
        Experiment id.
    exp_dir
        Experiment working directory; see :func:`get_stopped_experiment_config`.
    """
    if exp_dir:
        config = _read_profile_params(exp_id, Path(exp_dir).expanduser())
        if config is None:
            _logger.error('Cannot find experiment %s in %s', exp_id, exp_dir)
        return config

    experiments = sweep_dead_experiments()
    metadata = experiments.get(exp_id)
    if not isinstance(metadata, dict):
        _logger.error('Id %s not exist!', exp_id)
        return None
    if metadata.get('status') != 'STOPPED':
        _logger.error(
            'Only stopped experiments can be resumed or viewed! But experiment %s is %s',
            exp_id, metadata.get('status'),
        )
        return None
    log_dir = metadata.get('logDir') or str(Path.home() / 'nni-experiments')
    config = _read_profile_params(exp_id, Path(log_dir))
    if config is None:
        _logger.error('Cannot find experiment %s in %s', exp_id, log_dir)
    return config


def _read_profile_params(exp_id: str, exp_dir: Path) -> dict[str, Any] | None:
    db = exp_dir / exp_id / 'db' / 'nni.sqlite'
    if not db.is_file():
        # sqlite3.connect would create an empty database; NNI's reader had that bug.
        return None
    try:
        conn = sqlite3.connect(db)
        try:
            row = conn.execute(
                'select params from ExperimentProfile where id=? order by revision DESC', (exp_id,)
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.Error as e:
        _logger.error('Cannot read %s: %s', db, e)
        return None
    if not row:
        return None
    try:
        config = json.loads(row[0])
    except (TypeError, ValueError) as e:
        _logger.error('Stored config of %s is not valid JSON: %s', exp_id, e)
        return None
    if not isinstance(config, dict):
        return None
    if 'trialConcurrency' not in config and 'trainingServicePlatform' in config:
        return _convert_legacy(config)
    return config


def _convert_legacy(config: dict[str, Any]) -> dict[str, Any] | None:
    # v1 profiles (written by NNI < 2.0) need the config package's converter.
    try:
        from .config.convert import to_v2  # type: ignore[import-not-found]
    except ImportError:
        _logger.error('This experiment was created by NNI 1.x; its legacy config cannot be converted.')
        return None
    from .config import ConfigError

    try:
        # stored profiles carry keys no v1 YAML has (clusterMetaData, searchSpace, ...)
        converted = to_v2(config, strict=False)
        return converted.json() if hasattr(converted, 'json') else converted
    except (ConfigError, ValueError, TypeError) as error:
        _logger.error('This experiment was created by NNI 1.x and its config cannot be converted: %s', error)
        return None


def _same_dir(a: Any, b: Any) -> bool:
    try:
        return os.path.samefile(os.path.expanduser(str(a)), os.path.expanduser(str(b)))
    except OSError:
        return _abs_dir(a) == _abs_dir(b)
