"""In-memory view of every trial, kept in step with the store's event rows.

NNI derives a trial's REST record by replaying its ``TrialJobEvent`` rows (spec/statuses.md
section 2). We apply the same rules row by row as rows are written, so answering
``GET /trial-jobs`` never replays the table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .store import MetricRow, TrialEventRow

TERMINAL_STATUSES = frozenset({'SUCCEEDED', 'FAILED', 'USER_CANCELED', 'SYS_CANCELED', 'EARLY_STOPPED'})
TRIAL_STATUSES = ('UNKNOWN', 'WAITING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'USER_CANCELED', 'SYS_CANCELED',
                  'EARLY_STOPPED')


def normalise_parameter_record(record: str) -> tuple[str, int]:
    """Make a stored hyper-parameter record acceptable to NNI's ``TrialHyperParameters``.

    NNI's Python client builds that class with exactly the keys ``parameter_id``,
    ``parameter_source``, ``parameters``, ``parameter_index`` (+ two optional ones), so a
    record missing ``parameter_index`` or carrying other keys would break it.

    Returns
    -------
    tuple
        The record text to serve, and its ``parameter_index`` (0 for unreadable records).
    """
    try:
        value = json.loads(record)
    except ValueError:
        return record, 0
    if not isinstance(value, dict):
        return record, 0
    allowed = ('parameter_id', 'parameter_source', 'parameters', 'parameter_index', 'placement_constraint',
               'version_info')
    cleaned = {key: value[key] for key in allowed if key in value}
    cleaned.setdefault('parameter_index', 0)
    cleaned.setdefault('parameter_id', None)
    cleaned.setdefault('parameter_source', 'algorithm')
    cleaned.setdefault('parameters', {})
    try:
        index = int(cleaned['parameter_index'] or 0)
    except (TypeError, ValueError):
        index = 0
    return (record if cleaned == value else json.dumps(cleaned)), index


@dataclass
class TrialRecord:
    """What the REST API tells about one trial."""

    trial_job_id: str
    status: str = 'UNKNOWN'
    sequence_id: int | None = None
    hyper_parameters: list[str] = field(default_factory=list)
    parameter_indexes: set[int] = field(default_factory=set)
    log_path: str | None = None
    submit_time: int | None = None
    start_time: int | None = None
    end_time: int | None = None
    message: str | None = None
    environment_id: str | None = None
    final_metric: MetricRow | None = None
    # search index: lower-cased parameter text, for server-side filtering
    parameter_text: str = ''
    # serialized to_rest() and the state it was made from: GET /trial-jobs of 10,000 trials
    # joins cached strings instead of encoding every record again
    _json_cache: tuple[tuple[Any, ...], str] | None = field(default=None, repr=False, compare=False)
    # machine that ran a trial of a multi-machine platform, from <logPath>/.nni/machine
    _machine: str | None = field(default=None, repr=False, compare=False)

    @property
    def first_parameter_record(self) -> str | None:
        return self.hyper_parameters[0] if self.hyper_parameters else None

    def parameters(self) -> Any:
        """The ``parameters`` of the first record, decoded."""
        record = self.first_parameter_record
        if record is None:
            return None
        try:
            return json.loads(record).get('parameters')
        except (ValueError, AttributeError):
            return None

    def apply(self, row: TrialEventRow) -> None:
        """Fold one event row into the record (NNI's replay rules)."""
        event = row.event
        if event == 'USER_TO_CANCEL':
            self.status = 'USER_CANCELED'
        elif event == 'ADD_CUSTOMIZED':
            self.status = 'WAITING'
        elif event != 'ADD_HYPERPARAMETER':
            self.status = event
        if event == 'WAITING' and self.submit_time is None:
            self.submit_time = row.timestamp
        if event == 'RUNNING':
            self.start_time = row.timestamp
            self.end_time = None
        if event in ('WAITING', 'ADD_RESUMED'):
            self.end_time = None
        if event in TERMINAL_STATUSES:
            self.end_time = row.timestamp
        if row.log_path:
            self.log_path = row.log_path
        if self.sequence_id is None and row.sequence_id is not None:
            self.sequence_id = row.sequence_id
        self.message = row.message
        if row.environment_id:
            self.environment_id = row.environment_id
        if row.data and event in ('WAITING', 'RUNNING', 'ADD_HYPERPARAMETER', 'ADD_CUSTOMIZED'):
            record, index = normalise_parameter_record(row.data)
            if index not in self.parameter_indexes:
                self.parameter_indexes.add(index)
                self.hyper_parameters.append(record)
                self.parameter_text = ' '.join(self.hyper_parameters).lower()

    def to_json(self) -> str:
        """:meth:`to_rest` as JSON text, cached until the record changes."""
        key = (self.status, len(self.hyper_parameters), self.sequence_id, self.log_path, self.submit_time,
               self.start_time, self.end_time, self.message, self.environment_id, id(self.final_metric))
        if self._json_cache is None or self._json_cache[0] != key:
            self._json_cache = (key, json.dumps(self.to_rest(), separators=(',', ':')))
        return self._json_cache[1]

    def to_rest(self) -> dict[str, Any]:
        """The ``TrialJobInfo`` JSON shape."""
        info: dict[str, Any] = {
            'trialJobId': self.trial_job_id,
            'status': self.status,
            'hyperParameters': list(self.hyper_parameters),
        }
        if self.sequence_id is not None:
            info['sequenceId'] = self.sequence_id
        if self.log_path:
            info['logPath'] = self.log_path
        start = self.start_time if self.start_time is not None else (
            self.submit_time if self.submit_time is not None else self.end_time)
        if start is not None:
            info['startTime'] = start
        if self.end_time is not None:
            info['endTime'] = self.end_time
        if self.status == 'SUCCEEDED' and self.final_metric is not None:
            info['finalMetricData'] = [self.final_metric.to_rest()]
        if self.status == 'FAILED' and self.log_path:
            info['stderrPath'] = self.log_path.rstrip('/') + '/stderr'
        if self.message:
            info['message'] = self.message
        if self.environment_id:
            info['envId'] = self.environment_id
        machine = self.machine()
        if machine:
            info['machine'] = machine
        return info

    def machine(self) -> str | None:
        """``user@host:port`` of the machine that ran the trial (remote platform; REST field ``machine``).

        The remote training service writes it to ``<logPath>/.nni/machine`` when it starts the trial.
        """
        if self._machine is None and self.log_path and self.environment_id not in (None, 'local-env'):
            try:
                self._machine = (Path(self.log_path) / '.nni' / 'machine').read_text(encoding='utf-8').strip() or None
            except (OSError, UnicodeDecodeError):
                pass
        return self._machine
