"""
User-registered algorithms: ``registered_algorithms.yml`` in NNI's config directory (``nnictl algo ...``).

The file is NNI's (``spec/nnictl.md`` section 6.2)::

    tuners:
    - builtinName: demotuner
      className: demo_tuner.DemoTuner
      classArgsValidator: demo_tuner.MyClassArgsValidator
      nniVersion: '3.0'
      source: user
    assessors: [...]

Advisors are stored under ``tuners`` with ``isAdvisor: true``; an ``advisors`` key is still read. Entries with
``source: nni`` (written by NNI <= 2.5) are ignored.

:func:`find_registered_algorithm` answers in the metadata shape of :mod:`nni.algorithms.hpo.registry`, which
consults it for names that are not builtin, so registered algorithms can be named in experiment configs
(``tuner: {name: demotuner}``). This module imports only the standard library at import time (PyYAML is
loaded when the file is read), because the manager imports it while creating tuners.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

__all__ = [
    'config_dir',
    'find_registered_algorithm',
    'load_registered',
    'registry_path',
    'remove_algorithm',
    'save_algorithm',
]

_FILE_NAME = 'registered_algorithms.yml'


def config_dir() -> Path:
    """
    NNI's config directory, where ``registered_algorithms.yml`` lives.

    ``$NNI_CONFIG_DIR`` if set; else ``<sys.prefix>/nni`` inside a virtualenv, venv or conda environment; else
    ``%APPDATA%\\nni`` on Windows; else ``~/.config/nni``.
    """
    explicit = os.environ.get('NNI_CONFIG_DIR')
    if explicit:
        return Path(explicit).expanduser()
    in_env = (sys.prefix != getattr(sys, 'base_prefix', sys.prefix) or hasattr(sys, 'real_prefix')
              or Path(sys.prefix, 'conda-meta').is_dir())
    if in_env:
        return Path(sys.prefix) / 'nni'
    if sys.platform == 'win32' and os.environ.get('APPDATA'):
        return Path(os.environ['APPDATA']) / 'nni'
    return Path.home() / '.config' / 'nni'


def registry_path() -> Path:
    """Path of ``registered_algorithms.yml``."""
    return config_dir() / _FILE_NAME


def _read(path: Path) -> dict[str, Any]:
    import yaml

    try:
        text = path.read_text(encoding='utf-8')
    except FileNotFoundError:
        return {}
    data = yaml.safe_load(text)
    return data if isinstance(data, dict) else {}


def load_registered() -> dict[str, list[dict[str, Any]]]:
    """
    User algorithms by kind, as stored.

    Returns
    -------
    dict
        ``{"tuners": [...], "assessors": [...]}``; advisors are in ``tuners`` with ``isAdvisor: true``.
    """
    data = _read(registry_path())
    result: dict[str, list[dict[str, Any]]] = {'tuners': [], 'assessors': []}
    for key, kind in (('tuners', 'tuners'), ('advisors', 'tuners'), ('assessors', 'assessors')):
        for entry in data.get(key) or []:
            if not isinstance(entry, dict) or entry.get('source') == 'nni' or not entry.get('builtinName'):
                continue
            entry = dict(entry)
            if key == 'advisors':
                entry['isAdvisor'] = True
            result[kind].append(entry)
    return result


def _write(data: dict[str, list[dict[str, Any]]]) -> None:
    import yaml

    path = registry_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    content = {kind: entries for kind, entries in data.items() if entries}
    tmp = path.with_name(path.name + f'.{os.getpid()}.tmp')
    tmp.write_text(yaml.safe_dump(content, default_flow_style=False) if content else '{}\n', encoding='utf-8')
    os.replace(tmp, path)


def _matches(entry: dict[str, Any], name: str) -> bool:
    wanted = name.lower()
    return any(isinstance(n, str) and n.lower() == wanted for n in (entry.get('builtinName'), entry.get('alias')))


def find_user_entry(name: str) -> tuple[str, dict[str, Any]] | None:
    """The stored entry named ``name`` (case-insensitive, aliases too) and its kind (``tuners``/``assessors``)."""
    for kind, entries in load_registered().items():
        for entry in entries:
            if _matches(entry, name):
                return kind, entry
    return None


def save_algorithm(meta: dict[str, Any]) -> bool:
    """
    Add or replace a user algorithm.

    Parameters
    ----------
    meta
        The entry to store (``builtinName``, ``className``, ..., ``algoType``); ``algoType`` decides the kind
        and is not stored (NNI does not store it either).

    Returns
    -------
    bool
        ``True`` when an algorithm of that name existed and was replaced.
    """
    data = load_registered()
    entry = {key: value for key, value in meta.items() if key != 'algoType'}
    kind = 'assessors' if meta.get('algoType') == 'assessor' else 'tuners'
    replaced = False
    for other_kind, entries in data.items():
        kept = [e for e in entries if not _matches(e, str(entry['builtinName']))]
        replaced = replaced or len(kept) != len(entries)
        data[other_kind] = kept
    data[kind].append(entry)
    _write(data)
    return replaced


def remove_algorithm(name: str) -> bool:
    """
    Remove the user algorithm ``name`` (case-insensitive, aliases too).

    Returns
    -------
    bool
        ``False`` if there was none.
    """
    data = load_registered()
    removed = False
    for kind, entries in data.items():
        kept = [e for e in entries if not _matches(e, name)]
        removed = removed or len(kept) != len(entries)
        data[kind] = kept
    if removed:
        _write(data)
    return removed


def find_registered_algorithm(name: str, kind: str | None = None) -> dict[str, Any] | None:
    """
    Metadata of a user-registered algorithm, in the shape of ``nni.algorithms.hpo.registry``.

    Parameters
    ----------
    name
        Name or alias, any case.
    kind
        ``'tuner'`` (advisors included), ``'assessor'``, ``'advisor'``, or ``None`` for any.

    Returns
    -------
    dict or None
        ``builtinName``, ``alias``, ``algoType``, ``className``, ``classArgs``, ``classArgsValidator``,
        ``acceptClassArgs``, ``isAdvisor``, ``source`` (``'user'``); ``None`` if not registered (or the file is
        unreadable: a broken user file must not break builtin algorithms).
    """
    try:
        found = find_user_entry(name)
    except Exception:  # noqa: BLE001 - see above; `nnictl algo list` reports the broken file
        return None
    if found is None:
        return None
    stored_kind, entry = found
    is_advisor = bool(entry.get('isAdvisor'))
    algo_type = 'assessor' if stored_kind == 'assessors' else ('advisor' if is_advisor else 'tuner')
    if kind is not None:
        if kind == 'tuner' and algo_type not in ('tuner', 'advisor'):
            return None
        if kind in ('assessor', 'advisor') and algo_type != kind:
            return None
    return {
        'builtinName': entry['builtinName'],
        'alias': entry.get('alias'),
        'algoType': algo_type,
        'className': entry.get('className'),
        'classArgs': dict(entry.get('classArgs') or {}),
        'classArgsValidator': entry.get('classArgsValidator'),
        'acceptClassArgs': entry.get('acceptClassArgs', True) is not False,
        'isAdvisor': is_advisor,
        'source': 'user',
    }
