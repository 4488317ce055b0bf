"""
Read a stopped experiment's database (``<root>/db/nni.sqlite``) without starting its manager.

The schema is NNI's (``spec/files.md`` section 3): ``ExperimentProfile`` revisions, ``TrialJobEvent`` rows
replayed into trial statuses, ``MetricData``. This lets ``experiment list`` show the best metric and
``experiment export`` work for experiments that no longer run; ``experiment load`` uses the writer half to
move an experiment to new paths.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ['TrialView', 'best_metric', 'export_records', 'latest_profile', 'metric_records', 'rewrite_paths',
           'scalar_metric', 'trials']

_TERMINAL = {'SUCCEEDED', 'FAILED', 'USER_CANCELED', 'SYS_CANCELED', 'EARLY_STOPPED'}


@contextmanager
def _connect(path: Path, write: bool = False) -> Iterator[sqlite3.Connection]:
    if not path.is_file():
        # sqlite3.connect would create an empty database in its place
        raise FileNotFoundError(f'{path} does not exist')
    uri = f'{path.resolve().as_uri()}?mode={"rw" if write else "ro"}'
    conn = sqlite3.connect(uri, uri=True)
    try:
        yield conn
        if write:
            conn.commit()
    finally:
        conn.close()


def latest_profile(path: Path) -> dict[str, Any] | None:
    """
    The newest ``ExperimentProfile`` revision (``params`` decoded), or ``None`` for an empty database.

    Raises
    ------
    FileNotFoundError
        No database at ``path``.
    sqlite3.Error
        Not a database of this schema.
    """
    with _connect(path) as conn:
        row = conn.execute(
            'SELECT params, id, execDuration, startTime, endTime, logDir, nextSequenceId, revision '
            'FROM ExperimentProfile ORDER BY revision DESC, rowid DESC LIMIT 1').fetchone()
    if row is None:
        return None
    keys = ('params', 'id', 'execDuration', 'startTime', 'endTime', 'logDir', 'nextSequenceId', 'revision')
    profile = dict(zip(keys, row, strict=True))
    profile['params'] = json.loads(row[0])
    return profile


@dataclass
class TrialView:
    """A trial as replayed from its events (only what nnictl needs)."""

    trial_job_id: str
    status: str = 'UNKNOWN'
    sequence_id: int | None = None
    parameter_record: str | None = None
    start_time: int | None = None
    end_time: int | None = None
    log_path: str | None = None
    final: list[str] = field(default_factory=list)

    def parameters(self) -> Any:
        """The trial's hyper-parameters (``parameters`` of its first record)."""
        if self.parameter_record is None:
            return None
        try:
            return json.loads(self.parameter_record).get('parameters')
        except (ValueError, AttributeError):
            return None


def trials(path: Path) -> list[TrialView]:
    """Every trial of the experiment, in first-event order, with its final metric data (double-encoded)."""
    views: dict[str, TrialView] = {}
    with _connect(path) as conn:
        for trial_id, event, data, log_path, sequence_id, timestamp in conn.execute(
                'SELECT trialJobId, event, data, logPath, sequenceId, timestamp FROM TrialJobEvent ORDER BY rowid'):
            if not trial_id:
                continue  # experiment-level rows such as IMPORT_DATA
            view = views.setdefault(trial_id, TrialView(trial_id))
            if event == 'USER_TO_CANCEL':
                view.status = 'USER_CANCELED'
            elif event not in ('ADD_HYPERPARAMETER', 'ADD_CUSTOMIZED'):
                view.status = event
            if event == 'RUNNING':
                view.start_time = timestamp
            if event in _TERMINAL:
                view.end_time = timestamp
            if log_path:
                view.log_path = log_path
            if view.sequence_id is None and sequence_id is not None:
                view.sequence_id = sequence_id
            if data and view.parameter_record is None and event in ('WAITING', 'RUNNING', 'ADD_HYPERPARAMETER'):
                view.parameter_record = data
        for trial_id, data in conn.execute(
                "SELECT trialJobId, data FROM MetricData WHERE type = 'FINAL' ORDER BY rowid"):
            if trial_id in views:
                views[trial_id].final.append(data)
    return list(views.values())


def metric_records(path: Path) -> list[dict[str, Any]]:
    """Every ``MetricData`` row in the REST shape of ``GET /metric-data``."""
    with _connect(path) as conn:
        rows = conn.execute(
            'SELECT timestamp, trialJobId, parameterId, type, sequence, data FROM MetricData ORDER BY rowid').fetchall()
    keys = ('timestamp', 'trialJobId', 'parameterId', 'type', 'sequence', 'data')
    return [dict(zip(keys, row, strict=True)) for row in rows]


def export_records(path: Path) -> list[dict[str, Any]]:
    """What ``GET /export-data`` would answer: succeeded trials with a final metric, ``value`` decoded once."""
    records = []
    for view in trials(path):
        if view.status != 'SUCCEEDED' or not view.final:
            continue
        records.append({'parameter': view.parameters(), 'value': json.loads(view.final[0]),
                        'trialJobId': view.trial_job_id})
    return records


def scalar_metric(data: Any) -> float | None:
    """The default metric of a stored (double-encoded) or REST-decoded metric; ``None`` if not numeric."""
    value = data
    for _ in range(2):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return None
    if isinstance(value, dict):
        value = value.get('default')
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return float(value)


def optimize_mode(params: dict[str, Any]) -> str:
    """``'minimize'`` or ``'maximize'`` (the default) from the tuner's class args."""
    for key in ('tuner', 'advisor'):
        algorithm = params.get(key)
        if isinstance(algorithm, dict):
            mode = (algorithm.get('classArgs') or {}).get('optimize_mode')
            if mode in ('minimize', 'maximize'):
                return str(mode)
    return 'maximize'


def best_metric(path: Path) -> tuple[int, float | None, str | None]:
    """
    Number of trials, best default metric and the trial that reached it.

    Raises
    ------
    FileNotFoundError, sqlite3.Error, ValueError
        The database cannot be read.
    """
    profile = latest_profile(path)
    params = profile['params'] if profile else {}
    better: Callable[[float, float], bool] = (
        (lambda a, b: a < b) if optimize_mode(params) == 'minimize' else (lambda a, b: a > b))
    views = trials(path)
    best: tuple[float, str] | None = None
    for view in views:
        if view.status != 'SUCCEEDED' or not view.final:
            continue
        score = scalar_metric(view.final[0])
        if score is not None and (best is None or better(score, best[0])):
            best = (score, view.trial_job_id)
    return len(views), (best[0] if best else None), (best[1] if best else None)


def rewrite_paths(path: Path, replace: Callable[[str], str], overrides: dict[str, Any] | None = None) -> None:
    """
    Move an experiment's stored paths: append a profile revision whose path values went through ``replace``,
    and rewrite the trials' ``logPath``.

    Parameters
    ----------
    path
        The database.
    replace
        Maps an old path string to the new one (returns other strings unchanged).
    overrides
        Top-level config keys to set afterwards (``None`` removes the key), e.g. a new ``trialCodeDirectory``.
    """
    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return replace(value)
        if isinstance(value, list):
            return [walk(item) for item in value]
        if isinstance(value, dict):
            # search spaces and class args are user data, not paths: leave them alone
            return {k: (v if k in ('searchSpace', 'classArgs') else walk(v)) for k, v in value.items()}
        return value

    with _connect(path, write=True) as conn:
        row = conn.execute(
            'SELECT params, id, execDuration, startTime, endTime, logDir, nextSequenceId, revision '
            'FROM ExperimentProfile ORDER BY revision DESC, rowid DESC LIMIT 1').fetchone()
        if row is not None:
            params = walk(json.loads(row[0]))
            for key, value in (overrides or {}).items():
                if value is None:
                    params.pop(key, None)
                else:
                    params[key] = value
            conn.execute('INSERT INTO ExperimentProfile VALUES (?,?,?,?,?,?,?,?)',
                         (json.dumps(params), row[1], row[2], row[3], row[4],
                          replace(row[5]) if isinstance(row[5], str) else row[5], row[6], (row[7] or 0) + 1))
        for rowid, log_path in conn.execute(
                'SELECT rowid, logPath FROM TrialJobEvent WHERE logPath IS NOT NULL').fetchall():
            new = replace(log_path)
            if new != log_path:
                conn.execute('UPDATE TrialJobEvent SET logPath = ? WHERE rowid = ?', (new, rowid))
