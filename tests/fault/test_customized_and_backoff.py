"""Customized trials survive a manager kill; launch errors back off instead of failing trials; folders are private."""

from __future__ import annotations

import shutil
import stat
import sys

import pytest

from nni.experiment import rest

from .conftest import (
    TRIAL_CODE,
    make_config,
    open_store,
    processes_of_experiment,
    resume_detached,
    sigkill_manager,
    start_detached,
    wait_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.fault]


def test_a_customized_trial_survives_a_manager_sigkill_and_its_sequence_id_is_not_reused(
        workdir, monkeypatch, cleanup_experiments):
    monkeypatch.setenv('FAULT_STEPS', '2')
    monkeypatch.setenv('FAULT_STEP_S', '2')
    experiment = start_detached(make_config(workdir, trials=3, concurrency=1))
    cleanup_experiments.append(experiment.id)
    # the one slot is busy: the customized trial waits in the queue when the manager dies
    wait_for(lambda: [t for t in experiment.list_trial_jobs() if t.status == 'RUNNING'], timeout=30)
    answer = rest.post(experiment.port, '/trial-jobs', {'x': 777}, token=_token(workdir, experiment.id))
    first_sequence = answer['sequenceId']
    sigkill_manager(experiment)
    monkeypatch.setenv('FAULT_STEP_S', '0.01')
    resumed = resume_detached(experiment.id)
    try:
        second = rest.post(resumed.port, '/trial-jobs', {'x': 778}, token=_token(workdir, experiment.id))
        assert second['sequenceId'] > first_sequence
        wait_for(lambda: resumed.get_status() == 'DONE', timeout=60)
        trials = resumed.list_trial_jobs()
        sequences = [trial.sequenceId for trial in trials]
        assert len(sequences) == len(set(sequences)), sequences
        custom = [trial for trial in trials if trial.hyperParameters[0].parameters == {'x': 777}]
        assert len(custom) == 1 and custom[0].sequenceId == first_sequence and custom[0].status == 'SUCCEEDED'
    finally:
        resumed.stop()


def _token(workdir, experiment_id):
    return (workdir / experiment_id / 'db' / 'token').read_text().strip()


def test_launch_errors_pause_scheduling_and_show_the_cause(workdir, tmp_path, monkeypatch, cleanup_experiments):
    code = tmp_path / 'code'
    shutil.copytree(TRIAL_CODE, code)
    monkeypatch.setenv('FAULT_STEPS', '1')
    monkeypatch.setenv('FAULT_STEP_S', '2')
    config = make_config(workdir, trials=3, concurrency=1, command=f'{sys.executable} fault_trial.py')
    config.trial_code_directory = code
    config.tuner.code_directory = TRIAL_CODE
    experiment = start_detached(config)
    cleanup_experiments.append(experiment.id)
    try:
        # the first trial has read its script (it journals its first metric) before its folder goes
        trials_root = workdir / experiment.id / 'environments' / 'local-env' / 'trials'
        wait_for(lambda: list(trials_root.glob('*/journal-*')), timeout=30)
        moved = tmp_path / 'code-away'
        code.rename(moved)  # the running trial keeps its cwd; the next launches fail

        def launch_error() -> str | None:
            errors = rest.get(experiment.port, '/check-status').get('errors') or []
            return next((error for error in errors if 'cannot be launched' in error), None)

        message = wait_for(launch_error, timeout=60)
        assert 'does not exist' in message
        wait_for(lambda: 'launching paused' in (launch_error() or ''), timeout=60)
        statuses = [trial.status for trial in experiment.list_trial_jobs()]
        assert 'FAILED' not in statuses, statuses
        moved.rename(code)
        wait_for(lambda: experiment.get_status() == 'DONE', timeout=90)
        assert {trial.status for trial in experiment.list_trial_jobs()} == {'SUCCEEDED'}
        assert launch_error() is None
        root = workdir / experiment.id
        assert stat.S_IMODE(root.stat().st_mode) == 0o700
        assert stat.S_IMODE((root / 'db' / 'nni.sqlite').stat().st_mode) == 0o600
        assert stat.S_IMODE((root / 'log' / 'nnimanager.log').stat().st_mode) == 0o600
        trial_dirs = list((root / 'environments' / 'local-env' / 'trials').iterdir())
        assert trial_dirs and all(stat.S_IMODE(path.stat().st_mode) == 0o700 for path in trial_dirs)
    finally:
        experiment.stop()
    wait_for(lambda: not processes_of_experiment(experiment.id), timeout=20)
    with open_store(workdir, experiment.id) as db:
        assert db.execute("SELECT count(*) FROM TrialJobEvent WHERE event = 'FAILED'").fetchone()[0] == 0
