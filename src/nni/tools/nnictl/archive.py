"""
``nnictl experiment save`` / ``load``: move a stopped experiment to another machine as a zip archive.

Archive layout (NNI's, ``spec/nnictl.md`` section 5.1)::

    experiment/               the experiment folder: db/, log/, trials/, checkpoint/, ...
    nnictl/.experiment        the manifest entry (JSON object with "id")
    nnictl/<id>/log/          the logs again (NNI's archives have them; kept so NNI can load ours)
    code/                     with --saveCodeDir: the trial code directory
    searchSpace/<file>        the search space file, when the config names one that exists

``load`` extracts the experiment under the chosen working directory and rewrites the stored paths (config,
trial log paths) from the old location to the new one, so the loaded experiment can be viewed and resumed.
Unlike NNI, v2 configs are handled (``trialCodeDirectory``, ``searchSpaceFile``), ``--codeDir`` is optional
(annotated code lives inside the experiment folder anyway), and the manifest entry is written with the
right fields.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nni.experiment.manifest import Experiments

from . import experiment_db
from .errors import CliError
from .experiments import default_working_directory, lookup, refresh
from .output import info, warning

__all__ = ['add_parsers', 'load_archive', 'save_archive']


def add_parsers(sub: Any) -> None:
    """Register ``experiment save`` and ``experiment load``."""
    save = sub.add_parser('save', help='save an experiment')
    save.add_argument('id', nargs='?', help='the id of experiment')
    save.add_argument('--path', '-p', required=False, help='the folder path to store nni experiment data, default '
                      'current working directory')
    save.add_argument('--saveCodeDir', '-s', action='store_true', default=False,
                      help='save codeDir data of the experiment')
    save.set_defaults(func=cmd_experiment_save)

    load = sub.add_parser('load', help='load an experiment')
    load.add_argument('--path', '-p', required=True, help='the path of nni package file')
    load.add_argument('--codeDir', '-c', required=False,
                      help='the path of codeDir for loaded experiment, this path will also put the code in the '
                           'loaded experiment package')
    load.add_argument('--logDir', '-l', required=False, help='the path of logDir for loaded experiment')
    load.add_argument('--searchSpacePath', '-s', required=False,
                      help='the path of search space file for loaded experiment, this path contains file name. '
                           'Default in $codeDir/search_space.json')
    load.set_defaults(func=cmd_experiment_load)


def _add_tree(archive: zipfile.ZipFile, folder: Path, prefix: str, skip: frozenset[str] = frozenset()) -> None:
    for current, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        base = Path(current)
        relative = base.relative_to(folder).as_posix()
        inside = prefix if relative == '.' else f'{prefix}/{relative}'
        if not filenames and not dirnames:
            archive.writestr(inside + '/', '')  # keep empty folders (e.g. checkpoint/)
        for filename in sorted(filenames):
            path = base / filename
            if path.is_file() and f'{relative}/{filename}' not in skip:
                archive.write(path, f'{inside}/{filename}')


def _stored_params(db: Path) -> dict[str, Any]:
    try:
        profile = experiment_db.latest_profile(db)
    except (OSError, sqlite3.Error, ValueError):
        return {}
    return dict((profile or {}).get('params') or {})


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except (ValueError, OSError):
        return False
    return True


def save_archive(exp_id: str, destination: Path, save_code: bool) -> Path:
    """
    Write ``nni_experiment_<id>.zip`` of a stopped experiment into ``destination``.

    Raises
    ------
    CliError
        Unknown or running experiment, missing experiment folder.
    """
    ref = lookup(exp_id)
    if not ref.stopped:
        raise CliError('Can only save stopped experiment!', details=f'Stop it first with "nnictl stop {exp_id}".')
    root = ref.root
    if not root.is_dir():
        raise CliError(f'logDir: {root} does not exist!')
    params = _stored_params(ref.db_path)
    destination.mkdir(parents=True, exist_ok=True)
    target = destination / f'nni_experiment_{exp_id}.zip'
    partial = target.with_name(target.name + '.part')
    entry = dict(ref.entry, id=exp_id)
    code_dir = params.get('trialCodeDirectory') or (params.get('trial') or {}).get('codeDir')
    if save_code and (not code_dir or not Path(code_dir).is_dir()):
        raise CliError(f'Trial code directory {code_dir} does not exist, cannot save it.')
    with zipfile.ZipFile(partial, 'w', zipfile.ZIP_DEFLATED) as archive:
        # db/token is the secret of the last manager run; a resumed manager writes a new one
        _add_tree(archive, root, 'experiment', skip=frozenset({'db/token'}))
        archive.writestr('nnictl/.experiment', json.dumps(entry, indent=4))
        if (root / 'log').is_dir():
            _add_tree(archive, root / 'log', f'nnictl/{exp_id}/log')
        if save_code and not _inside(Path(code_dir), root):  # annotated code is already in experiment/
            _add_tree(archive, Path(code_dir), 'code')
        space_file = params.get('searchSpaceFile') or params.get('searchSpacePath')
        if space_file and Path(space_file).is_file():
            archive.write(space_file, f'searchSpace/{Path(space_file).name}')
    os.replace(partial, target)
    return target


def cmd_experiment_save(args: argparse.Namespace) -> int:
    """``nnictl experiment save``."""
    if args.id is None:
        raise CliError('Please set experiment id.')
    refresh()
    info('Saving...')
    destination = Path(args.path).expanduser() if args.path else Path.cwd()
    target = save_archive(args.id, destination, args.saveCodeDir)
    info(f'Save to {target if args.path else target.name} success!')
    return 0


def _extract(archive: zipfile.ZipFile, prefix: str, destination: Path) -> list[str]:
    """Extract the members under ``prefix/`` into ``destination``; returns the top-level names extracted."""
    top: list[str] = []
    destination.mkdir(parents=True, exist_ok=True)
    for member in archive.infolist():
        if not member.filename.startswith(prefix + '/') or member.filename == prefix + '/':
            continue
        relative = member.filename[len(prefix) + 1:]
        target = destination / relative
        if not _inside(target, destination):
            raise CliError(f'Invalid archive file: member {member.filename} points outside its folder.')
        name = relative.split('/', 1)[0]
        if name not in top:
            top.append(name)
        if member.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(member) as source, open(target, 'wb') as sink:
            shutil.copyfileobj(source, sink)
    return top


def _path_replacer(old_root: str, new_root: str, old_workdir: str, new_workdir: str) -> Callable[[str], str]:
    def replace(value: str) -> str:
        for old, new in ((old_root, new_root), (old_workdir, new_workdir)):
            if not old:
                continue
            if value == old:
                return new
            if value.startswith(old.rstrip('/') + '/'):
                return new + value[len(old.rstrip('/')):]
        return value
    return replace


def load_archive(path: Path, code_dir: str | None, log_dir: str | None, search_space_path: str | None) -> str:
    """
    Restore an archive written by :func:`save_archive` (or by NNI); returns the experiment id.

    Raises
    ------
    CliError
        Invalid archive or options, or an id that is already in the manifest.
    """
    if not path.exists():
        raise CliError(f'file path {path} does not exist!')
    if search_space_path and Path(search_space_path).is_dir():
        raise CliError('search space path should be a full path with filename, not a directory!')
    if log_dir and not Path(log_dir).expanduser().is_dir():
        raise CliError('Invalid: logDir path does not exist!')
    info('Loading...')
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise CliError(f'Invalid archive file: {error}') from None
    with archive:
        names = set(archive.namelist())
        if not any(name.startswith('experiment/db/') for name in names):
            raise CliError('Invalid archive file: db file does not exist!')
        if 'nnictl/.experiment' not in names:
            raise CliError('Invalid archive file: nnictl metadata file does not exist!')
        try:
            entry = json.loads(archive.read('nnictl/.experiment'))
            exp_id = str(entry['id'])
        except (ValueError, KeyError, TypeError) as error:
            raise CliError(f'Invalid nnictl metadata file: {error}') from None
        if exp_id in refresh():
            raise CliError('Invalid: experiment id already exist!')

        new_workdir = Path(log_dir).expanduser().resolve() if log_dir else default_working_directory()
        new_root = new_workdir / exp_id
        if new_root.exists():
            warning(f'{new_root} exists and is replaced by the archived experiment.')
            shutil.rmtree(new_root)
        _extract(archive, 'experiment', new_root)

        overrides: dict[str, Any] = {}
        if code_dir:
            code_path = Path(code_dir).expanduser()
            if not code_path.is_absolute():
                code_path = code_path.resolve()
                info(f'Expand codeDir to {code_path}')
            code_path.mkdir(parents=True, exist_ok=True)
            if any(name.startswith('code/') for name in names):
                staging = new_root / '.loading-code'
                for name in _extract(archive, 'code', staging):
                    if (code_path / name).exists():
                        warning(f'Copy {name} failed, {code_path / name} exist!')
                        continue
                    shutil.move(str(staging / name), str(code_path / name))
                shutil.rmtree(staging, ignore_errors=True)
            overrides['trialCodeDirectory'] = str(code_path)
        space_members = [name for name in names if name.startswith('searchSpace/') and not name.endswith('/')]
        if search_space_path and space_members:
            target = Path(search_space_path).expanduser().resolve()
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(space_members[0]))
            overrides['searchSpaceFile'] = str(target)

    db = new_root / 'db' / 'nni.sqlite'
    old_workdir = str(entry.get('logDir') or default_working_directory())
    replace = _path_replacer(str(Path(old_workdir) / exp_id), str(new_root), old_workdir, str(new_workdir))
    params = _stored_params(db)
    stored_space = params.get('searchSpaceFile')
    if 'searchSpaceFile' not in overrides and stored_space and not Path(replace(stored_space)).is_file():
        overrides['searchSpaceFile'] = None  # the search space is stored inline; a missing file would fail resume
    try:
        experiment_db.rewrite_paths(db, replace, overrides)
    except (OSError, sqlite3.Error, ValueError) as error:
        shutil.rmtree(new_root, ignore_errors=True)
        raise CliError(f'Invalid archive file: cannot update its database: {error}') from None
    code = overrides.get('trialCodeDirectory') or replace(str(params.get('trialCodeDirectory') or ''))
    if code and not Path(code).is_dir():
        warning(f'Trial code directory {code} does not exist on this machine; give --codeDir to load the code '
                'before resuming this experiment.')

    manifest = Experiments()
    manifest.add_experiment(
        exp_id, None, entry.get('startTime') or 0, entry.get('platform') or 'local', entry.get('experimentName'),
        endTime=entry.get('endTime', 'N/A'), status='STOPPED', tag=entry.get('tag') or [], pid=None,
        webuiUrl=[], logDir=str(new_workdir), prefixUrl=entry.get('prefixUrl'))
    manifest.update_fields(exp_id, {'port': None, 'pid': None})
    return exp_id


def cmd_experiment_load(args: argparse.Namespace) -> int:
    """``nnictl experiment load``."""
    exp_id = load_archive(Path(args.path).expanduser(), args.codeDir, args.logDir, args.searchSpacePath)
    info(f'Load experiment {exp_id} success!')
    return 0
