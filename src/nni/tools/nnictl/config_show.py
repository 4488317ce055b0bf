"""``nnictl config show [ID]``: the experiment's latest stored config, read from its database."""

from __future__ import annotations

import argparse
import json
import sqlite3
from typing import Any

from . import experiment_db
from .errors import CliError
from .experiments import resolve

__all__ = ['add_parsers', 'cmd_config_show']


def add_parsers(commands: Any) -> None:
    """Register ``config show``."""
    config = commands.add_parser('config', help='get config information')
    sub = config.add_subparsers()
    show = sub.add_parser('show', help='show the information of config')
    show.add_argument('id', nargs='?', help='the id of experiment')
    show.set_defaults(func=cmd_config_show)


def cmd_config_show(args: argparse.Namespace) -> int:
    """``nnictl config show``: works for stopped experiments too (no REST needed)."""
    ref = resolve(args.id)
    try:
        profile = experiment_db.latest_profile(ref.db_path)
    except FileNotFoundError:
        raise CliError(f'Cannot find the database of experiment {ref.id} ({ref.db_path} does not exist).') from None
    except (sqlite3.Error, ValueError) as error:
        raise CliError(f'Cannot read {ref.db_path}: {error}') from None
    if profile is None:
        raise CliError(f'Experiment {ref.id} has no stored config yet.')
    print(json.dumps(profile['params'], indent=4))
    return 0
