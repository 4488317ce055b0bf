"""Trials outlive a SIGKILLed manager and are taken back on resume; kill/stop leave no process behind."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from .conftest import (
    TRIAL_CODE,
    make_config,
    open_store,
    process_alive,
    processes_of_experiment,
    resume_detached,
    sigkill_manager,
    start_detached,
    wait_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.fault]


def _the_succeeded_trial(resumed):
    """Wait for the resumed one-trial experiment to finish; its trial, which must have succeeded."""
    wait_for(lambda: resumed.get_status() == 'DONE', timeout=60)
    [trial] = resumed.list_trial_jobs()
    assert trial.status == 'SUCCEEDED'
    return trial


def _journals(trial_dir: Path) -> dict[str, list[tuple[str, int, int]]]:
    journals = {}
    for path in sorted(trial_dir.glob('journal-*')):
        entries = []
        for line in path.read_text().splitlines():
            kind, sequence, value = line.split()
            entries.append((kind, int(sequence), int(value)))
        journals[path.name] = entries
    return journals


def test_a_trial_started_before_a_manager_sigkill_finishes_once_after_resume(workdir, monkeypatch,
                                                                            cleanup_experiments):
    """The reattach demo: nothing re-run, every metric (sent while no manager listened too) stored once."""
    monkeypatch.setenv('FAULT_STEPS', '12')
    monkeypatch.setenv('FAULT_STEP_S', '0.25')
    config = make_config(workdir, trials=1, concurrency=1)
    experiment = start_detached(config)
    cleanup_experiments.append(experiment.id)
    trial_dir = workdir / experiment.id / 'environments' / 'local-env' / 'trials'

    def journaled() -> int:
        return sum(len(entries) for folder in trial_dir.glob('*') for entries in _journals(folder).values())

    wait_for(lambda: journaled() >= 3, timeout=30)
    sigkill_manager(experiment)
    time.sleep(1.0)  # the trial goes on reporting while no manager listens
    assert processes_of_experiment(experiment.id), 'the trial must outlive its manager'
    resumed = resume_detached(experiment.id)
    try:
        trial = _the_succeeded_trial(resumed)
        folder = trial_dir / trial.trialJobId
        journals = _journals(folder)
        assert len(journals) == 1, f'the trial ran more than once: {sorted(journals)}'
        [entries] = journals.values()
        assert len(entries) == 13
        with open_store(workdir, experiment.id) as db:
            rows = db.execute('SELECT type, sequence, data FROM MetricData WHERE trialJobId = ?',
                              (trial.trialJobId,)).fetchall()
            events = [row[0] for row in db.execute('SELECT event FROM TrialJobEvent WHERE trialJobId = ? '
                                                    'ORDER BY rowid', (trial.trialJobId,))]
        stored = sorted((kind, sequence, int(float(json.loads(json.loads(data))))) for kind, sequence, data in rows)
        assert stored == sorted(entries), 'every journaled metric stored exactly once'
        assert events.count('RUNNING') == 1 and 'ADD_RESUMED' not in events
        assert not list(folder.glob('trial.stdout.attempt-*'))
    finally:
        resumed.stop()
    wait_for(lambda: not processes_of_experiment(experiment.id), timeout=15)


def test_a_reattached_trial_reports_live_to_a_resumed_manager_on_another_port(workdir, monkeypatch,
                                                                            cleanup_experiments):
    monkeypatch.setenv('FAULT_STEPS', '60')
    monkeypatch.setenv('FAULT_STEP_S', '0.1')
    config = make_config(workdir, trials=1, concurrency=1)
    experiment = start_detached(config)
    cleanup_experiments.append(experiment.id)
    wait_for(lambda: experiment.list_trial_jobs() and experiment.list_trial_jobs()[0].status == 'RUNNING',
             timeout=30)
    old_port = experiment.port
    sigkill_manager(experiment)
    resumed = resume_detached(experiment.id)
    assert resumed.port != old_port
    try:
        def live_metrics() -> int:
            [trial] = resumed.list_trial_jobs()
            return len(resumed.get_job_metrics(trial.trialJobId).get(trial.trialJobId, [])) if (
                trial.status == 'RUNNING') else -1
        # metrics the trial sent while no manager listened came from its file at reattach; then it
        # follows .nni/manager-url and keeps reporting over HTTP while it runs
        seen = live_metrics()
        wait_for(lambda: live_metrics() >= seen + 5 or live_metrics() < 0, timeout=30)
        assert live_metrics() >= seen + 5, 'no metric reached the resumed manager while the trial ran'
        trial = _the_succeeded_trial(resumed)
        with open_store(workdir, experiment.id) as db:
            count = db.execute('SELECT count(*) FROM MetricData WHERE trialJobId = ?', (trial.trialJobId,)).fetchone()[0]
        assert count == 61
    finally:
        resumed.stop()


def _daemon_config(workdir: Path, monkeypatch, command: str | None = None):
    monkeypatch.setenv('FAULT_STEPS', '200')
    monkeypatch.setenv('FAULT_STEP_S', '0.2')
    monkeypatch.setenv('FAULT_DAEMON', '1')
    monkeypatch.setenv('FAULT_CHILD', '1')
    return make_config(workdir, trials=1, concurrency=1, command=command)


def _wait_for_family(experiment_id: str) -> None:
    # the trial, its background child and its daemon (plus bash for compound commands)
    wait_for(lambda: len(processes_of_experiment(experiment_id)) >= 3, timeout=30)


def test_a_daemonized_grandchild_is_gone_after_kill(workdir, monkeypatch, cleanup_experiments):
    experiment = start_detached(_daemon_config(workdir, monkeypatch))
    cleanup_experiments.append(experiment.id)
    try:
        _wait_for_family(experiment.id)
        wait_for(lambda: experiment.list_trial_jobs() and experiment.list_trial_jobs()[0].status == 'RUNNING',
                 timeout=30)
        [trial] = experiment.list_trial_jobs()
        experiment.kill_trial_job(trial.trialJobId)
        wait_for(lambda: experiment.get_trial_job(trial.trialJobId).status == 'USER_CANCELED', timeout=30)
        wait_for(lambda: not processes_of_experiment(experiment.id), timeout=15)
    finally:
        experiment.stop()


def test_a_compound_command_and_its_daemon_are_gone_after_stop(workdir, monkeypatch, cleanup_experiments):
    command = f'cd {TRIAL_CODE} && {sys.executable} fault_trial.py | tee -a tee.log > /dev/null'
    monkeypatch.chdir(workdir)
    experiment = start_detached(_daemon_config(workdir, monkeypatch, command))
    cleanup_experiments.append(experiment.id)
    _wait_for_family(experiment.id)
    experiment.stop()
    wait_for(lambda: not processes_of_experiment(experiment.id), timeout=15)


def test_trials_of_a_dead_manager_stop_after_the_grace_period(workdir, monkeypatch, cleanup_experiments):
    monkeypatch.setenv('NNI_TRIAL_ORPHAN_GRACE', '1')
    command = f'cd {TRIAL_CODE} && {sys.executable} fault_trial.py | tee -a tee.log > /dev/null'
    experiment = start_detached(_daemon_config(workdir, monkeypatch, command))
    cleanup_experiments.append(experiment.id)
    _wait_for_family(experiment.id)
    supervisor = json.loads((workdir / experiment.id / 'db' / 'supervisor.json').read_text())['pid']
    sigkill_manager(experiment)
    wait_for(lambda: not processes_of_experiment(experiment.id), timeout=20)
    wait_for(lambda: not process_alive(supervisor), timeout=10)
    # a resume runs the interrupted trial again, as a new attempt whose files do not overwrite the old ones
    monkeypatch.setenv('FAULT_STEPS', '2')
    monkeypatch.setenv('FAULT_DAEMON', '0')
    monkeypatch.setenv('FAULT_CHILD', '0')
    resumed = resume_detached(experiment.id)
    try:
        trial = _the_succeeded_trial(resumed)
        folder = workdir / experiment.id / 'environments' / 'local-env' / 'trials' / trial.trialJobId
        assert (folder / 'trial.stderr.attempt-0').exists() and (folder / 'trial.stderr').exists()
        with open_store(workdir, experiment.id) as db:
            finals = db.execute("SELECT count(*) FROM MetricData WHERE trialJobId = ? AND type = 'FINAL'",
                                (trial.trialJobId,)).fetchone()[0]
            old = db.execute('SELECT count(*) FROM SupersededMetricData WHERE trialJobId = ? AND attempt = 0',
                             (trial.trialJobId,)).fetchone()[0]
            periodical = db.execute("SELECT sequence FROM MetricData WHERE trialJobId = ? AND type = 'PERIODICAL'",
                                    (trial.trialJobId,)).fetchall()
        assert finals == 1 and old >= 1
        assert sorted(row[0] for row in periodical) == [0, 1], 'only the new attempt metrics are current'
    finally:
        resumed.stop()


def test_a_trial_stopped_with_the_experiment_runs_again_as_a_new_attempt(workdir, monkeypatch, cleanup_experiments):
    monkeypatch.setenv('FAULT_STEPS', '100')
    monkeypatch.setenv('FAULT_STEP_S', '0.1')
    experiment = start_detached(make_config(workdir, trials=1, concurrency=1))
    cleanup_experiments.append(experiment.id)
    trials_root = workdir / experiment.id / 'environments' / 'local-env' / 'trials'
    wait_for(lambda: any(len(entries) >= 2 for folder in trials_root.glob('*')
                         for entries in _journals(folder).values()), timeout=30)
    experiment.stop()
    wait_for(lambda: not processes_of_experiment(experiment.id), timeout=15)
    monkeypatch.setenv('FAULT_STEPS', '1')
    resumed = resume_detached(experiment.id)
    try:
        trial = _the_succeeded_trial(resumed)
        folder = trials_root / trial.trialJobId
        assert (folder / 'trial.stdout.attempt-0').exists()
        with open_store(workdir, experiment.id) as db:
            current = db.execute('SELECT type, sequence FROM MetricData WHERE trialJobId = ? ORDER BY rowid',
                                 (trial.trialJobId,)).fetchall()
            old = db.execute('SELECT count(*) FROM SupersededMetricData WHERE trialJobId = ? AND attempt = 0',
                             (trial.trialJobId,)).fetchone()[0]
            attempts = db.execute('SELECT attempt, state FROM TrialAttempt WHERE trialJobId = ? ORDER BY attempt',
                                  (trial.trialJobId,)).fetchall()
        assert current == [('PERIODICAL', 0), ('FINAL', 0)]
        assert old >= 2
        assert attempts == [(0, 'interrupted'), (1, 'ended')]
    finally:
        resumed.stop()
