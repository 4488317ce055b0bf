"""
``nnictl algo register|unregister|show|list``: builtin and user-registered tuners, assessors and advisors.

User algorithms are kept in ``registered_algorithms.yml`` (:mod:`.algo_registry`); once registered, an
experiment config can name them (``tuner: {name: demotuner}``).
"""

from __future__ import annotations

import argparse
import importlib
import json
from pathlib import Path
from typing import Any

from . import algo_registry
from .errors import CliError
from .output import error, plain_json, success

__all__ = ['add_parsers', 'builtin_algorithms']

_REQUIRED = ('algoType', 'builtinName', 'className')
_SHOW_ORDER = ('builtinName', 'alias', 'className', 'acceptClassArgs', 'classArgs', 'classArgsValidator',
               'isAdvisor', 'source', 'nniVersion')


def add_parsers(commands: Any) -> None:
    """Register ``algo`` and its sub-commands."""
    algo = commands.add_parser('algo', help='control nni builtin tuner, assessor and advisor algorithms')
    sub = algo.add_subparsers()

    register = sub.add_parser('register', aliases=['reg'],
                              help='register algorithms as nni builtin algorithm, for example: '
                                   'nnictl reg --meta_path <path_to_meta_file> where <path_to_meta_file> is the path '
                                   'to a meta data in yml format')
    register.add_argument('--meta_path', '-m', required=True, dest='meta_path',
                          help='path to the meta file in yml format')
    register.set_defaults(func=cmd_algo_register)

    unregister = sub.add_parser('unregister', aliases=['unreg'], help='unregister algorithm')
    unregister.add_argument('name', nargs=1, help='builtin name of the algorithm')
    unregister.set_defaults(func=cmd_algo_unregister)

    show = sub.add_parser('show', help='show the information of algorithm')
    show.add_argument('name', nargs=1, help='builtin name of the algorithm')
    show.set_defaults(func=cmd_algo_show)

    listing = sub.add_parser('list', help='list registered algorithms')
    listing.add_argument('--json', action='store_true', help='print standard JSON (for scripts)')
    listing.set_defaults(func=cmd_algo_list)


def builtin_algorithms() -> list[dict[str, Any]]:
    """Builtin metadata in NNI's listing order: tuners and advisors, then assessors."""
    from nni.algorithms.hpo.registry import BUILTIN_ALGORITHMS

    metas = list(BUILTIN_ALGORITHMS.values())
    return [m for m in metas if m['algoType'] != 'assessor'] + [m for m in metas if m['algoType'] == 'assessor']


def _builtin(name: str) -> dict[str, Any] | None:
    wanted = name.lower()
    for meta in builtin_algorithms():
        if any(isinstance(n, str) and n.lower() == wanted for n in (meta['builtinName'], meta.get('alias'))):
            return meta
    return None


def _read_meta_file(path: str) -> list[dict[str, Any]]:
    import yaml

    try:
        text = Path(path).expanduser().read_text(encoding='utf-8')
    except OSError as exc:
        raise CliError(str(exc)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CliError(f'yaml file format error!\n{exc}') from None
    metas = data.get('algorithms') if isinstance(data, dict) and 'algorithms' in data else [data]
    if not isinstance(metas, list) or not all(isinstance(meta, dict) for meta in metas):
        raise CliError(f'{path} must hold one algorithm mapping, or "algorithms:" with a list of them')
    return metas


def _check_importable(path: str, what: str, name: str) -> None:
    module, _, attribute = path.rpartition('.')
    if not module:
        raise CliError(f'{name}: {what} must be "module.ClassName", got {path!r}')
    try:
        getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError) as exc:
        raise CliError(f'{name}: cannot import {what} {path}: {exc}') from None


def _entry(meta: dict[str, Any]) -> dict[str, Any]:
    import nni

    missing = [key for key in _REQUIRED if not meta.get(key)]
    if missing:
        raise CliError(f'algorithm meta {meta!r} misses {", ".join(missing)}')
    if meta['algoType'] not in ('tuner', 'assessor', 'advisor'):
        raise CliError(f'{meta["builtinName"]}: algoType must be tuner, assessor or advisor, got {meta["algoType"]!r}')
    entry: dict[str, Any] = {'algoType': meta['algoType'], 'builtinName': str(meta['builtinName'])}
    if meta.get('alias'):
        entry['alias'] = str(meta['alias'])
    entry['className'] = meta['className']
    if meta.get('acceptClassArgs', True) is False:
        entry['acceptClassArgs'] = False
    if meta.get('classArgs'):
        entry['classArgs'] = dict(meta['classArgs'])
    if meta.get('classArgsValidator'):
        entry['classArgsValidator'] = meta['classArgsValidator']
    if meta.get('isAdvisor', meta['algoType'] == 'advisor'):
        entry['isAdvisor'] = True
    entry['source'] = 'user'
    entry['nniVersion'] = nni.__version__
    return entry


def cmd_algo_register(args: argparse.Namespace) -> int:
    """``nnictl algo register``."""
    status = 0
    for meta in _read_meta_file(args.meta_path):
        entry = _entry(meta)
        name = entry['builtinName']
        if _builtin(name) is not None or (entry.get('alias') and _builtin(entry['alias']) is not None):
            error(f'Cannot overwrite builtin algorithm {name}')
            status = 1
            continue
        _check_importable(entry['className'], 'className', name)
        if entry.get('classArgsValidator'):
            _check_importable(entry['classArgsValidator'], 'classArgsValidator', name)
        if algo_registry.find_user_entry(name) is not None:
            success('Updating exist algorithm')
        algo_registry.save_algorithm(entry)
        success(f'{name} registered successfully!')
    return status


def cmd_algo_unregister(args: argparse.Namespace) -> int:
    """``nnictl algo unregister``."""
    name = args.name[0]
    if _builtin(name) is not None:
        raise CliError(f'{name} is provided by nni, can not be unregistered!')
    if not algo_registry.remove_algorithm(name):
        raise CliError(f'builtin algorithms {name} not found!')
    success(f'{name} unregistered successfully!')
    return 0


def _shown(meta: dict[str, Any], source: str) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for key in _SHOW_ORDER:
        value = source if key == 'source' else meta.get(key)
        if key == 'acceptClassArgs' and value is not False:
            continue
        if key == 'isAdvisor' and not value:
            continue
        if value is None or value == {}:
            continue
        shown[key] = value
    return shown


def cmd_algo_show(args: argparse.Namespace) -> int:
    """``nnictl algo show``."""
    name = args.name[0]
    builtin = _builtin(name)
    if builtin is not None:
        print(json.dumps(_shown(builtin, 'nni'), indent=4))
        return 0
    found = algo_registry.find_user_entry(name)
    if found is None:
        raise CliError(f'package {name} not found')
    print(json.dumps(_shown(found[1], 'user'), indent=4))
    return 0


def cmd_algo_list(args: argparse.Namespace) -> int:
    """``nnictl algo list``: NNI's fixed-width table (it is already plain text)."""
    rows: list[tuple[str, str, str, str]] = []
    for meta in builtin_algorithms():
        rows.append((meta['builtinName'], 'assessor' if meta['algoType'] == 'assessor' else 'tuner', 'nni',
                     meta['className']))
    for kind, entries in algo_registry.load_registered().items():
        for entry in entries:
            rows.append((entry['builtinName'], 'assessor' if kind == 'assessors' else 'tuner', 'user',
                         str(entry.get('className'))))
    if args.json:
        print(plain_json([{'name': name, 'type': kind, 'source': source, 'className': class_name}
                          for name, kind, source, class_name in rows]))
        return 0
    border = '+-----------------+------------+-----------+----------------------+------------------------------------------+'
    print(border)  # NNI's first border had a stray '='
    print('|      Name       |    Type    |   source  |      Class Name      |               Module Name                |')
    print(border)
    for name, kind, source, class_name in rows:
        module, _, short = class_name.rpartition('.')
        if len(module) > 38:
            module = module[:35] + '...'
        print(f'| {name:15s} | {kind:10s} | {source:9s} | {short:20s} | {module:40s} |')
    print(border)
    return 0
