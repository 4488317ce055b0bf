"""Failure tracking of the manager (failure_guard.py): counts, first failure, the consecutive-failure stop."""

from __future__ import annotations

from pathlib import Path

from nni.manager.failure_guard import FailureGuard, non_finite_warning, read_stderr_tail
from nni.manager.trial_records import TrialRecord


def _record(trial_id: str, status: str, log_path: Path | None = None, end: int = 0) -> TrialRecord:
    return TrialRecord(trial_id, status=status, log_path=str(log_path) if log_path else None, end_time=end)


def test_first_failure_has_exit_code_and_stderr_tail(tmp_path: Path):
    trial_dir = tmp_path / 'a'
    trial_dir.mkdir()
    (trial_dir / 'trial.stderr').write_text('\n'.join(f'line {i}' for i in range(20)) + '\n\n')
    trials: dict[str, TrialRecord] = {}
    guard = FailureGuard(trials, dict)
    trials['a'] = _record('a', 'FAILED', trial_dir)
    guard.note_exit('a', 2)
    assert guard.on_trial_finished(trials['a']) is None  # no limit: never stops
    first = guard.first_failure
    assert first is not None
    assert (first['trialJobId'], first['exitCode'], first['stderrPath']) == ('a', 2, str(trial_dir / 'trial.stderr'))
    assert first['stderrTail'].splitlines() == [f'line {i}' for i in range(12, 20)]
    trials['b'] = _record('b', 'SUCCEEDED')
    guard.on_trial_finished(trials['b'])
    assert guard.summary_fields() == {'succeeded': 1, 'failed': 1, 'firstFailure': first}


def test_limit_counts_failures_in_a_row_only():
    trials: dict[str, TrialRecord] = {}
    params = {'maxConsecutiveFailedTrials': 2}
    guard = FailureGuard(trials, lambda: params)
    outcomes = []
    for index, status in enumerate(['FAILED', 'SUCCEEDED', 'FAILED', 'USER_CANCELED', 'FAILED', 'FAILED']):
        trials[str(index)] = _record(str(index), status)
        outcomes.append(guard.on_trial_finished(trials[str(index)]))
    # a success resets the streak, a cancel neither counts nor resets; the stop is said once
    assert outcomes[:4] == [None, None, None, None]
    assert outcomes[4] is not None and 'maxConsecutiveFailedTrials is 2' in outcomes[4]
    assert outcomes[5] is None


def test_resumed_experiment_rebuilds_the_first_failure_from_stored_trials():
    trials = {'x': _record('x', 'SUCCEEDED', end=1), 'y': _record('y', 'FAILED', end=2)}
    guard = FailureGuard(trials, lambda: {'maxConsecutiveFailedTrials': 2})
    assert guard.first_failure['trialJobId'] == 'y'
    trials['z'] = _record('z', 'FAILED', end=3)
    assert guard.on_trial_finished(trials['z']) is not None  # y and z: two in a row


def test_bad_limits_are_off():
    for value in (None, 0, -1, True, '3'):
        assert FailureGuard({}, lambda value=value: {'maxConsecutiveFailedTrials': value}).limit is None


def test_non_finite_final_metric_warning():
    assert 'not a finite number (nan)' in non_finite_warning('t1', 'NaN')
    assert 'not a finite number (inf)' in non_finite_warning('t1', '{"default": Infinity}')
    assert non_finite_warning('t1', '0.5') is None and non_finite_warning('t1', '"x"') is None


def test_stderr_tail_of_a_missing_file_is_empty(tmp_path: Path):
    assert read_stderr_tail(tmp_path / 'nope') == ''
