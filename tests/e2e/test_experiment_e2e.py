"""End-to-end: the Experiment API starts a real manager that runs real trial processes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from tests.fixture_helpers import assert_metrics_came_through_files

from .conftest import free_port, processes_with_tag, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def _metric(parameters: dict) -> int:
    return parameters['x'] * 10 + parameters['y']


def _statuses(experiment) -> dict[str, str]:
    return {trial.trialJobId: trial.status for trial in experiment.list_trial_jobs()}


def test_tpe_experiment_runs_to_done_with_correct_metrics(make_experiment):
    experiment = make_experiment(max_trial_number=10)
    experiment.config.tuner.name = 'TPE'
    experiment.config.tuner.class_args['optimize_mode'] = 'maximize'
    assert experiment.run(free_port()) is True
    assert experiment.get_status() == 'DONE'

    trials = experiment.list_trial_jobs()
    assert len(trials) == 10
    assert {trial.status for trial in trials} == {'SUCCEEDED'}
    assert sorted(trial.sequenceId for trial in trials) == list(range(10))

    results = experiment.export_data()
    assert len(results) == 10
    for result in results:
        assert result.value == _metric(result.parameter)

    metrics = experiment.get_job_metrics()
    for trial in trials:
        kinds = [(metric.type, metric.sequence) for metric in metrics[trial.trialJobId]]
        assert kinds.count(('FINAL', 0)) == 1
        assert [seq for kind, seq in kinds if kind == 'PERIODICAL'] == [0, 1, 2]
    statistics = experiment.get_job_statistics()
    assert statistics == [{'trialJobStatus': 'SUCCEEDED', 'trialJobNumber': 10}]


def test_kill_trial_job(make_experiment):
    space = {'x': {'_type': 'choice', '_value': [1]}, 'y': {'_type': 'choice', '_value': [1]},
             'sleep': {'_type': 'choice', '_value': [60]}}
    experiment = make_experiment(space, trial_concurrency=1, max_trial_number=1)
    experiment.start(free_port())
    trial = wait_for(lambda: [t for t in experiment.list_trial_jobs() if t.status == 'RUNNING'])[0]
    experiment.kill_trial_job(trial.trialJobId)
    wait_for(lambda: experiment.get_trial_job(trial.trialJobId).status == 'USER_CANCELED', timeout=20)
    assert wait_for(lambda: experiment.get_status() == 'DONE', timeout=20)


def test_live_update_of_concurrency_and_max_trials(make_experiment):
    space = {'x': {'_type': 'randint', '_value': [0, 10]}, 'y': {'_type': 'choice', '_value': [0]},
             'sleep': {'_type': 'choice', '_value': [3]}}
    experiment = make_experiment(space, trial_concurrency=1, max_trial_number=2)
    experiment.start(free_port())
    wait_for(lambda: list(_statuses(experiment).values()).count('RUNNING') == 1)
    experiment.update_trial_concurrency(3)
    experiment.update_max_trial_number(5)
    assert experiment.get_experiment_profile()['params']['trialConcurrency'] == 3
    wait_for(lambda: list(_statuses(experiment).values()).count('RUNNING') == 3, timeout=30)
    wait_for(lambda: experiment.get_status() == 'DONE', timeout=60)
    statuses = _statuses(experiment)
    assert len(statuses) == 5
    assert set(statuses.values()) == {'SUCCEEDED'}


def test_max_trial_duration_stops_long_trials(make_experiment):
    space = {'x': {'_type': 'choice', '_value': [2]}, 'y': {'_type': 'choice', '_value': [0]},
             'sleep': {'_type': 'choice', '_value': [60]}}
    experiment = make_experiment(space, trial_concurrency=1, max_trial_number=1, max_trial_duration='2s')
    started = time.monotonic()
    assert experiment.run(free_port()) is True
    assert time.monotonic() - started < 30
    [trial] = experiment.list_trial_jobs()
    assert trial.status == 'EARLY_STOPPED'
    # the intermediate result reported before the kill is kept
    assert experiment.get_job_metrics(trial.trialJobId)[trial.trialJobId][0].data == 20


def test_crashing_trial_and_bad_metric_fail_without_stopping_the_experiment(make_experiment, workdir):
    space = {'x': {'_type': 'choice', '_value': [1]}, 'y': {'_type': 'choice', '_value': [2]},
             'behaviour': {'_type': 'choice', '_value': ['crash', 'bad_metric', 'normal']}}
    experiment = make_experiment(space, trial_concurrency=3, max_trial_number=9)
    assert experiment.run(free_port()) is True
    by_behaviour: dict[str, set[str]] = {}
    for trial in experiment.list_trial_jobs():
        behaviour = trial.hyperParameters[0].parameters['behaviour']
        by_behaviour.setdefault(behaviour, set()).add(trial.status)
    assert by_behaviour.get('crash', {'FAILED'}) == {'FAILED'}
    assert by_behaviour.get('bad_metric', {'FAILED'}) == {'FAILED'}
    assert by_behaviour.get('normal', {'SUCCEEDED'}) == {'SUCCEEDED'}
    for trial in experiment.list_trial_jobs():
        behaviour = trial.hyperParameters[0].parameters['behaviour']
        stderr = (Path(trial.logPath) / 'trial.stderr').read_text()
        if behaviour == 'crash':
            assert 'trial crashed on purpose' in stderr
        if behaviour == 'bad_metric':
            assert 'not a number' in stderr
            assert 'default' in stderr  # the message says what is allowed


def test_stop_then_resume_continues_where_it_was(make_experiment, workdir):
    space = {'x': {'_type': 'randint', '_value': [0, 10]}, 'y': {'_type': 'choice', '_value': [0, 1]},
             'sleep': {'_type': 'choice', '_value': [0.6]}}
    experiment = make_experiment(space, trial_concurrency=2, max_trial_number=6)
    experiment.config.tuner.name = 'TPE'
    port = free_port()
    experiment.start(port)
    wait_for(lambda: list(_statuses(experiment).values()).count('SUCCEEDED') >= 2, timeout=60)
    experiment.stop()
    exp_id = experiment.id

    from nni.experiment import Experiment

    resumed = Experiment(None, id=exp_id)
    assert resumed.has_checkpoint()
    assert resumed.resume(free_port()) is True
    try:
        trials = resumed.list_trial_jobs()
        assert len(trials) == 6
        assert {trial.status for trial in trials} == {'SUCCEEDED'}
        assert sorted(trial.sequenceId for trial in trials) == list(range(6))
        results = resumed.export_data()
        assert len(results) == 6 and all(r.value == _metric(r.parameter) for r in results)
        # the resumed tuner got the earlier results as history before suggesting
        dispatcher_log = (workdir / exp_id / 'log' / 'dispatcher.log').read_text()
        assert 'import' in dispatcher_log.lower() or 'history' in dispatcher_log.lower()
    finally:
        resumed.stop()


def test_sigkill_manager_then_resume_loses_nothing(make_experiment, workdir):
    space = {'x': {'_type': 'randint', '_value': [0, 10]}, 'y': {'_type': 'choice', '_value': [0, 1]},
             'sleep': {'_type': 'choice', '_value': [0.9]}}
    experiment = make_experiment(space, trial_concurrency=2, max_trial_number=6)
    experiment.start(free_port())
    wait_for(lambda: list(_statuses(experiment).values()).count('SUCCEEDED') >= 3, timeout=60)
    before = {t.trialJobId: t.status for t in experiment.list_trial_jobs()}
    metrics_before = {key: [(m.type, m.sequence, m.data) for m in value]
                      for key, value in experiment.get_job_metrics().items()}
    manager_pid = experiment._proc.pid
    os.kill(manager_pid, signal.SIGKILL)
    wait_for(lambda: not _alive(manager_pid), timeout=10)
    experiment.port = None
    experiment._proc = None

    from nni.experiment import Experiment

    resumed = Experiment(None, id=experiment.id)
    assert resumed.resume(free_port()) is True
    try:
        after = {t.trialJobId: t.status for t in resumed.list_trial_jobs()}
        for trial_id, status in before.items():
            if status == 'SUCCEEDED':
                assert after[trial_id] == 'SUCCEEDED'
        metrics_after = resumed.get_job_metrics()
        for trial_id, rows in metrics_before.items():
            if before[trial_id] == 'SUCCEEDED':
                assert [(m.type, m.sequence, m.data) for m in metrics_after[trial_id]] == rows
        assert len(after) == 6 and set(after.values()) == {'SUCCEEDED'}
    finally:
        resumed.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f'/proc/{pid}/stat') as handle:
            return handle.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError:
        return False


def test_no_orphan_processes_after_stop(make_experiment, monkeypatch):
    tag = f'nni-orphan-check-{os.getpid()}-{time.time_ns()}'
    monkeypatch.setenv('TRIAL_CHILD_TAG', tag)
    monkeypatch.setenv('TRIAL_SPAWN_CHILD', '1')
    monkeypatch.setenv('TRIAL_SLEEP', '60')
    experiment = make_experiment(trial_concurrency=2, max_trial_number=4)
    experiment.start(free_port())
    wait_for(lambda: len(processes_with_tag(tag)) == 2, timeout=30)
    manager_pid = experiment._proc.pid
    experiment.stop()
    assert not _alive(manager_pid)
    wait_for(lambda: not processes_with_tag(tag), timeout=15)


def test_bad_config_is_refused_before_anything_starts(make_experiment, workdir):
    from nni.experiment.config import ConfigError

    experiment = make_experiment(trial_concurrency=0)
    experiment.config.search_space = {'x': {'_type': 'uniform', '_value': [5, 1]}}
    with pytest.raises(ConfigError) as caught:
        experiment.start(free_port())
    message = str(caught.value)
    assert 'trialConcurrency' in message
    assert 'x' in message and 'uniform' in message
    assert experiment._proc is None
    assert not (workdir / experiment.id / 'db').exists()


def test_store_layout_matches_nni(make_experiment, workdir, nni_home):
    experiment = make_experiment(max_trial_number=2)
    assert experiment.run(free_port()) is True
    root = workdir / experiment.id
    for folder in ('db', 'log', 'checkpoint'):
        assert (root / folder).is_dir()
    assert (root / 'log' / 'nnimanager.log').is_file()
    [trial, *_] = experiment.list_trial_jobs()
    trial_dir = Path(trial.logPath)
    assert trial_dir.parent == root / 'environments' / 'local-env' / 'trials'
    assert (trial_dir / 'trial.stdout').read_text().startswith('final metric')
    with sqlite3.connect(root / 'db' / 'nni.sqlite') as db:
        params = db.execute('select params from ExperimentProfile where id=? order by revision DESC',
                            (experiment.id,)).fetchone()[0]
    assert json.loads(params)['maxTrialNumber'] == 2
    manifest = json.loads((nni_home / '.experiment').read_text())
    assert manifest[experiment.id]['status'] == 'DONE'


def test_metrics_reach_the_store_through_the_fallback_file(make_experiment):
    """A trial that cannot reach the manager writes its metrics to a file the manager collects."""
    experiment = make_experiment(max_trial_number=2)
    experiment.config.trial_command = (
        f'NNI_TRIAL_COMMAND_CHANNEL=http://127.0.0.1:9/env/local-env/x {experiment.config.trial_command}')
    assert experiment.run(free_port()) is True
    assert_metrics_came_through_files(experiment)
    results = experiment.export_data()
    assert len(results) == 2 and all(r.value == _metric(r.parameter) for r in results)
    metrics = experiment.get_job_metrics()
    assert all(len(rows) == 4 for rows in metrics.values())


def test_view_and_connect(make_experiment):
    from nni.experiment import Experiment

    experiment = make_experiment(max_trial_number=2)
    assert experiment.run(free_port()) is True
    exported = sorted(r.trialJobId for r in experiment.export_data())
    experiment.stop()

    viewer = Experiment(None, id=experiment.id)
    port = free_port()
    viewer.view(port, non_blocking=True)
    try:
        assert viewer.get_status() == 'VIEWED'
        assert sorted(r.trialJobId for r in viewer.export_data()) == exported
        connected = Experiment.connect(port)
        assert connected.id == experiment.id
        assert len(connected.list_trial_jobs()) == 2
        with pytest.raises(Exception, match='readonly'):
            connected.update_trial_concurrency(3)
    finally:
        viewer.stop()


def test_max_experiment_duration_stops_new_trials(make_experiment):
    space = {'x': {'_type': 'randint', '_value': [0, 10]}, 'y': {'_type': 'choice', '_value': [0]},
             'sleep': {'_type': 'choice', '_value': [1.5]}}
    experiment = make_experiment(space, trial_concurrency=1, max_trial_number=100,
                                 max_experiment_duration='3s')
    assert experiment.run(free_port()) is True
    trials = experiment.list_trial_jobs()
    # about two 1.5 s trials fit in 3 s; the one running at the limit finishes normally
    assert 1 <= len(trials) <= 4
    assert {trial.status for trial in trials} == {'SUCCEEDED'}
    profile = experiment.get_experiment_profile()
    assert profile['execDuration'] >= 3


def test_trials_die_with_a_sigkilled_manager(make_experiment, monkeypatch):
    # trials outlive a dead manager for a grace period (a resume takes them back); with none, they stop
    tag = f'nni-pdeathsig-{os.getpid()}-{time.time_ns()}'
    monkeypatch.setenv('TRIAL_SLEEP', '60')
    monkeypatch.setenv('NNI_TRIAL_ORPHAN_GRACE', '1')
    experiment = make_experiment(trial_concurrency=2, max_trial_number=2)
    experiment.config.trial_command = f'{experiment.config.trial_command} {tag}'
    experiment.start(free_port())
    wait_for(lambda: len(processes_with_tag(tag)) == 2, timeout=30)
    manager_pid = experiment._proc.pid
    os.kill(manager_pid, signal.SIGKILL)
    wait_for(lambda: not processes_with_tag(tag), timeout=15)
    experiment.port = None
    experiment._proc = None


def test_manager_stops_when_the_launching_script_is_killed(tmp_path, workdir, monkeypatch):
    import subprocess
    import sys

    from .conftest import TRIAL_CODE

    tag = f'nni-parent-watch-{os.getpid()}-{time.time_ns()}'
    script = tmp_path / 'launch.py'
    script.write_text(f'''
import sys, time
from nni.experiment import Experiment
experiment = Experiment('local')
experiment.config.experiment_working_directory = {str(workdir)!r}
experiment.config.search_space = {{'x': {{'_type': 'choice', '_value': [1]}}}}
experiment.config.trial_command = {sys.executable!r} + ' trial.py {tag}'
experiment.config.trial_code_directory = {str(TRIAL_CODE)!r}
experiment.config.trial_concurrency = 1
experiment.config.max_trial_number = 1
experiment.config.tuner.name = 'Random'
experiment.start({free_port()})
print('STARTED', experiment._proc.pid, flush=True)
time.sleep(600)
''')
    monkeypatch.setenv('TRIAL_SLEEP', '60')
    launcher = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    line = ''
    while not line.startswith('STARTED'):
        line = launcher.stdout.readline()
        assert line, 'the launch script ended before starting the experiment'
    manager_pid = int(line.split()[1])
    wait_for(lambda: processes_with_tag(tag), timeout=30)
    launcher.kill()
    launcher.wait()
    wait_for(lambda: not _alive(manager_pid), timeout=30)
    wait_for(lambda: not processes_with_tag(tag), timeout=15)
