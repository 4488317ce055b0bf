"""``nnictl``: the command line NNI users know.

This module holds the experiment lifecycle commands (``create``, ``resume``, ``view``,
``stop``, ``experiment list``); argument parsing is argparse, as in NNI, so abbreviations,
``--opt=value`` and exit code 2 on usage errors behave the same.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class CommandError(Exception):
    """A user-facing failure: printed as ``ERROR: <message>``, exit code 1."""


def _info(text: str) -> None:
    print('INFO: ', text)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version('nni')
    except PackageNotFoundError:
        import nni

        return nni.__version__


def _load_config(path: str) -> Any:
    from nni.experiment.config import ExperimentConfig

    config_path = Path(path)
    if not config_path.is_file():
        raise CommandError(f'"{path}" is not a valid file.')
    return ExperimentConfig.load(str(config_path))


def cmd_create(args: argparse.Namespace) -> int:
    from nni.experiment import Experiment, RunMode

    config = _load_config(args.config)
    if getattr(config, 'use_annotation', False):
        raise CommandError('useAnnotation configs are not supported by this version of nnictl yet.')
    experiment = Experiment(config)
    if args.url_prefix:
        experiment.url_prefix = args.url_prefix.strip('/')
    print(f'Creating experiment, Experiment ID: {experiment.id}')
    if args.foreground:
        experiment.start(args.port, args.debug, RunMode.Foreground)
        print(f'Web portal URLs: http://127.0.0.1:{args.port}')
        succeeded = experiment._wait_completion() if hasattr(experiment, '_wait_completion') else None
        experiment.stop()
        return 0 if succeeded is not False else 1
    experiment.start(args.port, args.debug, RunMode.Detach)
    print(f'Web portal URLs: http://127.0.0.1:{args.port}')
    print(f'To stop experiment run "nnictl stop {experiment.id}" or "nnictl stop --all"')
    return 0


def _stopped_experiment(exp_id: str, experiment_dir: str | None) -> Any:
    from nni.experiment import Experiment
    from nni.experiment.manifest import Experiments

    entries = Experiments().get_all_experiments()
    if experiment_dir is None:
        if exp_id not in entries:
            raise CommandError(f'Id {exp_id} not exist!')
        if entries[exp_id].get('status') != 'STOPPED' and _pid_alive(entries[exp_id].get('pid')):
            raise CommandError(f'Only stopped experiments can be resumed or viewed! But retrieved metadata for '
                               f'{exp_id} is: {entries[exp_id]}')
    from nni.experiment.launcher import get_stopped_experiment_config

    config = get_stopped_experiment_config(exp_id, experiment_dir)
    return Experiment(config, id=exp_id)


def cmd_resume(args: argparse.Namespace) -> int:
    from nni.experiment import RunMode

    experiment = _stopped_experiment(args.id, args.experiment_dir)
    experiment._action = 'resume'
    print(f'Resuming experiment, Experiment ID: {experiment.id}')
    mode = RunMode.Foreground if args.foreground else RunMode.Detach
    experiment.start(args.port, args.debug, mode)
    print(f'Web portal URLs: http://127.0.0.1:{args.port}')
    if args.foreground:
        experiment._wait_completion()
        experiment.stop()
    return 0


def cmd_view(args: argparse.Namespace) -> int:
    from nni.experiment import RunMode

    experiment = _stopped_experiment(args.id, args.experiment_dir)
    experiment._action = 'view'
    experiment.start(args.port, False, RunMode.Detach)
    print(f'Web portal URLs: http://127.0.0.1:{args.port}')
    return 0


def _pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _running_experiments() -> dict[str, dict[str, Any]]:
    from nni.experiment import manifest

    sweep = getattr(manifest, 'sweep_dead_experiments', None)
    if callable(sweep):
        sweep()
    entries = manifest.Experiments().get_all_experiments()
    return {exp_id: entry for exp_id, entry in entries.items() if entry.get('status') != 'STOPPED'}


def cmd_stop(args: argparse.Namespace) -> int:
    if args.id == 'all':
        print("WARNING: 'nnictl stop all' is abolished, please use 'nnictl stop --all' to stop all of experiments!")
        return 1
    running = _running_experiments()
    if not running:
        _info('Experiment is not running...')
        return 0
    if args.all:
        selected = list(running)
    elif args.port is not None:
        selected = [exp_id for exp_id, entry in running.items() if entry.get('port') == args.port]
        if args.id and selected and args.id not in selected:
            raise CommandError('Experiment id and resful server port not match')
    elif args.id is None:
        if len(running) > 1:
            raise CommandError('There are multiple experiments, please set the experiment id...\n'
                               + _experiment_table(running))
        selected = list(running)
    elif args.id.endswith('*'):
        selected = [exp_id for exp_id in running if exp_id.startswith(args.id[:-1])]
    elif args.id in running:
        selected = [args.id]
    else:
        selected = [exp_id for exp_id in running if exp_id.startswith(args.id)]
        if len(selected) > 1:
            print(f'ERROR: {args.id} is ambiguous, please choose {" ".join(selected)}')
            return 0
    if not selected:
        if args.id or args.port is not None:
            print('ERROR: There are no experiments matched, please set correct experiment id or restful server port')
        else:
            print('ERROR: There is no experiment running...')
        return 0
    for exp_id in selected:
        _info(f'Stopping experiment {exp_id}')
        pid = running[exp_id].get('pid')
        if _pid_alive(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 60
            while _pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
                _reap(pid)
        _info('Stop experiment success.')
    return 0


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _experiment_table(entries: dict[str, dict[str, Any]]) -> str:
    lines = []
    for exp_id, entry in entries.items():
        lines.append(f'Id: {exp_id}    Name: {entry.get("experimentName")}    Status: {entry.get("status")}    '
                     f'Port: {entry.get("port")}    Platform: {entry.get("platform")}    '
                     f'StartTime: {_format_ms(entry.get("startTime"))}    EndTime: {_format_ms(entry.get("endTime"))}')
    return '\n'.join(lines)


def _format_ms(value: Any) -> str:
    if not isinstance(value, (int, float)):
        return str(value)
    return time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(value / 1000))


def cmd_experiment_list(args: argparse.Namespace) -> int:
    from nni.experiment import manifest

    sweep = getattr(manifest, 'sweep_dead_experiments', None)
    if callable(sweep):
        sweep()
    entries = manifest.Experiments().get_all_experiments()
    if not args.all:
        entries = {key: value for key, value in entries.items() if value.get('status') != 'STOPPED'}
    if not entries:
        print('ERROR: No experiment is running!' if not args.all else 'ERROR: No experiment found!')
        return 0
    print('----------------------------------------------------------------------------------------')
    print('                Experiment information')
    print(_experiment_table(entries))
    print('----------------------------------------------------------------------------------------')
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='nnictl', description='use nnictl command to control nni experiments')
    parser.add_argument('--version', '-v', action='store_true')
    parser.set_defaults(func=None)
    commands = parser.add_subparsers(dest='command')

    create = commands.add_parser('create', help='create a new experiment')
    create.add_argument('--config', '-c', required=True, help='YAML configure file of the experiment')
    create.add_argument('--port', '-p', type=int, default=8080)
    create.add_argument('--debug', '-d', action='store_true')
    create.add_argument('--url_prefix', '-u')
    create.add_argument('--foreground', '-f', action='store_true')
    create.set_defaults(func=cmd_create)

    resume = commands.add_parser('resume', help='resume a stopped experiment')
    resume.add_argument('id')
    resume.add_argument('--port', '-p', type=int, default=8080)
    resume.add_argument('--debug', '-d', action='store_true')
    resume.add_argument('--foreground', '-f', action='store_true')
    resume.add_argument('--experiment_dir', '-e')
    resume.set_defaults(func=cmd_resume)

    view = commands.add_parser('view', help='view a stopped experiment')
    view.add_argument('id')
    view.add_argument('--port', '-p', type=int, default=8080)
    view.add_argument('--experiment_dir', '-e')
    view.set_defaults(func=cmd_view)

    stop = commands.add_parser('stop', help='stop the experiment')
    stop.add_argument('id', nargs='?')
    stop.add_argument('--port', '-p', type=int)
    stop.add_argument('--all', '-a', action='store_true')
    stop.set_defaults(func=cmd_stop)

    experiment = commands.add_parser('experiment', help='get experiment information')
    experiment_commands = experiment.add_subparsers(dest='experiment_command')
    listing = experiment_commands.add_parser('list', help='list all of running experiment ids')
    listing.add_argument('--all', action='store_true')
    listing.set_defaults(func=cmd_experiment_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        print(_version())
        return 0
    if args.func is None:
        print('Please run "nnictl {positional argument} --help" to see nnictl guidance.')
        return 0
    try:
        return int(args.func(args) or 0)
    except CommandError as error:
        print(f'ERROR: {error}')
        return 1
    except (ValueError, RuntimeError, OSError) as error:
        print(f'ERROR: {error}')
        return 1


if __name__ == '__main__':
    sys.exit(main())
