"""
``nnictl platform clean --config FILE``: remove NNI's folders on the machines of a remote training service.

Reads v2 configs (``trainingService.platform: remote``, ``machineList``) as well as v1 ones
(``trainingServicePlatform``, ``machineList``); NNI read only the v1 keys. The folder shown is the folder
removed (``/tmp/nni-experiments``, NNI's, and ``~/nni-remote``, where our remote training service keeps
trial code and trial folders); NNI showed ``/tmp/nni`` but removed the other one. Removal uses
``asyncssh`` (``pip install nni[remote]``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .errors import CliError
from .output import info

__all__ = ['REMOTE_FOLDER', 'REMOTE_FOLDERS', 'add_parsers', 'cmd_platform_clean']

#: Folder NNI's remote training service leaves on each machine.
REMOTE_FOLDER = '/tmp/nni-experiments'
#: Every folder removed: NNI's, and ours (nni.manager.training_service.remote) under the login's home.
REMOTE_FOLDERS = (REMOTE_FOLDER, '~/nni-remote')


def add_parsers(commands: Any) -> None:
    """Register ``platform clean``."""
    platform = commands.add_parser('platform', help='get platform information')
    sub = platform.add_subparsers()
    clean = sub.add_parser('clean', help='clean up the platform data')
    clean.add_argument('--config', '-c', required=True, dest='config', help='the path of yaml config file')
    clean.set_defaults(func=cmd_platform_clean)


def _platform_and_machines(data: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]]]:
    if 'trainingServicePlatform' in data:
        return data.get('trainingServicePlatform'), list(data.get('machineList') or [])
    service = data.get('trainingService')
    if isinstance(service, list):
        remote = [s for s in service if isinstance(s, dict) and s.get('platform') == 'remote']
        return ('remote' if remote else 'hybrid'), [m for s in remote for m in s.get('machineList') or []]
    if isinstance(service, dict):
        return service.get('platform'), list(service.get('machineList') or [])
    return None, []


def _machine(machine: dict[str, Any]) -> dict[str, Any]:
    return {
        'host': machine.get('host') or machine.get('ip'),
        'port': int(machine.get('port') or 22),
        'user': machine.get('user') or machine.get('username'),
        'password': machine.get('password') or machine.get('passwd'),
        'key': machine.get('sshKeyFile') or machine.get('sshKeyPath') or machine.get('ssh_key_file'),
        'passphrase': machine.get('sshPassphrase') or machine.get('passphrase'),
    }


async def _remove(machine: dict[str, Any]) -> None:
    import asyncssh  # type: ignore[import-not-found]

    options: dict[str, Any] = {'username': machine['user'], 'port': machine['port'], 'known_hosts': None}
    if machine['password']:
        options['password'] = machine['password']
    if machine['key']:
        options['client_keys'] = [str(Path(machine['key']).expanduser())]
        if machine['passphrase']:
            options['passphrase'] = machine['passphrase']
    async with asyncssh.connect(machine['host'], **options) as connection:
        await connection.run(f'rm -rf {REMOTE_FOLDER} "$HOME/nni-remote"', check=True)


def cmd_platform_clean(args: argparse.Namespace) -> int:
    """``nnictl platform clean``."""
    import yaml

    from .experiment import _ask

    path = Path(args.config).expanduser()
    if not path.is_file():
        raise CliError('Please set correct config path.')
    try:
        data = yaml.safe_load(path.read_text(encoding='utf-8'))
    except yaml.YAMLError as exc:
        raise CliError(f'{path} is not valid YAML: {exc}') from None
    if not isinstance(data, dict):
        raise CliError(f'{path} must hold a mapping')
    platform, machines = _platform_and_machines(data)
    if platform == 'local':
        info('it doesn’t need to clean local platform.')
        return 0
    if platform != 'remote':
        info(f'platform {platform} not supported.')
        return 0
    machines = [_machine(m) for m in machines if isinstance(m, dict)]
    if not machines:
        raise CliError('No folder of NNI caches is found.')
    info('This command will remove below folders of NNI caches. If other users are using experiments on below '
         'hosts, it will be broken.')
    for machine in machines:
        for folder in REMOTE_FOLDERS:
            print(f'       {machine["host"]}:{machine["port"]}{folder}')
    if not _ask('INFO: do you want to continue?[y/N]:'):
        return 0
    try:
        import asyncssh  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        raise CliError('Cleaning remote machines needs asyncssh: pip install nni[remote]') from None
    import asyncio

    failed = False
    for machine in machines:
        info(f'removing folders {" ".join(REMOTE_FOLDERS)} on {machine["host"]}:{machine["port"]}')
        try:
            asyncio.run(_remove(machine))
        except Exception as exc:  # noqa: BLE001 - report every machine, then fail
            print(f'ERROR: cannot clean {machine["host"]}:{machine["port"]}: {exc}')
            failed = True
    info('Done.')
    return 1 if failed else 0
