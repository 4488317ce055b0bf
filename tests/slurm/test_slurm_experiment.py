"""Experiments on the real single-node Slurm cluster, through the public API and a real manager.

The time-limit test needs a job to outlive Slurm's smallest limit (one minute, enforced on
slurmctld's 30 s check): its experiment starts with the module and is checked by the last test,
so the wait overlaps the other tests.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.fixture_helpers import assert_metrics_came_through_files

from .conftest import free_port, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.slurm]


def _statuses(experiment: Any) -> dict[str, str]:
    return {trial.trialJobId: trial.status for trial in experiment.list_trial_jobs()}


def _job_states(experiment_id: str) -> dict[str, str]:
    out = subprocess.run(['squeue', '-h', '-t', 'all', f'--name=nni-{experiment_id}', '-o', '%i|%T'],
                         capture_output=True, text=True, check=True).stdout
    return dict(line.split('|', 1) for line in out.split())


@pytest.fixture(scope='module', autouse=True)
def time_limited(slurm_experiments) -> Any:
    """An experiment whose only trial outlives its one-minute Slurm time limit (checked last)."""
    experiment = slurm_experiments({'x': {'_type': 'choice', '_value': [1]}, 'sleep': {'_type': 'choice',
                                                                                     '_value': [600]}},
                                   service={'time_limit': '1m'}, trial_concurrency=1, max_trial_number=1)
    experiment.start(free_port())
    return experiment


def test_experiment_runs_to_done_on_slurm(slurm_experiments) -> None:
    experiment = slurm_experiments(trial_concurrency=2, max_trial_number=4)
    assert experiment.run(free_port()) is True
    assert experiment.get_status() == 'DONE'
    trials = experiment.list_trial_jobs()
    assert len(trials) == 4 and {trial.status for trial in trials} == {'SUCCEEDED'}
    results = experiment.export_data()
    assert sorted(result.value for result in results) == sorted(result.parameter['x'] * 10 for result in results)
    metrics = experiment.get_job_metrics()
    jobs = _job_states(experiment.id)
    for trial in trials:
        kinds = sorted((metric.type, metric.sequence) for metric in metrics[trial.trialJobId])
        assert kinds == [('FINAL', 0), ('PERIODICAL', 0), ('PERIODICAL', 1), ('PERIODICAL', 2)]
        trial_dir = Path(trial.logPath)
        assert trial_dir.parent.name == 'trials' and trial_dir.name == trial.trialJobId
        job_id = (trial_dir / 'trial.stdout').read_text().split('Slurm job ')[1].strip()
        assert jobs[job_id] == 'COMPLETED'  # really ran as that Slurm job
        assert not (trial_dir / '.nni' / 'metrics').exists()  # sent over HTTP: the manager was reachable
    assert len(jobs) == 4


def test_metrics_through_the_shared_folder_when_the_manager_is_unreachable(slurm_experiments) -> None:
    experiment = slurm_experiments(service={'metrics_channel': 'file'}, trial_concurrency=2, max_trial_number=2)
    assert experiment.run(free_port()) is True
    assert_metrics_came_through_files(experiment)
    results = experiment.export_data()
    assert len(results) == 2 and all(result.value == result.parameter['x'] * 10 for result in results)


def test_kill_a_trial_from_the_api(slurm_experiments) -> None:
    space = {'x': {'_type': 'choice', '_value': [2]}, 'sleep': {'_type': 'choice', '_value': [120]}}
    experiment = slurm_experiments(space, trial_concurrency=1, max_trial_number=1)
    experiment.start(free_port())
    trial = wait_for(lambda: [t for t in experiment.list_trial_jobs() if t.status == 'RUNNING'], timeout=60)[0]
    wait_for(lambda: list(_job_states(experiment.id).values()) == ['RUNNING'], timeout=60)
    experiment.kill_trial_job(trial.trialJobId)
    wait_for(lambda: experiment.get_trial_job(trial.trialJobId).status == 'USER_CANCELED', timeout=60)
    assert list(_job_states(experiment.id).values()) == ['CANCELLED']
    wait_for(lambda: experiment.get_status() == 'DONE', timeout=30)


def test_unknown_partition_stops_the_experiment_before_any_trial(slurm_experiments) -> None:
    from nni.experiment import rest

    experiment = slurm_experiments(service={'partition': 'no-such-partition'})
    experiment.start(free_port())
    wait_for(lambda: experiment.get_status() == 'ERROR', timeout=30)
    errors = rest.get(experiment.port, '/check-status')['errors']
    assert any("Slurm has no partition 'no-such-partition'" in error for error in errors), errors
    assert experiment.list_trial_jobs() == []
    assert _job_states(experiment.id) == {}


def test_manager_killed_mid_run_resumes_with_nothing_lost_or_run_twice(slurm_experiments, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from nni.experiment import Experiment

    marks = tmp_path / 'runs'
    marks.mkdir()
    monkeypatch.setenv('SLURM_TEST_MARK', str(marks))  # the jobs inherit it through sbatch
    space = {'x': {'_type': 'randint', '_value': [0, 1000]}, 'sleep': {'_type': 'choice', '_value': [6]}}
    experiment = slurm_experiments(space, trial_concurrency=2, max_trial_number=4)
    experiment.start(free_port())
    running = wait_for(lambda: [t.trialJobId for t in experiment.list_trial_jobs() if t.status == 'RUNNING']
                       if len(experiment.list_trial_jobs()) == 2 else None, timeout=60)
    wait_for(lambda: len(list(marks.iterdir())) == 2, timeout=60)  # both trials really started
    manager = experiment._proc.pid
    os.kill(manager, signal.SIGKILL)
    wait_for(lambda: _dead(manager), timeout=10)
    experiment.port = None
    experiment._proc = None
    assert 'RUNNING' in _job_states(experiment.id).values()  # the jobs outlive their manager

    resumed = Experiment(None, id=experiment.id)
    assert resumed.resume(free_port()) is True
    try:
        trials = resumed.list_trial_jobs()
        assert len(trials) == 4 and {trial.status for trial in trials} == {'SUCCEEDED'}
        assert set(running) <= {trial.trialJobId for trial in trials}
        runs = sorted(path.name.split('.')[0] for path in marks.iterdir())
        assert runs == sorted(trial.trialJobId for trial in trials)  # every trial ran exactly once
        assert len(_job_states(experiment.id)) == 4  # and was submitted once
        metrics = resumed.get_job_metrics()
        for trial in trials:
            kinds = sorted((metric.type, metric.sequence) for metric in metrics[trial.trialJobId])
            assert kinds == [('FINAL', 0), ('PERIODICAL', 0), ('PERIODICAL', 1), ('PERIODICAL', 2)]
        assert len(resumed.export_data()) == 4
    finally:
        resumed.stop()


def test_manager_outside_the_cluster_goes_through_the_login_host(slurm_experiments, slurm_login_host,
                                                                  tmp_path: Path) -> None:
    cluster_folder = tmp_path / 'cluster-shared'  # "on the cluster": only the login host writes there
    experiment = slurm_experiments(service={'login_host': slurm_login_host, 'shared_directory': str(cluster_folder)},
                                   trial_concurrency=2, max_trial_number=3)
    assert experiment.run(free_port()) is True
    trials = experiment.list_trial_jobs()
    assert len(trials) == 3 and {trial.status for trial in trials} == {'SUCCEEDED'}
    results = experiment.export_data()
    assert sorted(result.value for result in results) == sorted(result.parameter['x'] * 10 for result in results)
    assert (cluster_folder / experiment.id / 'code' / 'trial.py').is_file()  # the code went up once
    for trial in trials:
        remote = cluster_folder / experiment.id / 'trials' / trial.trialJobId
        local = Path(trial.logPath)
        assert local != remote and local.is_dir()
        # no manager address known to the compute nodes: metrics went through the shared folder,
        # and the files came back over SSH when the trial ended
        assert (remote / '.nni' / 'metrics').is_file()
        assert (local / '.nni' / 'metrics').read_bytes() == (remote / '.nni' / 'metrics').read_bytes()
        assert (local / 'trial.stdout').read_text().startswith('final ')
        kinds = sorted((metric.type, metric.sequence) for metric in experiment.get_job_metrics()[trial.trialJobId])
        assert kinds == [('FINAL', 0), ('PERIODICAL', 0), ('PERIODICAL', 1), ('PERIODICAL', 2)]


def _dead(pid: int) -> bool:
    try:
        with open(f'/proc/{pid}/stat') as handle:
            return handle.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except OSError:
        return True


def test_job_hitting_its_time_limit_fails_with_the_reason(time_limited) -> None:
    experiment = time_limited
    [trial] = wait_for(lambda: [t for t in experiment.list_trial_jobs() if t.status == 'FAILED'], timeout=180)
    assert 'time limit' in (trial.message or '')
    stderr = (Path(trial.logPath) / 'trial.stderr').read_text()
    assert 'DUE TO TIME LIMIT' in stderr  # Slurm's own line
    assert 'hit its time limit (timeLimit 1m)' in stderr  # and ours
    assert list(_job_states(experiment.id).values()) == ['TIMEOUT']
