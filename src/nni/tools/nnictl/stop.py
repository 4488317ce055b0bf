"""
``nnictl stop [ID] [--port P] [--all]``: stop running experiments by id, id prefix, port, or all of them.

Selection follows NNI (``spec/nnictl.md`` section 1.4). Each selected manager gets SIGTERM and is waited for;
the manager records ``STOPPED`` itself, and a manager that had to be waited out is marked here. Stopping an
experiment that is already stopped succeeds with a warning (the goal, "not running", holds).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from typing import Any

from nni.experiment.manifest import Experiments, pid_alive

from .errors import CliError
from .experiments import experiment_block, refresh
from .output import info, warning

__all__ = ['add_parsers', 'cmd_stop', 'stop_experiment']

#: Seconds a manager gets to stop its trials and exit after SIGTERM (NNI: 60).
STOP_TIMEOUT = 60.0


def add_parsers(commands: Any) -> None:
    """Register ``stop``."""
    stop = commands.add_parser('stop', help='stop the experiment')
    stop.add_argument('id', nargs='?', help='the id of experiment, use \'all\' to stop all running experiments')
    stop.add_argument('--port', '-p', dest='port', type=int, help='the port of restful server')
    stop.add_argument('--all', '-a', action='store_true', help='stop all of experiments')
    stop.set_defaults(func=cmd_stop)


def _select(args: argparse.Namespace, entries: dict[str, Any]) -> list[str]:
    running = [exp_id for exp_id, entry in entries.items() if entry.get('status') != 'STOPPED']
    if args.all:
        return running
    if args.port is not None:
        matched = [exp_id for exp_id in running if entries[exp_id].get('port') == args.port]
        if args.id is not None and matched and args.id not in matched:
            raise CliError('Experiment id and restful server port not match')
        return matched
    if args.id is None:
        if len(running) > 1:
            raise CliError('There are multiple experiments, please set the experiment id...',
                           details=experiment_block({k: entries[k] for k in running}))
        return running
    if args.id.endswith('*'):
        return [exp_id for exp_id in running if exp_id.startswith(args.id[:-1])]
    if args.id in running:
        return [args.id]
    matched = [exp_id for exp_id in running if exp_id.startswith(args.id)]
    if len(matched) > 1:
        raise CliError(f'{args.id} is ambiguous, please choose {" ".join(matched)}')
    return matched


def cmd_stop(args: argparse.Namespace) -> int:
    """``nnictl stop``."""
    if args.id == 'all':
        warning("'nnictl stop all' is abolished, please use 'nnictl stop --all' to stop all of experiments!")
        return 1
    entries = refresh()
    if not entries:
        info('Experiment is not running...')
        return 0
    selected = _select(args, entries)
    if not selected:
        if args.all:
            return 0
        if args.id is not None and entries.get(args.id, {}).get('status') == 'STOPPED':
            warning(f'Experiment {args.id} is already stopped.')
            return 0
        if args.id is not None or args.port is not None:
            raise CliError('There are no experiments matched, please set correct experiment id or restful server port')
        raise CliError('There is no experiment running...')
    failed = False
    for exp_id in selected:
        info(f'Stopping experiment {exp_id}')
        if stop_experiment(exp_id, entries[exp_id]):
            info('Stop experiment success.')
        else:
            failed = True
    return 1 if failed else 0


def stop_experiment(exp_id: str, entry: dict[str, Any], timeout: float = STOP_TIMEOUT) -> bool:
    """
    SIGTERM the manager of ``exp_id`` and wait for it to exit.

    Returns
    -------
    bool
        ``False`` when the manager was still alive after ``timeout`` seconds (a warning is printed).
    """
    pid = entry.get('pid')
    if pid == os.getpid():
        raise CliError(f'The manifest says experiment {exp_id} runs in this very process (pid {pid}); not stopping it.')
    if isinstance(pid, int) and pid_alive(pid):
        try:
            if sys.platform == 'win32':  # pragma: no cover - no Windows runner
                os.kill(pid, signal.CTRL_BREAK_EVENT)  # type: ignore[attr-defined]
            else:
                os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        delay = 0.01
        while pid_alive(pid):
            _reap(pid)
            if time.monotonic() >= deadline:
                warning(f'One subprocess (pid = {pid}) still exists after {timeout:g} seconds. Please check the '
                        f'process status or kill it with "kill -9 {pid}".')
                return False
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
    # A manager that died without saying so (killed, crashed) leaves its entry running.
    current = Experiments().get_all_experiments().get(exp_id)
    if isinstance(current, dict) and current.get('pid') == pid and current.get('status') != 'STOPPED':
        Experiments().update_fields(exp_id, {'status': 'STOPPED', 'port': None})
    return True


def _reap(pid: int) -> None:
    # When nnictl runs in the process that started the manager (tests, scripts), collect the zombie.
    try:
        os.waitpid(pid, os.WNOHANG)
    except (ChildProcessError, OSError):
        pass
