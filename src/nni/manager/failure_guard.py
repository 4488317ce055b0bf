"""
Failed trials made visible: counts, the first failure's reason, and an optional stop when trials keep failing.

NNI counts a run whose every trial failed as a success (status ``DONE``); the cause is only in each trial's
``trial.stderr``. The engine hands every finished trial to a :class:`FailureGuard`, which

* remembers the first ``FAILED`` trial with what explains it (exit code, manager's message, the last lines of
  its ``trial.stderr`` and where that file is), served as ``firstFailure`` by ``GET /summary`` and
  ``GET /check-status`` (fields beyond NNI: NNI's clients ignore them);
* counts trials that failed in a row, and when ``maxConsecutiveFailedTrials`` is set (off by default, as in
  NNI) returns the message that ends the experiment in ``ERROR`` once that many fail with no success between.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .trial_records import TrialRecord

__all__ = ['FailureGuard', 'halt', 'non_finite_warning', 'read_stderr_tail', 'status_counts']

#: Lines of ``trial.stderr`` kept as the failure's reason.
TAIL_LINES = 8

#: Bytes read from the end of ``trial.stderr`` (a traceback's last lines fit easily).
TAIL_BYTES = 4096

#: Config key of the guard (``ExperimentConfig.max_consecutive_failed_trials``).
LIMIT_KEY = 'maxConsecutiveFailedTrials'


def read_stderr_tail(path: Path, lines: int = TAIL_LINES) -> str:
    """
    The last non-empty lines of a trial's stderr file; ``''`` when missing or empty.

    Parameters
    ----------
    path
        The ``trial.stderr`` file.
    lines
        How many lines to keep.
    """
    try:
        with open(path, 'rb') as stream:
            stream.seek(0, 2)
            size = stream.tell()
            stream.seek(max(size - TAIL_BYTES, 0))
            data = stream.read()
    except OSError:
        return ''
    text = data.decode('utf-8', errors='replace')
    kept = [line.rstrip() for line in text.splitlines() if line.strip()]
    return '\n'.join(kept[-lines:])


def _exit_code(trial_dir: Path) -> int | None:
    from .training_service.base import read_exit_code

    return read_exit_code(trial_dir)


def status_counts(records: Iterable[TrialRecord]) -> dict[str, int]:
    """``{'succeeded': n, 'failed': n}`` over ``records`` (other final statuses are not failures)."""
    succeeded = failed = 0
    for record in records:
        if record.status == 'SUCCEEDED':
            succeeded += 1
        elif record.status == 'FAILED':
            failed += 1
    return {'succeeded': succeeded, 'failed': failed}


class FailureGuard:
    """
    Watches finished trials for failures.

    Parameters
    ----------
    trials
        The engine's trial records (read, never changed).
    params
        Returns the experiment's config (camelCase JSON), read for ``maxConsecutiveFailedTrials``: end the
        experiment after this many failures in a row (unset: never).
    """

    def __init__(self, trials: dict[str, TrialRecord] | None = None,
                 params: Callable[[], dict[str, Any]] | None = None) -> None:
        self._trials = trials if trials is not None else {}
        self._params = params or dict
        self.consecutive_failures = 0
        self._first: dict[str, Any] | None = None
        self._tripped = False
        self._exit_codes: dict[str, int | None] = {}
        self._rebuilt = False

    @property
    def limit(self) -> int | None:
        """``maxConsecutiveFailedTrials`` of the current config; ``None`` when off."""
        value = (self._params() or {}).get(LIMIT_KEY)
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None

    def _rebuild(self, skip: str | None = None) -> None:
        # Once, on first use: trials loaded from the store (resume, view) finished before this manager ran.
        if self._rebuilt:
            return
        self._rebuilt = True
        finished = sorted((r for r in self._trials.values()
                           if r.trial_job_id != skip and r.status in ('SUCCEEDED', 'FAILED')),
                          key=lambda r: r.end_time or 0)
        for record in finished:
            if record.status == 'FAILED':
                self.consecutive_failures += 1
                if self._first is None:
                    self._first = self._describe(record)
            else:
                self.consecutive_failures = 0

    def summary_fields(self) -> dict[str, Any]:
        """``succeeded``, ``failed`` and ``firstFailure`` for ``GET /summary``."""
        fields: dict[str, Any] = status_counts(self._trials.values())
        fields['firstFailure'] = self.first_failure
        return fields

    def note_exit(self, trial_id: str, exit_code: int | None) -> None:
        """Remember how a trial's process ended, for the :meth:`on_trial_finished` that follows."""
        self._exit_codes[trial_id] = exit_code

    def on_trial_finished(self, record: TrialRecord) -> str | None:
        """
        Note a trial that reached a final status.

        Returns
        -------
        str or None
            The reason to end the experiment in ``ERROR`` (once, when the limit is reached), else ``None``.
        """
        self._rebuild(skip=record.trial_job_id)
        exit_code = self._exit_codes.pop(record.trial_job_id, None)
        if record.status == 'SUCCEEDED':
            self.consecutive_failures = 0
            return None
        if record.status != 'FAILED':
            return None  # canceled or early-stopped trials say nothing about the trial code
        self.consecutive_failures += 1
        if self._first is None:
            self._first = self._describe(record)
            if exit_code is not None:
                self._first['exitCode'] = exit_code
        limit = self.limit
        if limit is None or self._tripped or self.consecutive_failures < limit:
            return None
        self._tripped = True
        reason = self._first.get('stderrTail') or self._first.get('message') or 'see its trial.stderr'
        return (f'{self.consecutive_failures} trials failed in a row ({LIMIT_KEY} is {limit}); the '
                f'experiment is stopped. Last trial failed: {record.trial_job_id}; first failure '
                f'({self._first["trialJobId"]}, {self._first.get("stderrPath") or "no stderr file"}):\n{reason}')

    @property
    def first_failure(self) -> dict[str, Any] | None:
        """
        The first failed trial: ``trialJobId``, ``exitCode``, ``message``, ``trialDir``, ``stderrPath``,
        ``stderrTail``; ``None`` while no trial failed.
        """
        self._rebuild()
        return dict(self._first) if self._first is not None else None

    @staticmethod
    def _describe(record: TrialRecord) -> dict[str, Any]:
        info: dict[str, Any] = {'trialJobId': record.trial_job_id, 'exitCode': None, 'message': record.message,
                                'trialDir': record.log_path, 'stderrPath': None, 'stderrTail': ''}
        if record.log_path:
            trial_dir = Path(record.log_path)
            stderr = trial_dir / 'trial.stderr'
            info['exitCode'] = _exit_code(trial_dir)
            if stderr.is_file():
                info['stderrPath'] = str(stderr)
                info['stderrTail'] = read_stderr_tail(stderr)
        return info


def non_finite_warning(trial_id: str, value: str) -> str | None:
    """
    The warning for a final metric that is NaN or infinite (NNI stores those silently); ``None`` when finite.

    Such a metric is stored and passed on as in NNI, but it can never be the best one: the user must hear
    about it, in the trial's ``trial.stderr`` and the manager's log.
    """
    import json
    import math

    try:
        decoded = json.loads(value)
    except ValueError:
        return None
    scalar = decoded.get('default') if isinstance(decoded, dict) else decoded
    if isinstance(scalar, bool) or not isinstance(scalar, float) or math.isfinite(scalar):
        return None
    return (f'nni: WARNING: trial {trial_id} reported a final metric that is not a finite number ({scalar}). '
            f'It is stored as NNI does, but it is never the best trial and a tuner may ignore it; check the '
            f'trial code (a division by zero, a diverged loss?).\n')


def halt(engine: Any, reason: str) -> None:
    """
    End ``engine``'s experiment because its trials keep failing: ``ERROR`` with ``reason``, running trials
    canceled (the data stays readable).
    """
    engine.critical_error(reason)
    loop = getattr(engine, '_loop', None)
    if loop is None:
        return
    for trial_id in list(getattr(engine, '_running', {})):
        loop.create_task(engine.kill_trial(trial_id))
