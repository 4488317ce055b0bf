"""Schema version 2 of the store: trial attempts, superseded metrics, and the migration of version 1."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from nni.manager.store import SCHEMA_VERSION, ExperimentStore, StoreError

V1_SCHEMA = """
CREATE TABLE TrialJobEvent (timestamp integer, trialJobId text, event text, data text, logPath text,
    sequenceId integer, message text, environmentId text);
CREATE TABLE MetricData (timestamp integer, trialJobId text, parameterId text, type text, sequence integer,
    data text);
CREATE TABLE ExperimentProfile (params text, id text, execDuration integer, startTime integer, endTime integer,
    logDir text, nextSequenceId integer, revision integer);
CREATE TABLE SchemaVersion (version integer);
INSERT INTO SchemaVersion VALUES (1);
INSERT INTO TrialJobEvent VALUES (1, 'Ab123', 'RUNNING', NULL, NULL, 0, NULL, 'local-env');
INSERT INTO MetricData VALUES (2, 'Ab123', '0', 'PERIODICAL', 0, '"\\"0.5\\""');
"""


def test_a_version_1_store_is_migrated_in_place(tmp_path: Path):
    path = tmp_path / 'nni.sqlite'
    with sqlite3.connect(path) as db:
        db.executescript(V1_SCHEMA)
    store = ExperimentStore(path, create=False)
    assert SCHEMA_VERSION == 2 and store.schema_version() == 2
    [event] = store.trial_events()
    assert (event.trial_job_id, event.event) == ('Ab123', 'RUNNING')
    assert [row.sequence for row in store.metrics()] == [0]
    assert store.latest_attempts() == {}
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute('SELECT count(*) FROM SchemaVersion').fetchone()[0] == 1


def test_a_newer_store_is_refused(tmp_path: Path):
    path = tmp_path / 'nni.sqlite'
    ExperimentStore(path, create=True).close()
    with sqlite3.connect(path) as db:
        db.execute('UPDATE SchemaVersion SET version = 99')
    with pytest.raises(StoreError, match='schema version 99'):
        ExperimentStore(path, create=False)


def test_attempts_handles_and_their_event_commit_together(tmp_path: Path):
    store = ExperimentStore(tmp_path / 'nni.sqlite', create=True)
    store.save_attempt('T1', 0, 'starting', event=dict(trial_job_id='T1', event='WAITING', sequence_id=0))
    row = store.save_attempt('T1', 0, 'running', {'pid': 42, 'start_ticks': 7},
                             event=dict(trial_job_id='T1', event='RUNNING', sequence_id=0))
    assert row is not None and row.event == 'RUNNING'
    store.save_attempt('T2', 0, 'running', {'pid': 43})
    store.mark_attempts(['T1', 'T2', 'nosuch'], 'interrupted')
    store.save_attempt('T1', 1, 'starting')
    latest = store.latest_attempts()
    assert (latest['T1'].attempt, latest['T1'].state, latest['T1'].handle) == (1, 'starting', None)
    assert (latest['T2'].attempt, latest['T2'].state, latest['T2'].handle) == (0, 'interrupted', {'pid': 43})
    assert [event.event for event in store.trial_events()] == ['WAITING', 'RUNNING']
    with pytest.raises(ValueError, match='attempt state'):
        store.save_attempt('T1', 1, 'bogus')


def test_superseded_metrics_leave_metric_data_and_are_kept(tmp_path: Path):
    store = ExperimentStore(tmp_path / 'nni.sqlite', create=True)
    for sequence in range(3):
        store.add_metric('T1', '0', 'PERIODICAL', sequence, json.dumps(str(sequence)))
    store.add_metric('T1', '0', 'FINAL', 0, json.dumps('9'))
    store.add_metric('T2', '1', 'FINAL', 0, json.dumps('1'))
    assert store.supersede_metrics('T1', 0) == 4
    assert [row.trial_job_id for row in store.metrics()] == ['T2']
    kept = store.superseded_metrics('T1')
    assert [(attempt, row.type, row.sequence) for attempt, row in kept] == [
        (0, 'PERIODICAL', 0), (0, 'PERIODICAL', 1), (0, 'PERIODICAL', 2), (0, 'FINAL', 0)]
    # the next attempt starts from sequence 0 again without clashing with the old one
    store.add_metric('T1', '0', 'PERIODICAL', 0, json.dumps('new'))
    assert [(row.type, row.sequence) for row in store.metrics('T1')] == [('PERIODICAL', 0)]
