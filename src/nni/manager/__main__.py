"""``python -m nni.manager``: one experiment's manager process.

The command line is NNI's (see docs/internals.md); the process serves the REST API and the
web portal on ``--port``, runs the engine, and exits after ``DELETE /experiment`` or
SIGTERM/SIGINT once trials and tuner are stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from .engine import Engine, ManagerOptions

_logger = logging.getLogger('nni.manager')

_LOG_LEVELS = {'trace': logging.DEBUG, 'debug': logging.DEBUG, 'info': logging.INFO, 'warning': logging.WARNING,
               'error': logging.ERROR, 'fatal': logging.CRITICAL}


def parse_args(argv: list[str] | None = None) -> ManagerOptions:
    parser = argparse.ArgumentParser(prog='python -m nni.manager', description='NNI experiment manager')
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--experiment-id', required=True)
    parser.add_argument('--action', choices=['create', 'resume', 'view'], default='create')
    parser.add_argument('--experiments-directory', required=True)
    parser.add_argument('--log-level', default='info', choices=sorted(_LOG_LEVELS))
    parser.add_argument('--foreground', default='false', choices=['true', 'false'])
    parser.add_argument('--url-prefix', default='')
    parser.add_argument('--bind-address', default='127.0.0.1',
                        help='address to listen on; 0.0.0.0 to reach the portal from other machines')
    parser.add_argument('--stop-with-parent', action='store_true',
                        help='stop the experiment when the launching process goes away')
    parser.add_argument('--tuner-command-channel', default=None,
                        help='the tuner runs in the launching process and talks to /tuner/commands')
    # accepted for compatibility with NNI's launcher and ignored
    parser.add_argument('--mode', default=None)
    parser.add_argument('--python-interpreter', default=None)
    args = parser.parse_args(argv)
    directory = Path(args.experiments_directory).expanduser().resolve()
    return ManagerOptions(
        experiment_id=args.experiment_id, port=args.port, action=args.action, experiments_directory=directory,
        log_level=args.log_level, foreground=args.foreground == 'true', url_prefix=args.url_prefix.strip('/'),
        bind_address=args.bind_address, external_tuner=bool(args.tuner_command_channel),
        stop_with_parent=args.stop_with_parent)


class _ThreadFilter(logging.Filter):
    def __init__(self, thread_name: str, keep: bool) -> None:
        super().__init__()
        self._thread_name = thread_name
        self._keep = keep

    def filter(self, record: logging.LogRecord) -> bool:
        return (record.threadName == self._thread_name) == self._keep


def setup_logging(options: ManagerOptions) -> None:
    from nni.runtime.msg_dispatcher import DISPATCHER_THREAD_NAME

    log_dir = options.experiments_directory / options.experiment_id / 'log'
    log_dir.mkdir(parents=True, exist_ok=True)
    formatter = logging.Formatter('[%(asctime)s] %(levelname)s (%(name)s/%(threadName)s) %(message)s')
    root = logging.getLogger()
    root.setLevel(_LOG_LEVELS[options.log_level])
    manager_log = logging.FileHandler(log_dir / 'nnimanager.log', encoding='utf-8')
    manager_log.addFilter(_ThreadFilter(DISPATCHER_THREAD_NAME, keep=False))
    dispatcher_log = logging.FileHandler(log_dir / 'dispatcher.log', encoding='utf-8')
    dispatcher_log.addFilter(_ThreadFilter(DISPATCHER_THREAD_NAME, keep=True))
    for handler in (manager_log, dispatcher_log):
        handler.setFormatter(formatter)
        root.addHandler(handler)
    if options.foreground:
        console = logging.StreamHandler(sys.stdout)
        console.setFormatter(formatter)
        root.addHandler(console)


async def serve(options: ManagerOptions) -> int:
    from .http_server import HttpServer
    from .server import build_app

    engine = Engine(options)
    finished = asyncio.Event()
    shutdown_started = False

    async def shutdown() -> None:
        nonlocal shutdown_started
        if shutdown_started:
            await finished.wait()
            return
        shutdown_started = True
        _logger.info('stopping the experiment')
        try:
            await engine.stop()
        finally:
            finished.set()

    def request_shutdown() -> None:
        asyncio.get_running_loop().create_task(shutdown())

    server = HttpServer(build_app(engine, shutdown), options.bind_address, options.port)
    try:
        await server.start()
    except OSError as error:
        _logger.error('could not listen on %s:%d: %s', options.bind_address, options.port, error)
        print(f'nni.manager: could not listen on {options.bind_address}:{options.port}: {error}',
              file=sys.stderr)
        await engine.stop()
        return 1
    # The first request that needs the config classes, the algorithm registry and the training
    # service (POST /experiment, or resume) arrives one round trip from now: import them meanwhile.
    threading.Thread(target=_import_request_modules, name='prewarm', daemon=True).start()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, request_shutdown)
    _logger.info('manager of experiment %s listening on %s:%d (pid %d)', options.experiment_id,
                 options.bind_address, options.port, os.getpid())
    watcher = loop.create_task(_watch_parent(request_shutdown)) if options.stop_with_parent else None
    await finished.wait()
    if watcher is not None:
        watcher.cancel()
    await server.close(grace_s=5.0)
    return 0


def _import_request_modules() -> None:
    # Pure-Python modules only: a C extension's initialisation (numpy) holds the GIL for long
    # stretches and would delay the answers the client is waiting for.
    import importlib

    for name in ('nni.experiment.config', 'nni.algorithms.hpo.registry', 'nni.algorithms.hpo.validators',
                 'nni.manager.training_service.local', 'statistics', 'difflib'):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the request that needs the module reports the error
            _logger.debug('pre-import of %s failed', name, exc_info=True)


async def _watch_parent(request_shutdown) -> None:  # type: ignore[no-untyped-def]
    parent = os.getppid()
    while True:
        await asyncio.sleep(1.0)
        # a dead parent means we were re-parented (to init or a subreaper)
        if os.getppid() != parent:
            _logger.warning('the launching process (pid %d) is gone; stopping the experiment', parent)
            request_shutdown()
            return


def take_experiment_lock(options: ManagerOptions):  # type: ignore[no-untyped-def]
    """The experiment's lock, taken before anything is written; ``None`` (with the holder printed) when
    another manager holds it."""
    from nni.common.experiment_lock import ExperimentLock, ExperimentLockedError

    lock = ExperimentLock(options.experiments_directory / options.experiment_id, options.experiment_id)
    try:
        lock.acquire(options.action)
    except ExperimentLockedError as error:
        print(f'nni.manager: {error}', file=sys.stderr, flush=True)
        return None
    return lock


def make_private(root: Path) -> None:
    """Folders 0700 and files 0600 for what the client created before the manager (its umask was the user's)."""
    for folder in (root, root / 'log', root / 'db'):
        try:
            os.chmod(folder, 0o700)
        except OSError:
            continue
        if folder == root:
            continue
        for path in folder.iterdir():
            try:
                if path.is_file() and not path.is_symlink():
                    os.chmod(path, 0o600)
            except OSError:
                pass


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    # Experiment folders and everything in them (store, logs, token, trial dirs) are the user's
    # alone: trial outputs and the store may hold private data. Trials inherit this umask.
    user_umask = os.umask(0o077)
    # trials get the user's own umask back (their outputs live in 0700 folders anyway)
    os.environ['NNI_USER_UMASK'] = format(user_umask, 'o')
    lock = take_experiment_lock(options)
    if lock is None:
        from nni.common.experiment_lock import LOCK_EXIT_CODE

        return LOCK_EXIT_CODE
    make_private(options.experiments_directory / options.experiment_id)
    # The tuner runs in a thread; a CPU-bound tuner holds the GIL for a whole switch interval
    # each time the event loop wants it back. 1 ms instead of 5 ms keeps the REST API snappy
    # while costing the tuner little.
    sys.setswitchinterval(0.001)
    setup_logging(options)
    try:
        return asyncio.run(serve(options))
    except Exception:
        _logger.exception('manager crashed')
        raise
    finally:
        # held until the store is closed: the next manager of this experiment may start now
        lock.release()


if __name__ == '__main__':
    exit_code = main()
    # Everything the experiment needs is on disk by now (store closed, manifest written); what
    # is left is the interpreter tearing down its modules, which took 50-100 ms that
    # Experiment.stop() spends waiting for this process. Flush the logs and leave.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code)
