"""
``nnictl trial ls`` and ``nnictl trial kill``.

``trial ls`` prints the manager's trial list in NNI's JSON style (times as local ``YYYY/MM/DD HH:MM:SS``);
``--json`` prints standard JSON with the raw values (epoch milliseconds) for scripts.
"""

from __future__ import annotations

import argparse
from typing import Any

from nni.experiment.rest import RestError

from .errors import CliError
from .experiment_db import scalar_metric
from .experiments import REST_NOT_RUNNING, resolve
from .output import format_slash_ms, info, nni_json, plain_json

__all__ = ['add_parsers', 'default_metric']


def add_parsers(commands: Any) -> None:
    """Register ``trial`` and its sub-commands."""
    trial = commands.add_parser('trial', help='get trial information')
    sub = trial.add_subparsers()

    ls = sub.add_parser('ls', help='list trial jobs')
    ls.add_argument('id', nargs='?', help='the id of experiment')
    ls.add_argument('--head', type=int, help='list the highest experiments on the default metric')
    ls.add_argument('--tail', type=int, help='list the lowest experiments on the default metric')
    ls.add_argument('--json', action='store_true', help='print standard JSON with raw values (for scripts)')
    ls.set_defaults(func=cmd_trial_ls)

    kill = sub.add_parser('kill', help='kill trial jobs')
    kill.add_argument('id', nargs='?', help='the id of experiment')
    kill.add_argument('--trial_id', '-T', required=True, dest='trial_id', help='the id of trial to be killed')
    kill.set_defaults(func=cmd_trial_kill)


def default_metric(trial: dict[str, Any]) -> float | None:
    """The default final metric of a REST trial record (number, or a dict's ``default``), else ``None``."""
    final = trial.get('finalMetricData') or []
    if not final or not isinstance(final[0], dict):
        return None
    return scalar_metric(final[0].get('data'))


def list_trials(exp_id: str | None) -> list[dict[str, Any]]:
    """``GET /trial-jobs`` of a running experiment (NNI's liveness checks first)."""
    ref = resolve(exp_id)
    ref.require_running()
    try:
        trials = ref.request('GET', '/trial-jobs')
    except RestError as error:
        raise CliError(f'List trial failed... {error.message}') from None
    except (OSError, ValueError):
        raise CliError(REST_NOT_RUNNING) from None
    return list(trials or [])


def cmd_trial_ls(args: argparse.Namespace) -> int:
    """``nnictl trial ls``."""
    if args.head is not None and args.tail is not None:
        raise CliError('Head and tail cannot be set at the same time.')
    for option in ('head', 'tail'):
        value = getattr(args, option)
        if value is not None and value <= 0:
            raise CliError(f'--{option} must be a positive number of trials, got {value}.')
    trials = list_trials(args.id)
    if args.head is not None or args.tail is not None:
        # NNI's ranking: trials with a final metric, by default metric; integers count as numbers here.
        scored = [(default_metric(trial), trial) for trial in trials]
        ranked = [pair for pair in scored if pair[0] is not None]
        ranked.sort(key=lambda pair: pair[0], reverse=args.head is not None)  # type: ignore[arg-type, return-value]
        trials = [trial for _, trial in ranked[:args.head or args.tail]]
    if args.json:
        print(plain_json(trials))
        return 0
    shown = []
    for trial in trials:
        trial = dict(trial)
        for key in ('startTime', 'endTime'):
            if key in trial:
                trial[key] = format_slash_ms(trial[key])
        shown.append(trial)
    print(nni_json(shown))
    return 0


def cmd_trial_kill(args: argparse.Namespace) -> int:
    """``nnictl trial kill``."""
    ref = resolve(args.id)
    ref.require_running()
    try:
        ref.request('DELETE', f'/trial-jobs/{args.trial_id}')
    except RestError as error:
        raise CliError(f'Kill trial job failed... {error.message}') from None
    except OSError:
        raise CliError(REST_NOT_RUNNING) from None
    info(f'Kill trial job {args.trial_id} success!')
    return 0
