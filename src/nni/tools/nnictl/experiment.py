"""
``nnictl experiment show|status|list|delete|export|import`` (``save``/``load`` are in :mod:`.archive`).

Beyond NNI: ``list`` shows trial counts and the best metric (read from the manager, or from the database of a
stopped experiment), as a table on a terminal and as ``--json``; ``export`` also works for stopped
experiments; ``delete`` refuses running experiments, removes the whole experiment folder and takes ``--yes``.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from nni.experiment.manifest import Experiments
from nni.experiment.rest import RestError

from . import experiment_db
from .errors import CliError
from .experiments import REST_NOT_RUNNING, ExperimentRef, experiment_block, lookup, refresh, resolve
from .output import (
    STATUS_COLORS,
    format_metric,
    format_ms,
    format_slash_ms,
    info,
    nni_json,
    plain_json,
    rich_output,
    table,
    warning,
)

__all__ = ['add_parsers', 'export_rows', 'experiment_stats']


def add_parsers(commands: Any) -> None:
    """Register ``experiment`` and its sub-commands (``save``/``load`` come from :mod:`.archive`)."""
    from . import archive, pareto

    experiment = commands.add_parser('experiment', help='get experiment information')
    sub = experiment.add_subparsers()
    pareto.add_parser(sub)  # ours: the Pareto front of a multi-objective experiment

    show = sub.add_parser('show', help='show the information of experiment')
    show.add_argument('id', nargs='?', help='the id of experiment')
    show.add_argument('--json', action='store_true', help='print standard JSON with raw values (for scripts)')
    show.set_defaults(func=cmd_experiment_show)

    status = sub.add_parser('status', help='show the status of experiment')
    status.add_argument('id', nargs='?', help='the id of experiment')
    status.add_argument('--json', action='store_true', help='print {"id", "status", "errors"} as standard JSON')
    status.set_defaults(func=cmd_experiment_status)

    listing = sub.add_parser('list', help='list all of running experiment ids')
    listing.add_argument('--all', action='store_true', default=False, help='list all of experiments')
    listing.add_argument('--json', action='store_true', help='print standard JSON (for scripts)')
    listing.set_defaults(func=cmd_experiment_list)

    delete = sub.add_parser('delete', help='clean up the experiment data')
    delete.add_argument('id', nargs='?', help='the id of experiment')
    delete.add_argument('--all', action='store_true', default=False, help='delete all of stopped experiments')
    delete.add_argument('--yes', '-y', action='store_true', help='do not ask for confirmation')
    delete.set_defaults(func=cmd_experiment_delete)

    export = sub.add_parser('export', help='export trial job results to csv or json')
    export.add_argument('id', nargs='?', help='the id of experiment')
    export.add_argument('--type', '-t', choices=['json', 'csv'], required=True, dest='type',
                        help='target file type')
    export.add_argument('--filename', '-f', required=True, dest='path', help='target file path')
    export.add_argument('--intermediate', '-i', action='store_true',
                        help='are intermediate results included')
    export.set_defaults(func=cmd_experiment_export)

    importing = sub.add_parser('import', help='import additional data')
    importing.add_argument('id', nargs='?', help='the id of experiment')
    importing.add_argument('--filename', '-f', required=True, help='a file with data you want to import in json format')
    importing.set_defaults(func=cmd_experiment_import)

    archive.add_parsers(sub)


# ---------------------------------------------------------------------------------------------------------
# show / status


def cmd_experiment_show(args: argparse.Namespace) -> int:
    """``nnictl experiment show``."""
    ref = resolve(args.id)
    ref.require_running()
    try:
        profile = ref.request('GET', '/experiment')
    except (OSError, ValueError) as error:
        raise CliError(f'List experiment failed... {getattr(error, "message", error)}') from None
    if args.json:
        print(plain_json(profile))
        return 0
    profile = dict(profile)
    for key in ('startTime', 'endTime'):
        if key in profile:
            profile[key] = format_slash_ms(profile[key])
    print(nni_json(profile))
    return 0


def cmd_experiment_status(args: argparse.Namespace) -> int:
    """``nnictl experiment status``."""
    ref = resolve(args.id)
    answer = ref.probe()
    counts = trial_counts(ref)
    if args.json:
        if answer is None:
            answer = {'status': ref.status if ref.stopped else 'UNKNOWN', 'errors': []}
        print(plain_json({'id': ref.id, 'status': answer.get('status'), 'errors': answer.get('errors', []),
                          'running': not ref.stopped and answer.get('status') != 'UNKNOWN',
                          'trials': counts, 'firstFailure': answer.get('firstFailure')}))
        return 0
    if answer is None:
        info(REST_NOT_RUNNING)
        if counts is not None:
            info(f'Trials: {_counts_text(counts)} (read from {ref.db_path})')
        return 0
    # beyond NNI's {status, errors}: trial counts, so a run whose trials all failed does not look fine
    print(nni_json({**answer, 'trials': counts} if counts is not None else answer))
    return 0


def trial_counts(ref: ExperimentRef) -> dict[str, int] | None:
    """
    ``total``, ``succeeded``, ``failed`` and ``running`` trials: from the manager when it runs, else from the
    database; ``None`` when neither answers.
    """
    if not ref.stopped and ref.port is not None:
        try:
            summary = ref.request('GET', '/summary', timeout=2.0)
        except (OSError, ValueError, RuntimeError):
            summary = None
        if isinstance(summary, dict) and 'failed' in summary:
            return {'total': int(summary.get('trials') or 0), 'succeeded': int(summary.get('succeeded') or 0),
                    'failed': int(summary.get('failed') or 0), 'running': int(summary.get('running') or 0)}
    try:
        views = experiment_db.trials(ref.db_path)
    except (OSError, sqlite3.Error, ValueError):
        return None
    statuses = [view.status for view in views]
    return {'total': len(statuses), 'succeeded': statuses.count('SUCCEEDED'), 'failed': statuses.count('FAILED'),
            'running': statuses.count('RUNNING')}


def _counts_text(counts: dict[str, int]) -> str:
    return (f'{counts["total"]} in all, {counts["succeeded"]} succeeded, {counts["failed"]} failed, '
            f'{counts["running"]} running')


# ---------------------------------------------------------------------------------------------------------
# list


def experiment_stats(ref: ExperimentRef) -> dict[str, Any]:
    """
    Trial count and best metric of an experiment: from its manager when it runs, else from its database.

    Returns
    -------
    dict
        ``trials`` (int or None), ``bestMetric``, ``bestTrialJobId``; ``None`` values when unknown.
    """
    if not ref.stopped and ref.port is not None:
        try:
            summary = ref.request('GET', '/summary', timeout=2.0)
        except (OSError, ValueError, RuntimeError):
            summary = None
        if isinstance(summary, dict):
            return {'trials': summary.get('trials'), 'bestMetric': summary.get('bestMetric'),
                    'bestTrialJobId': summary.get('bestTrialJobId')}
    try:
        count, best, best_trial = experiment_db.best_metric(ref.db_path)
    except (OSError, sqlite3.Error, ValueError, TypeError):
        return {'trials': None, 'bestMetric': None, 'bestTrialJobId': None}
    return {'trials': count, 'bestMetric': best, 'bestTrialJobId': best_trial}


def cmd_experiment_list(args: argparse.Namespace) -> int:
    """``nnictl experiment list``."""
    entries = refresh()
    shown = entries if args.all else {k: v for k, v in entries.items() if v.get('status') != 'STOPPED'}
    stats = {exp_id: experiment_stats(ExperimentRef(exp_id, entry)) for exp_id, entry in shown.items()}
    if args.json:
        print(plain_json([{
            'id': exp_id,
            'name': entry.get('experimentName'),
            'status': entry.get('status'),
            'port': entry.get('port'),
            'platform': entry.get('platform'),
            'startTime': entry.get('startTime'),
            'endTime': entry.get('endTime'),
            'workingDirectory': entry.get('logDir'),
            'urlPrefix': entry.get('prefixUrl'),
            **stats[exp_id],
        } for exp_id, entry in shown.items()]))
        return 0
    if not entries:
        info('Cannot find experiments.')
        return 1
    if not shown:
        warning('There is no experiment running...\nYou can use \'nnictl experiment list --all\' to list all experiments.')
    if rich_output():
        if shown:
            rows = [[exp_id, str(entry.get('experimentName') or ''), str(entry.get('status')),
                     str(entry.get('port', '')) if entry.get('port') is not None else '',
                     str(entry.get('platform')), _count(stats[exp_id]['trials']),
                     format_metric(stats[exp_id]['bestMetric']), format_ms(entry.get('startTime', 'N/A')),
                     format_ms(entry.get('endTime', 'N/A'))] for exp_id, entry in shown.items()]
            colors = [STATUS_COLORS.get(str(entry.get('status'))) for entry in shown.values()]
            print(table(['Id', 'Name', 'Status', 'Port', 'Platform', 'Trials', 'Best', 'Start', 'End'], rows, colors))
        return 0
    extras = {exp_id: f'    Trials: {_count(s["trials"])}    BestMetric: {format_metric(s["bestMetric"])}'
              for exp_id, s in stats.items()}
    print(experiment_block(shown, extras))
    return 0


def _count(value: Any) -> str:
    return 'N/A' if value is None else str(value)


# ---------------------------------------------------------------------------------------------------------
# delete


def _ask(question: str) -> bool:
    while True:
        print(question, end='', flush=True)
        try:
            answer = input().strip().lower()
        except EOFError:
            print()
            raise CliError('No answer (standard input is closed); use --yes to delete without asking.') from None
        if answer in ('', 'n', 'no'):
            return False
        if answer in ('y', 'yes'):
            return True
        warning('please input Y or N.')


def _platform(ref: ExperimentRef) -> str | None:
    try:
        profile = experiment_db.latest_profile(ref.db_path)
    except (OSError, sqlite3.Error, ValueError):
        profile = None
    params = (profile or {}).get('params') or {}
    service = params.get('trainingService')
    if isinstance(service, dict):
        return service.get('platform')
    if isinstance(service, list):
        return 'hybrid'
    return params.get('trainingServicePlatform') or ref.entry.get('platform')


def delete_experiment(ref: ExperimentRef) -> None:
    """Remove the experiment's folder (db, logs, trials, checkpoints, rewritten code) and its manifest entry."""
    platform = _platform(ref)
    if platform not in (None, 'local'):
        warning(f'Experiment {ref.id} ran on platform {platform}: its files on remote machines are not removed.')
    root = ref.root
    if root.exists() or root.is_symlink():
        info(f'removing folder {root}')
        if root.is_symlink():
            root.unlink()
        else:
            shutil.rmtree(root)
    else:
        warning(f'{root} does not exist.')
    latest = ref.working_directory / '_latest'
    try:
        if latest.is_symlink() and Path(latest.readlink()).name == ref.id:
            latest.unlink()
    except OSError:
        pass  # only a convenience link
    info(f'removing metadata of experiment {ref.id}')
    Experiments().remove_experiment(ref.id)


def cmd_experiment_delete(args: argparse.Namespace) -> int:
    """``nnictl experiment delete``."""
    if args.id is None and not args.all:
        raise CliError('please set experiment id.')
    entries = refresh()
    if args.all:
        targets = []
        for exp_id, entry in entries.items():
            if entry.get('status') == 'STOPPED':
                targets.append(ExperimentRef(exp_id, entry))
            else:
                warning(f'Experiment {exp_id} is {entry.get("status")}, skipped; stop it first with '
                        f'"nnictl stop {exp_id}".')
        if not targets:
            info('There is no stopped experiment to delete.')
            return 0
    else:
        ref = lookup(args.id, entries)
        if not ref.stopped:
            raise CliError(f'Experiment {ref.id} is {ref.status}; stop it first with "nnictl stop {ref.id}".')
        targets = [ref]
    ids = ' '.join(ref.id for ref in targets)
    if not args.yes:
        print(f"INFO: This action will delete experiment {ids}, and it's not recoverable.")
        if not _ask('INFO: do you want to continue?[y/N]:'):
            return 0
    for ref in targets:
        delete_experiment(ref)
    info('Done.')
    return 0


# ---------------------------------------------------------------------------------------------------------
# export / import


def _decode_once(data: Any) -> Any:
    if isinstance(data, str):
        try:
            return json.loads(data)
        except ValueError:
            return data
    return data


def _fetch_results(ref: ExperimentRef, intermediate: bool) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    if not ref.stopped:
        ref.require_running()
        try:
            records = ref.request('GET', '/export-data') or []
        except (OSError, ValueError) as error:
            raise CliError(f'Export failed... {getattr(error, "message", error)}') from None
        metrics: list[dict[str, Any]] = []
        if intermediate:
            try:
                metrics = ref.request('GET', '/metric-data') or []
            except (OSError, ValueError):
                raise CliError('Error getting intermediate results.') from None
        return list(records), list(metrics)
    try:
        records = experiment_db.export_records(ref.db_path)
        metrics = experiment_db.metric_records(ref.db_path) if intermediate else []
    except (OSError, sqlite3.Error, ValueError) as error:
        raise CliError(f'Export failed... cannot read the database of {ref.id}: {error}') from None
    return records, metrics


def export_rows(records: list[dict[str, Any]], intermediates: dict[str, list[Any]] | None) -> tuple[list[str], list[dict[str, Any]]]:
    """
    CSV columns and rows of an export, in a stable order.

    Columns: parameters in order of first appearance, then ``reward`` (numeric metric) or the keys of dict
    metrics, then ``trialJobId``, then ``intermediate`` when asked.
    """
    parameter_columns: dict[str, None] = {}
    metric_columns: dict[str, None] = {}
    rows = []
    for record in records:
        row: dict[str, Any] = {}
        parameters = record.get('parameter')
        if isinstance(parameters, dict):
            for key, value in parameters.items():
                parameter_columns.setdefault(str(key))
                row[str(key)] = value if isinstance(value, (int, float, str)) else str(value)
        value = _decode_once(record.get('value'))
        value = _decode_once(value) if isinstance(value, str) else value
        if isinstance(value, dict):
            for key, item in value.items():
                metric_columns.setdefault(str(key))
                row[str(key)] = item
        else:
            metric_columns.setdefault('reward')
            row['reward'] = value
        row['trialJobId'] = record.get('trialJobId')
        if intermediates is not None:
            row['intermediate'] = '[' + ','.join(str(v) for v in intermediates.get(str(record.get('trialJobId')), [])) + ']'
        rows.append(row)
    columns = list(parameter_columns) + [c for c in metric_columns if c not in parameter_columns] + ['trialJobId']
    if intermediates is not None:
        columns.append('intermediate')
    return columns, rows


def cmd_experiment_export(args: argparse.Namespace) -> int:
    """``nnictl experiment export``."""
    ref = resolve(args.id)
    records, metrics = _fetch_results(ref, args.intermediate)
    intermediates: dict[str, list[Any]] | None = None
    if args.intermediate:
        # Only PERIODICAL metrics: NNI also listed the final one here, which duplicated it.
        intermediates = {}
        for metric in metrics:
            if metric.get('type') == 'PERIODICAL':
                intermediates.setdefault(str(metric.get('trialJobId')), []).append(_decode_once(metric.get('data')))
    path = Path(args.path).expanduser()
    if args.type == 'json':
        output = []
        for record in records:
            record = dict(record)
            if intermediates is not None:
                record['intermediate'] = intermediates.get(str(record.get('trialJobId')), [])
            output.append(record)
        path.write_text(json.dumps(output), encoding='utf-8')
    else:
        if not records:
            raise CliError('No trial results collected! Please check your trial log...')
        columns, rows = export_rows(records, intermediates)
        with open(path, 'w', newline='', encoding='utf-8') as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    info(f'Export {len(records)} trial results of experiment {ref.id} to {path}.')
    return 0


def cmd_experiment_import(args: argparse.Namespace) -> int:
    """``nnictl experiment import``."""
    path = Path(args.filename).expanduser()
    if not path.is_file():
        raise CliError(f'{args.filename} is not a valid file path')
    try:
        data = json.loads(path.read_text(encoding='utf-8'))
    except ValueError as error:
        raise CliError(f'{args.filename} is not valid JSON: {error}') from None
    if not isinstance(data, list) or not all(isinstance(item, dict) and 'parameter' in item and 'value' in item
                                             for item in data):
        raise CliError(f'{args.filename} must hold a JSON list of {{"parameter": {{...}}, "value": <metric>}} records')
    ref = resolve(args.id)
    ref.require_running()
    try:
        ref.request('POST', '/experiment/import-data', data)
    except RestError as error:
        raise CliError(f'Import data failed! {error.message}') from None
    except OSError:
        raise CliError(f'{REST_NOT_RUNNING}\nImport data failed!') from None
    info(f'Import data success! {len(data)} records imported into experiment {ref.id}.')
    return 0
