"""The experiment store: one SQLite file per experiment, the source of truth.

The schema is NNI's (``TrialJobEvent``, ``MetricData``, ``ExperimentProfile``) so that tools
reading ``db/nni.sqlite`` directly keep working, plus a ``SchemaVersion`` table of our own.
Every method that writes commits before it returns: the engine acknowledges an event only
after the store method for it has returned.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS TrialJobEvent (
    timestamp integer, trialJobId text, event text, data text,
    logPath text, sequenceId integer, message text, environmentId text);
CREATE INDEX IF NOT EXISTS TrialJobEvent_trialJobId ON TrialJobEvent(trialJobId);
CREATE INDEX IF NOT EXISTS TrialJobEvent_event ON TrialJobEvent(event);
CREATE TABLE IF NOT EXISTS MetricData (
    timestamp integer, trialJobId text, parameterId text, type text, sequence integer, data text);
CREATE INDEX IF NOT EXISTS MetricData_trialJobId ON MetricData(trialJobId);
CREATE INDEX IF NOT EXISTS MetricData_type ON MetricData(type);
CREATE TABLE IF NOT EXISTS ExperimentProfile (
    params text, id text, execDuration integer, startTime integer, endTime integer,
    logDir text, nextSequenceId integer, revision integer);
CREATE INDEX IF NOT EXISTS ExperimentProfile_id ON ExperimentProfile(id);
CREATE TABLE IF NOT EXISTS SchemaVersion (version integer);
"""

#: version 2: trial attempts (handles of running attempts, for reattach) and the metrics of
#: attempts a re-run superseded; both are tables of our own beside NNI's, which stay as they were
_SCHEMA_V2 = """
CREATE TABLE IF NOT EXISTS TrialAttempt (
    trialJobId text, attempt integer, state text, handle text, timestamp integer,
    PRIMARY KEY (trialJobId, attempt));
CREATE TABLE IF NOT EXISTS SupersededMetricData (
    timestamp integer, trialJobId text, parameterId text, type text, sequence integer, data text,
    attempt integer);
CREATE INDEX IF NOT EXISTS SupersededMetricData_trialJobId ON SupersededMetricData(trialJobId);
"""

#: states of a :class:`AttemptRow`
ATTEMPT_STATES = ('starting', 'running', 'interrupted', 'ended')


class StoreError(RuntimeError):
    """The database is missing, of an unknown schema version, or cannot be written."""


def now_ms() -> int:
    """Wall-clock time in integer milliseconds, the unit of every timestamp column."""
    return int(time.time() * 1000)


@dataclass(frozen=True)
class TrialEventRow:
    """One row of ``TrialJobEvent``."""

    timestamp: int
    trial_job_id: str
    event: str
    data: str | None
    log_path: str | None
    sequence_id: int | None
    message: str | None
    environment_id: str | None


@dataclass(frozen=True)
class MetricRow:
    """One row of ``MetricData``; ``data`` is the double-encoded metric as NNI stores it."""

    timestamp: int
    trial_job_id: str
    parameter_id: str | None
    type: str
    sequence: int
    data: str

    def to_rest(self) -> dict[str, Any]:
        """The ``MetricDataRecord`` JSON shape of the REST API."""
        return {
            'timestamp': self.timestamp,
            'trialJobId': self.trial_job_id,
            'parameterId': self.parameter_id,
            'type': self.type,
            'sequence': self.sequence,
            'data': self.data,
        }


@dataclass(frozen=True)
class AttemptRow:
    """One row of ``TrialAttempt``: an attempt of a trial and how a later manager finds it."""

    trial_job_id: str
    attempt: int
    #: ``starting`` (launch asked), ``running`` (handle known), ``interrupted`` (stopped by an
    #: experiment stop: run again on resume), ``ended``
    state: str
    handle: dict[str, Any] | None


class ExperimentStore:
    """SQLite-backed store of one experiment.

    Parameters
    ----------
    path
        The database file, ``<root>/db/nni.sqlite``.
    create
        Create the file and schema if missing. Resume and view pass ``False``: their database
        must already exist.
    """

    def __init__(self, path: Path, create: bool) -> None:
        self.path = path
        if not create and not path.exists():
            raise StoreError(f'database {path} does not exist: the experiment cannot be resumed or viewed')
        path.parent.mkdir(parents=True, exist_ok=True)
        # The engine is the only writer and runs on one thread; REST reads happen on that same
        # thread, so the default thread check would only get in the way of executor use.
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute('PRAGMA journal_mode=WAL')
        # NORMAL in WAL mode survives a killed process (the data reached the OS); only a power
        # loss could drop the last commits, which is the trade NNI's own store makes as well.
        self._db.execute('PRAGMA synchronous=NORMAL')
        self._db.executescript(_SCHEMA)
        row = self._db.execute('SELECT version FROM SchemaVersion').fetchone()
        if row is not None and row[0] > SCHEMA_VERSION:
            raise StoreError(f'database {path} has schema version {row[0]}, newer than this nni '
                             f'(version {SCHEMA_VERSION}); upgrade nni to open it')
        self._migrate(row[0] if row is not None else None)

    def _migrate(self, version: int | None) -> None:
        """Bring a new or older database to :data:`SCHEMA_VERSION` in one transaction."""
        if version == SCHEMA_VERSION:
            return
        with self._transaction():
            # version 1 -> 2 only adds tables: every v1 row keeps its meaning (attempt 0)
            for statement in _SCHEMA_V2.split(';'):
                if statement.strip():
                    self._db.execute(statement)
            if version is None:
                self._db.execute('INSERT INTO SchemaVersion VALUES (?)', (SCHEMA_VERSION,))
            else:
                self._db.execute('UPDATE SchemaVersion SET version = ?', (SCHEMA_VERSION,))

    def _transaction(self):  # type: ignore[no-untyped-def]
        import contextlib

        @contextlib.contextmanager
        def transaction():  # type: ignore[no-untyped-def]
            self._db.execute('BEGIN IMMEDIATE')
            try:
                yield
            except BaseException:
                self._db.execute('ROLLBACK')
                raise
            self._db.execute('COMMIT')

        return transaction()

    def schema_version(self) -> int:
        """The version recorded in the database."""
        return int(self._db.execute('SELECT version FROM SchemaVersion').fetchone()[0])

    def close(self) -> None:
        """Close the connection; later calls raise."""
        self._db.close()

    # profile -----------------------------------------------------------------------------

    def store_profile(self, profile: dict[str, Any]) -> None:
        """Append a new revision of the experiment profile."""
        self._db.execute(
            'INSERT INTO ExperimentProfile VALUES (?,?,?,?,?,?,?,?)',
            (json.dumps(profile['params']), profile['id'], profile['execDuration'],
             profile.get('startTime'), profile.get('endTime'), profile['logDir'],
             profile['nextSequenceId'], profile['revision']))

    def latest_profile(self) -> dict[str, Any] | None:
        """The newest profile revision, or ``None`` for an empty database."""
        row = self._db.execute(
            'SELECT params, id, execDuration, startTime, endTime, logDir, nextSequenceId, revision '
            'FROM ExperimentProfile ORDER BY revision DESC, rowid DESC LIMIT 1').fetchone()
        if row is None:
            return None
        profile: dict[str, Any] = {
            'params': json.loads(row[0]), 'id': row[1], 'execDuration': row[2] or 0,
            'logDir': row[5], 'nextSequenceId': row[6] or 0, 'revision': row[7] or 0,
        }
        if row[3] is not None:
            profile['startTime'] = row[3]
        if row[4] is not None:
            profile['endTime'] = row[4]
        return profile

    # trial events ------------------------------------------------------------------------

    def add_trial_event(self, trial_job_id: str, event: str, *, data: str | None = None,
                        log_path: str | None = None, sequence_id: int | None = None,
                        message: str | None = None, environment_id: str | None = None,
                        timestamp: int | None = None) -> TrialEventRow:
        """Append one trial event and commit it."""
        row = TrialEventRow(timestamp if timestamp is not None else now_ms(), trial_job_id, event, data,
                            log_path, sequence_id, message, environment_id)
        self._db.execute('INSERT INTO TrialJobEvent VALUES (?,?,?,?,?,?,?,?)',
                         (row.timestamp, row.trial_job_id, row.event, row.data, row.log_path,
                          row.sequence_id, row.message, row.environment_id))
        return row

    def trial_events(self) -> list[TrialEventRow]:
        """Every trial event in insertion order."""
        cursor = self._db.execute(
            'SELECT timestamp, trialJobId, event, data, logPath, sequenceId, message, environmentId '
            'FROM TrialJobEvent ORDER BY rowid')
        return [TrialEventRow(*row) for row in cursor]

    # metrics -----------------------------------------------------------------------------

    def add_metric(self, trial_job_id: str, parameter_id: str | None, metric_type: str, sequence: int,
                   data: str, timestamp: int | None = None) -> MetricRow:
        """Append one metric and commit it; ``data`` is already double-encoded."""
        row = MetricRow(timestamp if timestamp is not None else now_ms(), trial_job_id, parameter_id,
                        metric_type, sequence, data)
        self._db.execute('INSERT INTO MetricData VALUES (?,?,?,?,?,?)',
                         (row.timestamp, row.trial_job_id, row.parameter_id, row.type, row.sequence, row.data))
        return row

    def metrics(self, trial_job_id: str | None = None, metric_type: str | None = None) -> list[MetricRow]:
        """Metrics in insertion order, optionally of one trial and/or one type."""
        query = 'SELECT timestamp, trialJobId, parameterId, type, sequence, data FROM MetricData'
        clauses: list[str] = []
        args: list[Any] = []
        if trial_job_id is not None:
            clauses.append('trialJobId = ?')
            args.append(trial_job_id)
        if metric_type is not None:
            clauses.append('type = ?')
            args.append(metric_type)
        if clauses:
            query += ' WHERE ' + ' AND '.join(clauses)
        query += ' ORDER BY rowid'
        return [MetricRow(*row) for row in self._db.execute(query, args)]

    def metric_values_after(self, rowid: int, metric_type: str | None = None) -> list[tuple[int, str, int, str]]:
        """``(rowid, trialJobId, sequence, data)`` of metrics written after ``rowid``.

        Plain tuples rather than :class:`MetricRow`: the web portal follows the table incrementally
        and reads tens of thousands of rows at once, where building objects would dominate.
        """
        query = 'SELECT rowid, trialJobId, sequence, data FROM MetricData WHERE rowid > ?'
        args: list[Any] = [rowid]
        if metric_type is not None:
            query += ' AND type = ?'
            args.append(metric_type)
        query += ' ORDER BY rowid'
        return self._db.execute(query, args).fetchall()

    # trial attempts ----------------------------------------------------------------------

    def save_attempt(self, trial_job_id: str, attempt: int, state: str, handle: dict[str, Any] | None = None,
                     event: dict[str, Any] | None = None) -> TrialEventRow | None:
        """Record (or update) one attempt of a trial and commit it.

        ``event`` (keyword arguments of :meth:`add_trial_event`) is written in the same transaction,
        so an attempt's handle and the ``RUNNING`` event that acknowledges its start land together.
        """
        if state not in ATTEMPT_STATES:
            raise ValueError(f'attempt state must be one of {ATTEMPT_STATES}, got {state!r}')
        with self._transaction():
            if handle is None:
                updated = self._db.execute(
                    'UPDATE TrialAttempt SET state = ?, timestamp = ? WHERE trialJobId = ? AND attempt = ?',
                    (state, now_ms(), trial_job_id, attempt)).rowcount
                if not updated:
                    self._db.execute('INSERT INTO TrialAttempt VALUES (?,?,?,?,?)',
                                     (trial_job_id, attempt, state, None, now_ms()))
            else:
                self._db.execute('INSERT OR REPLACE INTO TrialAttempt VALUES (?,?,?,?,?)',
                                 (trial_job_id, attempt, state, json.dumps(handle), now_ms()))
            row = self.add_trial_event(**event) if event is not None else None
        return row

    def latest_attempts(self) -> dict[str, AttemptRow]:
        """The newest attempt of every trial that has one."""
        latest: dict[str, AttemptRow] = {}
        for trial_id, attempt, state, handle in self._db.execute(
                'SELECT trialJobId, attempt, state, handle FROM TrialAttempt ORDER BY trialJobId, attempt'):
            latest[trial_id] = AttemptRow(trial_id, attempt, state, json.loads(handle) if handle else None)
        return latest

    def mark_attempts(self, trial_job_ids: list[str], state: str) -> None:
        """Set the state of the newest attempt of each trial in one transaction."""
        latest = self.latest_attempts()
        with self._transaction():
            for trial_id in trial_job_ids:
                if trial_id in latest:
                    self._db.execute('UPDATE TrialAttempt SET state = ? WHERE trialJobId = ? AND attempt = ?',
                                     (state, trial_id, latest[trial_id].attempt))

    def supersede_metrics(self, trial_job_id: str, attempt: int) -> int:
        """Move the metrics of ``trial_job_id`` (those of its attempt ``attempt``) out of ``MetricData``.

        They stay in ``SupersededMetricData``; ``MetricData`` (what the REST API, the portal and the
        tuner see) keeps only the current attempt's. Returns how many rows moved.
        """
        with self._transaction():
            self._db.execute(
                'INSERT INTO SupersededMetricData SELECT timestamp, trialJobId, parameterId, type, sequence, data, ? '
                'FROM MetricData WHERE trialJobId = ? ORDER BY rowid', (attempt, trial_job_id))
            moved = self._db.execute('DELETE FROM MetricData WHERE trialJobId = ?', (trial_job_id,)).rowcount
        return moved

    def superseded_metrics(self, trial_job_id: str | None = None) -> list[tuple[int, MetricRow]]:
        """``(attempt, row)`` of superseded metrics, oldest first."""
        query = ('SELECT attempt, timestamp, trialJobId, parameterId, type, sequence, data FROM SupersededMetricData')
        args: list[Any] = []
        if trial_job_id is not None:
            query += ' WHERE trialJobId = ?'
            args.append(trial_job_id)
        return [(row[0], MetricRow(*row[1:])) for row in self._db.execute(query + ' ORDER BY rowid', args)]

    # change detection --------------------------------------------------------------------

    def change_marker(self) -> tuple[int, int]:
        """Highest row ids of ``TrialJobEvent`` and ``MetricData``.

        Rows are only ever appended, so the pair changes with every trial event or metric; reading it
        is two index look-ups, cheap enough for every poll of the web portal.
        """
        events = self._db.execute('SELECT max(rowid) FROM TrialJobEvent').fetchone()[0] or 0
        metrics = self._db.execute('SELECT max(rowid) FROM MetricData').fetchone()[0] or 0
        return events, metrics
