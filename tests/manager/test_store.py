"""The SQLite store: NNI's schema, commits that survive the process, resume reading."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from nni.manager.store import ExperimentStore, StoreError


def _profile(revision: int, **extra) -> dict:
    profile = {'params': {'trialConcurrency': 2}, 'id': 'exp1', 'execDuration': 3, 'logDir': '/x',
               'nextSequenceId': 4, 'revision': revision, 'startTime': 1000}
    profile.update(extra)
    return profile


def test_schema_is_nnis(tmp_path: Path):
    store = ExperimentStore(tmp_path / 'db' / 'nni.sqlite', create=True)
    store.close()
    with sqlite3.connect(tmp_path / 'db' / 'nni.sqlite') as db:
        columns = {table: [row[1] for row in db.execute(f'PRAGMA table_info({table})')]
                   for table in ('TrialJobEvent', 'MetricData', 'ExperimentProfile')}
        journal = db.execute('PRAGMA journal_mode').fetchone()[0]
    assert columns['TrialJobEvent'] == ['timestamp', 'trialJobId', 'event', 'data', 'logPath', 'sequenceId',
                                        'message', 'environmentId']
    assert columns['MetricData'] == ['timestamp', 'trialJobId', 'parameterId', 'type', 'sequence', 'data']
    assert columns['ExperimentProfile'] == ['params', 'id', 'execDuration', 'startTime', 'endTime', 'logDir',
                                            'nextSequenceId', 'revision']
    assert journal == 'wal'


def test_resume_requires_an_existing_database(tmp_path: Path):
    with pytest.raises(StoreError, match='does not exist'):
        ExperimentStore(tmp_path / 'missing.sqlite', create=False)


def test_latest_profile_is_highest_revision(tmp_path: Path):
    store = ExperimentStore(tmp_path / 'nni.sqlite', create=True)
    assert store.latest_profile() is None
    store.store_profile(_profile(1))
    store.store_profile(_profile(2, endTime=5000))
    latest = store.latest_profile()
    assert latest is not None
    assert latest['revision'] == 2 and latest['endTime'] == 5000
    assert latest['params'] == {'trialConcurrency': 2}


def test_rows_are_committed_when_the_call_returns(tmp_path: Path):
    """A process that writes and is then SIGKILLed leaves every written row behind."""
    path = tmp_path / 'nni.sqlite'
    script = f"""
import json, os, signal
from pathlib import Path
from nni.manager.store import ExperimentStore
store = ExperimentStore(Path({str(path)!r}), create=True)
store.add_trial_event('Ab123', 'WAITING', data='{{"parameter_id": 0}}', sequence_id=0)
store.add_metric('Ab123', '0', 'FINAL', 0, json.dumps('0.5'))
os.kill(os.getpid(), signal.SIGKILL)
"""
    result = subprocess.run([sys.executable, '-c', script], capture_output=True)
    assert result.returncode == -9
    store = ExperimentStore(path, create=False)
    [event] = store.trial_events()
    assert (event.trial_job_id, event.event, event.sequence_id) == ('Ab123', 'WAITING', 0)
    [metric] = store.metrics()
    assert json.loads(json.loads(metric.data)) == 0.5


def test_metric_filters_and_rest_shape(tmp_path: Path):
    store = ExperimentStore(tmp_path / 'nni.sqlite', create=True)
    store.add_metric('A', '0', 'PERIODICAL', 0, json.dumps('1'), timestamp=10)
    store.add_metric('A', '0', 'FINAL', 0, json.dumps('2'), timestamp=11)
    store.add_metric('B', None, 'FINAL', 0, json.dumps('{"default": 3}'), timestamp=12)
    assert [row.trial_job_id for row in store.metrics(metric_type='FINAL')] == ['A', 'B']
    assert [row.type for row in store.metrics(trial_job_id='A')] == ['PERIODICAL', 'FINAL']
    assert store.metrics(trial_job_id='B')[0].to_rest() == {
        'timestamp': 12, 'trialJobId': 'B', 'parameterId': None, 'type': 'FINAL', 'sequence': 0,
        'data': '"{\\"default\\": 3}"'}


def test_newer_schema_is_refused(tmp_path: Path):
    path = tmp_path / 'nni.sqlite'
    ExperimentStore(path, create=True).close()
    with sqlite3.connect(path) as db:
        db.execute('UPDATE SchemaVersion SET version = 99')
    with pytest.raises(StoreError, match='schema version 99'):
        ExperimentStore(path, create=False)
