"""
``nnictl update searchspace|concurrency|duration|trialnum``: change a running experiment.

As in NNI: ``GET /experiment``, set one key of ``params``, ``PUT /experiment?update_type=...`` with the whole
profile. Unlike NNI, bad values are one-line errors (not tracebacks), failures exit 1, the search space file
may be YAML as well as JSON, and durations accept decimals and bare seconds.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from nni.experiment.rest import RestError

from .errors import CliError
from .experiments import REST_NOT_RUNNING, resolve
from .output import info

__all__ = ['add_parsers', 'parse_duration']

_UNITS = {'s': 1, 'm': 60, 'h': 3600, 'd': 86400}
_DURATION = re.compile(r'(\d+(?:\.\d*)?|\.\d+)\s*([smhd]?)')


def add_parsers(commands: Any) -> None:
    """Register ``update`` and its sub-commands."""
    update = commands.add_parser('update', help='update the experiment')
    sub = update.add_subparsers()

    searchspace = sub.add_parser('searchspace', help='update searchspace')
    searchspace.add_argument('id', nargs='?', help='the id of experiment')
    searchspace.add_argument('--filename', '-f', required=True)
    searchspace.set_defaults(func=cmd_update_searchspace)

    concurrency = sub.add_parser('concurrency', help='update concurrency')
    concurrency.add_argument('id', nargs='?', help='the id of experiment')
    concurrency.add_argument('--value', '-v', required=True)
    concurrency.set_defaults(func=cmd_update_concurrency)

    duration = sub.add_parser('duration', help='update duration')
    duration.add_argument('id', nargs='?', help='the id of experiment')
    duration.add_argument('--value', '-v', required=True,
                          help="the unit of time should in {'s', 'm', 'h', 'd'}, e.g. 30m, 1.5h; a bare number is "
                               'seconds')
    duration.set_defaults(func=cmd_update_duration)

    trialnum = sub.add_parser('trialnum', help='update maxtrialnum')
    trialnum.add_argument('id', nargs='?', help='the id of experiment')
    trialnum.add_argument('--value', '-v', required=True)
    trialnum.set_defaults(func=cmd_update_trialnum)


def parse_duration(text: str) -> int:
    """
    ``'30m'`` -> 1800; units ``s``, ``m``, ``h``, ``d``; a bare number is seconds.

    Raises
    ------
    CliError
        Not a positive duration.
    """
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None:
        raise CliError(f'Invalid duration {text!r}: give a number with unit s, m, h or d, such as 30m or 1.5h.')
    seconds = int(round(float(match[1]) * _UNITS[match[2] or 's']))
    if seconds <= 0:
        raise CliError(f'Invalid duration {text!r}: it must be positive.')
    return seconds


def _integer(text: str, low: int, high: int) -> int:
    if not text.strip().isdigit() or not low <= int(text) <= high:
        raise CliError(f'value ({text}) must be a digit from {low} to {high}')
    return int(text)


def _update(exp_id: str | None, key: str, update_type: str, value: Any, label: str) -> int:
    ref = resolve(exp_id)
    if ref.stopped:
        raise CliError(f'Experiment {ref.id} is not running, it cannot be updated.')
    try:
        profile = ref.request('GET', '/experiment')
    except RestError as error:
        raise CliError(f'Update {label} failed! {error.message}') from None
    except (OSError, ValueError):
        raise CliError(f'{REST_NOT_RUNNING}\nUpdate {label} failed!') from None
    if not isinstance(profile, dict) or not isinstance(profile.get('params'), dict):
        raise CliError(f'Update {label} failed! The manager answered an unexpected profile.')
    profile['params'][key] = value
    try:
        ref.request('PUT', f'/experiment?update_type={update_type}', profile)
    except RestError as error:
        raise CliError(f'Update {label} failed! {error.message}') from None
    except OSError as error:
        raise CliError(f'Update {label} failed! {error}') from None
    info(f'Update {label} success!')
    return 0


def cmd_update_searchspace(args: argparse.Namespace) -> int:
    """``nnictl update searchspace``."""
    path = Path(args.filename).expanduser()
    if not path.is_file():
        raise CliError(f'{args.filename} is not a valid file path')
    text = path.read_text(encoding='utf-8')
    if not text.strip():
        raise CliError('searchSpace file should not be empty')
    try:
        space = json.loads(text)
    except ValueError:
        import yaml

        try:
            space = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise CliError(f'{args.filename} is neither valid JSON nor YAML: {error}') from None
    if not isinstance(space, dict):
        raise CliError(f'{args.filename} must hold a mapping of parameter names to {{_type, _value}} specs')
    return _update(args.id, 'searchSpace', 'SEARCH_SPACE', space, 'searchSpace')


def cmd_update_concurrency(args: argparse.Namespace) -> int:
    """``nnictl update concurrency``."""
    value = _integer(args.value, 1, 1000)
    return _update(args.id, 'trialConcurrency', 'TRIAL_CONCURRENCY', value, 'concurrency')


def cmd_update_duration(args: argparse.Namespace) -> int:
    """``nnictl update duration``."""
    value = parse_duration(args.value)
    return _update(args.id, 'maxExperimentDuration', 'MAX_EXEC_DURATION', value, 'duration')


def cmd_update_trialnum(args: argparse.Namespace) -> int:
    """``nnictl update trialnum``."""
    value = _integer(args.value, 1, 999999999)
    return _update(args.id, 'maxTrialNumber', 'MAX_TRIAL_NUM', value, 'trialnum')
