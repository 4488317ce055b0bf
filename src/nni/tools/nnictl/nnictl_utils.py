"""NNI's ``nni.tools.nnictl.nnictl_utils``: the helper functions behind NNI's nnictl commands.

Scripts written against NNI call them with an ``argparse.Namespace`` (``id``, ``port``, ``all``,
``head``, ``tail``). The manifest is ours (``nni.experiment.manifest``); REST goes through
:mod:`.rest_utils`. The ``nnictl`` command itself is :mod:`.cli`, not these functions.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from typing import Any

from .common_utils import detect_process, get_yml_content, print_error, print_normal
from .config_utils import Config, Experiments
from .rest_utils import check_response, check_rest_server_quick, rest_delete, rest_get

__all__ = ['get_experiment_time', 'get_experiment_status', 'update_experiment', 'check_experiment_id', 'parse_ids',
           'get_config_filename', 'get_experiment_port', 'convert_time_stamp_to_date', 'check_rest', 'trial_ls',
           'trial_kill', 'list_experiment', 'get_yml_content', 'Config']

REST_TIME_OUT = 20


def _api(port: int, path: str) -> str:
    return f'http://localhost:{port}/api/v1/nni{path}'


def get_experiment_time(port: int) -> tuple[Any, Any]:
    """``(startTime, endTime)`` of the experiment served on ``port``, or ``(None, None)``."""
    response = rest_get(_api(port, '/experiment'), REST_TIME_OUT)
    if check_response(response):
        content = json.loads(response.text)
        return content.get('startTime'), content.get('endTime')
    return None, None


def get_experiment_status(port: int) -> str | None:
    """Status of the experiment served on ``port`` (``RUNNING``, ``DONE``, ...), or ``None``."""
    running, response = check_rest_server_quick(port)
    return json.loads(response.text).get('status') if running else None


def update_experiment() -> None:
    """Mark manifest entries whose manager process is gone as ``STOPPED``."""
    experiments = Experiments()
    for exp_id, entry in experiments.get_all_experiments().items():
        if isinstance(entry, dict) and entry.get('status') != 'STOPPED' and not detect_process(entry.get('pid')):
            experiments.update_experiment(exp_id, 'status', 'STOPPED')


def _running_ids(entries: dict[str, Any]) -> list[str]:
    return [exp_id for exp_id, entry in entries.items() if isinstance(entry, dict) and entry.get('status') != 'STOPPED']


def _too_many(running: list[str]) -> None:
    print_error('There are multiple experiments, please set the experiment id: ' + ', '.join(running)
                + ' (see nnictl experiment list)')
    sys.exit(1)


def check_experiment_id(args: Any, update: bool = True) -> str | None:
    """The experiment ``args.id`` names, or the only running one; ``None`` (with a message) otherwise."""
    if update:
        update_experiment()
    entries = Experiments().get_all_experiments()
    if not entries:
        print_normal('There is no experiment running...')
        return None
    if not args.id:
        running = _running_ids(entries)
        if len(running) > 1:
            _too_many(running)
        if not running:
            print_error('There is no experiment running.')
            return None
        return running[0]
    if entries.get(args.id):
        return args.id
    print_error(f'Experiment id {args.id} not found; see nnictl experiment list.')
    return None


def parse_ids(args: Any) -> list[str] | None:
    """Ids an ``nnictl stop``-style command applies to (``--all``, ``--port``, an id, a prefix or ``prefix*``)."""
    update_experiment()
    entries = Experiments().get_all_experiments()
    if not entries:
        print_normal('Experiment is not running...')
        return None
    running = _running_ids(entries)
    if getattr(args, 'all', False):
        return running
    port = getattr(args, 'port', None)
    if port is not None:
        matched = [exp_id for exp_id in running if entries[exp_id].get('port') == port]
        if args.id and matched and args.id != matched[0]:
            print_error('Experiment id and restful server port do not match')
            sys.exit(1)
    elif not args.id:
        if len(running) > 1:
            _too_many(running)
        matched = running
    elif args.id.endswith('*'):
        matched = [exp_id for exp_id in running if exp_id.startswith(args.id[:-1])]
    elif args.id in running:
        matched = [args.id]
    else:
        matched = [exp_id for exp_id in running if exp_id.startswith(args.id)]
        if len(matched) > 1:
            print_error(f'{args.id} is ambiguous, please choose ' + ' '.join(matched))
            return None
    if not matched:
        print_error('There are no experiments matched, please set correct experiment id or restful server port'
                    if (args.id or port) else 'There is no experiment running...')
    return matched


def get_config_filename(args: Any) -> str:
    """The experiment id of ``args`` (see :func:`check_experiment_id`); exit 1 if there is none."""
    exp_id = check_experiment_id(args)
    if exp_id is None:
        print_error('Please set correct experiment id.')
        sys.exit(1)
    return exp_id


def get_experiment_port(args: Any) -> int | None:
    """The REST port of the experiment of ``args``."""
    exp_id = get_config_filename(args)
    return Experiments().get_all_experiments()[exp_id].get('port')


def convert_time_stamp_to_date(content: dict[str, Any]) -> dict[str, Any]:
    """Turn ``startTime``/``endTime`` (ms since the epoch) into local ``YYYY/MM/DD HH:MM:SS`` text, in place."""
    for key in ('startTime', 'endTime'):
        stamp = content.get(key)
        if stamp:
            when = datetime.fromtimestamp(stamp // 1000, timezone.utc).astimezone()
            content[key] = when.strftime('%Y/%m/%d %H:%M:%S')
    return content


def check_rest(args: Any) -> bool:
    """Whether the manager of the experiment of ``args`` answers."""
    exp_id = get_config_filename(args)
    running, _ = check_rest_server_quick(Experiments().get_all_experiments()[exp_id].get('port'))
    print_normal('Restful server is running...' if running else 'Restful server is not running...')
    return running


def _running_entry(args: Any) -> dict[str, Any] | None:
    exp_id = get_config_filename(args)
    entry = Experiments().get_all_experiments()[exp_id]
    if not detect_process(entry.get('pid')):
        print_error(f'Experiment {exp_id} is not running...')
        return None
    if not check_rest_server_quick(entry.get('port'))[0]:
        print_error('Restful server is not running...')
        return None
    return entry


def _final_default(trial: dict[str, Any]) -> float:
    value = json.loads(json.loads(trial['finalMetricData'][0]['data']))
    return value['default'] if isinstance(value, dict) else value


def trial_ls(args: Any) -> list[dict[str, Any]] | None:
    """Print and return the trials (``args.head``/``args.tail``: best/worst N by final result)."""
    if args.head and args.tail:
        print_error('Head and tail cannot be set at the same time.')
        return None
    entry = _running_entry(args)
    if entry is None:
        return None
    response = rest_get(_api(entry['port'], '/trial-jobs'), REST_TIME_OUT)
    if not check_response(response):
        print_error('List trial failed...')
        return None
    content = json.loads(response.text)
    if args.head or args.tail:
        finished = [trial for trial in content if 'finalMetricData' in trial]
        content = sorted(finished, key=_final_default, reverse=bool(args.head))[:args.head or args.tail]
    content = [convert_time_stamp_to_date(trial) for trial in content]
    print(json.dumps(content, indent=4, sort_keys=True, separators=(',', ':')))
    return content


def trial_kill(args: Any) -> bool:
    """Cancel trial ``args.trial_id`` of the experiment of ``args``."""
    entry = _running_entry(args)
    if entry is None:
        return False
    response = rest_delete(_api(entry['port'], f'/trial-jobs/{args.trial_id}'), REST_TIME_OUT)
    if check_response(response):
        print(response.text)
        return True
    print_error('Kill trial job failed...')
    return False


def list_experiment(args: Any) -> dict[str, Any] | None:
    """Print and return the experiment profile of ``args``."""
    entry = _running_entry(args)
    if entry is None:
        return None
    response = rest_get(_api(entry['port'], '/experiment'), REST_TIME_OUT)
    if not check_response(response):
        print_error('List experiment failed...')
        return None
    content = convert_time_stamp_to_date(json.loads(response.text))
    print(json.dumps(content, indent=4, sort_keys=True, separators=(',', ':')))
    return content
