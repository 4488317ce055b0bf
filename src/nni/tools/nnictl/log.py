"""
``nnictl log stdout|stderr|trial``.

Unlike NNI, the manager logs are looked up in the experiment's own working directory (NNI always looked under
``~/nni-experiments``), ``--path`` prints the file's path instead of being ignored, and ``log trial`` of a
stopped experiment reads the trial folders from its database.
"""

from __future__ import annotations

import argparse
import sqlite3
from typing import Any

from nni.experiment.rest import RestError

from . import experiment_db
from .errors import CliError
from .experiments import NOT_RUNNING, REST_NOT_RUNNING, resolve
from .output import info

__all__ = ['add_parsers']


def add_parsers(commands: Any) -> None:
    """Register ``log`` and its sub-commands."""
    log = commands.add_parser('log', help='get log information')
    sub = log.add_subparsers()
    for name, help_text in (('stdout', 'get stdout information'), ('stderr', 'get stderr information')):
        parser = sub.add_parser(name, help=help_text)
        parser.add_argument('id', nargs='?', help='the id of experiment')
        parser.add_argument('--tail', '-T', dest='tail', type=int, help=f'get tail -100 content of {name}')
        parser.add_argument('--head', '-H', dest='head', type=int, help=f'get head -100 content of {name}')
        parser.add_argument('--path', action='store_true', default=False, help=f'get the path of {name} file')
        parser.set_defaults(func=cmd_log_file, stream=name)
    trial = sub.add_parser('trial', help='get trial log path')
    trial.add_argument('id', nargs='?', help='the id of experiment')
    trial.add_argument('--trial_id', '-T', dest='trial_id', help='find trial log path by id')
    trial.set_defaults(func=cmd_log_trial)


def cmd_log_file(args: argparse.Namespace) -> int:
    """``nnictl log stdout`` / ``nnictl log stderr``."""
    ref = resolve(args.id)
    path = ref.root / 'log' / f'nnictl_{args.stream}.log'
    if args.path:
        print(path)
        return 0
    if not path.is_file():
        raise CliError(f'{path} does not exist!')
    lines = path.read_text(encoding='utf-8', errors='replace').splitlines(keepends=True)
    if args.head is not None:
        lines = lines[:max(args.head, 0)]
    elif args.tail is not None:
        lines = lines[-args.tail:] if args.tail > 0 else []
    print(''.join(lines))
    return 0


def _trial_paths(args: argparse.Namespace) -> dict[str, str | None]:
    ref = resolve(args.id)
    if ref.stopped:
        try:
            return {view.trial_job_id: view.log_path for view in experiment_db.trials(ref.db_path)}
        except (OSError, sqlite3.Error, ValueError):
            raise CliError(NOT_RUNNING) from None
    ref.require_running()
    try:
        trials = ref.request('GET', '/trial-jobs') or []
    except (RestError, OSError, ValueError):
        raise CliError(REST_NOT_RUNNING) from None
    return {trial['trialJobId']: trial.get('logPath') for trial in trials}


def cmd_log_trial(args: argparse.Namespace) -> int:
    """``nnictl log trial``."""
    paths = _trial_paths(args)
    if args.trial_id is not None:
        if args.trial_id not in paths:
            raise CliError(f'Trial id {args.trial_id} not correct, please check your command!')
        if not paths[args.trial_id]:
            raise CliError('Log path is not available yet, please wait...')
        info(f'id:{args.trial_id} path:{paths[args.trial_id]}')
        return 0
    info('All of trial log info:')
    shown = [(trial_id, path) for trial_id, path in paths.items() if path]
    for trial_id, path in shown:
        info(f'id:{trial_id} path:{path}')
    if not shown:
        info('None')
    return 0
