"""``nnictl webui url [ID]``: the web portal addresses of a running experiment."""

from __future__ import annotations

import argparse
import sqlite3
from typing import Any

from . import experiment_db
from .errors import CliError
from .experiments import NOT_RUNNING, ExperimentRef, resolve
from .output import info

__all__ = ['add_parsers', 'portal_urls']


def add_parsers(commands: Any) -> None:
    """Register ``webui url``."""
    webui = commands.add_parser('webui', help='get web ui information')
    sub = webui.add_subparsers()
    url = sub.add_parser('url', help='show the url of web ui')
    url.add_argument('id', nargs='?', help='the id of experiment')
    url.set_defaults(func=cmd_webui_url)


def portal_urls(ref: ExperimentRef) -> list[str]:
    """``http://<host>:<port>[/<prefix>]`` for the configured ``nniManagerIp`` (if any) and loopback."""
    hosts = []
    try:
        profile = experiment_db.latest_profile(ref.db_path)
    except (OSError, sqlite3.Error, ValueError):
        profile = None
    manager_ip = ((profile or {}).get('params') or {}).get('nniManagerIp')
    if manager_ip:
        hosts.append(str(manager_ip))
    hosts.append('127.0.0.1')
    suffix = f'/{ref.prefix}' if ref.prefix else ''
    token = ref.token()
    urls = []
    for host in dict.fromkeys(hosts):
        url = f'http://{host}:{ref.port}{suffix}'
        # off loopback the portal needs the token to read anything: the link hands it over once
        loopback = host == 'localhost' or host.startswith('127.') or host == '::1'
        urls.append(url if loopback or token is None else f'{url}/?token={token}')
    return urls


def cmd_webui_url(args: argparse.Namespace) -> int:
    """``nnictl webui url``: computed from the manifest (NNI printed an always-empty stored list)."""
    ref = resolve(args.id)
    if ref.stopped or ref.port is None:
        raise CliError(NOT_RUNNING, details=f'Experiment {ref.id} has no web portal; "nnictl view {ref.id}" serves it.')
    info(f'Web UI url: {" ".join(portal_urls(ref))}')
    return 0
