"""The remote training service against real OpenSSH servers (two loopback "machines")."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .conftest import (
    PASSWORD_USER,
    experiment_processes,
    free_port,
    machine_a_config,
    machine_b_config,
    wait_for,
    wait_no_experiment_processes,
)

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.ssh,
              pytest.mark.filterwarnings('ignore:The SSH password')]


def test_trials_spread_over_key_and_password_machines_and_end_done(machines, make_remote_experiment):
    experiment = make_remote_experiment([machine_a_config(machines), machine_b_config(machines)])
    assert experiment.run(free_port()) is True
    trials = experiment.list_trial_jobs()
    assert len(trials) == 8
    assert {trial.status for trial in trials} == {'SUCCEEDED'}
    users = set()
    for trial in trials:
        folder = Path(trial.logPath)
        # the manager's copy of the remote trial folder: output, stdout and the metrics
        users.add((folder / 'where.txt').read_text().split()[0])
        assert 'trial ran as' in (folder / 'trial.stdout').read_text()
        assert trial.finalMetricData, trial
    assert users == {'root', PASSWORD_USER}
    wait_no_experiment_processes(experiment.id)
    assert experiment_processes(experiment.id) == []


def _trial_users(experiment_id: str) -> set[int]:
    users = set()
    for pid in experiment_processes(experiment_id):
        try:
            users.add(Path(f'/proc/{pid}').stat().st_uid)
        except OSError:
            pass
    return users


def test_cut_off_machine_loses_only_its_trials_and_comes_back(machines, make_remote_experiment):
    import pwd

    from nni.experiment import rest

    b_uid = pwd.getpwnam(PASSWORD_USER).pw_uid
    experiment = make_remote_experiment([machine_a_config(machines), machine_b_config(machines)],
                                        max_trial_number=12)
    # long enough that the trial seen on B is still running when B is cut off, even on a busy machine
    experiment.config.trial_command = f'TRIAL_SLEEP=6 {experiment.config.trial_command}'
    experiment.start(free_port())
    try:
        wait_for(lambda: b_uid in _trial_users(experiment.id), timeout=60)
        machines['b'].cut_off()
        failed = wait_for(lambda: [t for t in experiment.list_trial_jobs() if t.status == 'FAILED'], timeout=60)
        assert experiment.get_status() in ('RUNNING', 'TUNER_NO_MORE_TRIAL', 'NO_MORE_TRIAL')
        machines['b'].start()  # the machine returns
        wait_for(lambda: experiment.get_status() in ('DONE', 'ERROR'), timeout=120, interval=0.3)
        assert experiment.get_status() == 'DONE'
        trials = rest.get(experiment.port, '/trial-jobs')
        assert len(trials) == 12
        lost = [t for t in trials if t['status'] == 'FAILED']
        assert lost and len(lost) >= len(failed)
        port = machines['b'].port
        for trial in lost:
            assert f'{PASSWORD_USER}@127.0.0.3:{port}' in trial['message'] and 'unreachable' in trial['message']
            assert trial.get('machine') == f'{PASSWORD_USER}@127.0.0.3:{port}'
        assert {t['status'] for t in trials} == {'SUCCEEDED', 'FAILED'}
        # trials went to machine B again once it was back
        back = [t for t in trials if t['status'] == 'SUCCEEDED'
                and (Path(t['logPath']) / 'where.txt').read_text().startswith(PASSWORD_USER)]
        assert back, 'no trial ran on machine B after it came back'
    finally:
        machines['b'].start()
        experiment.stop()
    # the trials cut off with B were killed when it came back; nothing is left anywhere
    wait_no_experiment_processes(experiment.id)


def test_wrong_password_ends_the_experiment_in_error_naming_the_machine(machines, make_remote_experiment):
    from nni.experiment import rest

    wrong = dict(machine_b_config(machines), password='wrong-password')
    experiment = make_remote_experiment([machine_a_config(machines), wrong])
    experiment.start(free_port())
    wait_for(lambda: experiment.get_status() == 'ERROR', timeout=30)
    errors = rest.get(experiment.port, '/check-status')['errors']
    assert any(f'trainingService.machineList[1] ({PASSWORD_USER}@127.0.0.3:{machines["b"].port})' in e
               and 'login refused' in e for e in errors), errors
    assert experiment.list_trial_jobs() == []
    experiment.stop()


def test_shared_storage_runs_trials_on_the_mount_without_upload(machines, make_remote_experiment, shared_tmp):
    import pwd
    import shutil

    from nni.experiment.config import NfsConfig

    # a local folder standing in for an NFS mount that both machines' users may write
    mount = shared_tmp / 'nfs-mount-stand-in'
    experiment = make_remote_experiment([machine_a_config(machines), machine_b_config(machines)],
                                        max_trial_number=4)
    experiment_folder = mount / 'nni-remote' / experiment.id
    (experiment_folder / 'trials').mkdir(parents=True)
    for folder in (mount, mount / 'nni-remote', experiment_folder, experiment_folder / 'trials'):
        folder.chmod(0o1777)
    experiment.config.shared_storage = NfsConfig(local_mount_point=str(mount), remote_mount_point=str(mount),
                                                 local_mounted='usermount', nfs_server='127.0.0.1',
                                                 exported_directory='/exported')
    try:
        assert experiment.run(free_port()) is True
        trials = experiment.list_trial_jobs()
        assert {t.status for t in trials} == {'SUCCEEDED'}
        assert (experiment_folder / 'code' / 'trial.py').is_file()
        owners = set()
        for trial in trials:
            trial_folder = experiment_folder / 'trials' / trial.trialJobId
            where = (trial_folder / 'where.txt').read_text().split()
            assert where[1] == str(experiment_folder / 'code')  # the trial ran in the code folder on the mount
            owners.add(pwd.getpwuid(trial_folder.stat().st_uid).pw_name)
            assert (Path(trial.logPath) / 'where.txt').is_file()  # and the manager has its copy
        assert owners == {pwd.getpwuid(os.getuid()).pw_name, PASSWORD_USER}  # both machines wrote there
        # nothing was uploaded to the machines' home folders
        assert not Path(f'/home/{PASSWORD_USER}/nni-remote/{experiment.id}').exists()
        assert not (Path.home() / 'nni-remote' / experiment.id).exists()
    finally:
        shutil.rmtree(mount, ignore_errors=True)


def test_manager_sigkill_then_resume_reattaches_the_remote_trial(machines, make_remote_experiment, tmp_path):
    import os
    import signal

    from nni.experiment import Experiment, RunMode

    flag = tmp_path / 'release-the-trial'
    experiment = make_remote_experiment([machine_a_config(machines)], max_trial_number=1, trial_concurrency=1)
    experiment.config.trial_command = (f'while [ ! -e {flag} ]; do sleep 0.1; done; '
                                       f'{experiment.config.trial_command}')
    experiment.start(free_port(), run_mode=RunMode.Detach)
    wait_for(lambda: [t for t in experiment.list_trial_jobs() if t.status == 'RUNNING'], timeout=30)
    wait_for(lambda: experiment_processes(experiment.id), timeout=30)
    manager = experiment._proc.pid
    os.kill(manager, signal.SIGKILL)
    wait_for(lambda: not Path(f'/proc/{manager}').exists() or
             Path(f'/proc/{manager}/stat').read_text().rsplit(')', 1)[1].split()[0] == 'Z', timeout=10)
    experiment._proc = None
    experiment.port = None
    assert experiment_processes(experiment.id), 'the remote trial must outlive its manager'

    resumed = Experiment(None, id=experiment.id)
    resumed.load_checkpoint()
    resumed._action = 'resume'
    resumed.start(free_port(), run_mode=RunMode.Detach)
    try:
        [trial] = resumed.list_trial_jobs()
        assert trial.status == 'RUNNING'
        flag.write_text('go')
        wait_for(lambda: resumed.get_status() == 'DONE', timeout=60)
        [trial] = resumed.list_trial_jobs()
        assert trial.status == 'SUCCEEDED'
        assert trial.finalMetricData  # reported while the resumed manager had another port: via the file
        events = _events(Path(experiment.config.experiment_working_directory), experiment.id)
        assert events.count('RUNNING') == 1 and 'ADD_RESUMED' not in events
    finally:
        resumed.stop()
    wait_no_experiment_processes(experiment.id)


def _events(workdir: Path, experiment_id: str) -> list[str]:
    import sqlite3

    with sqlite3.connect(workdir / experiment_id / 'db' / 'nni.sqlite') as db:
        return [row[0] for row in db.execute('SELECT event FROM TrialJobEvent ORDER BY rowid')]


def test_max_trial_duration_ends_the_remote_trial_and_its_daemon(machines, make_remote_experiment):
    experiment = make_remote_experiment([machine_a_config(machines)], max_trial_number=1, trial_concurrency=1,
                                        max_trial_duration='2s')
    experiment.config.trial_command = 'setsid sleep 120 < /dev/null > /dev/null 2>&1 & sleep 121'
    assert experiment.run(free_port()) is True
    [trial] = experiment.list_trial_jobs()
    assert trial.status == 'EARLY_STOPPED'
    assert experiment_processes(experiment.id) == []  # the daemonized sleep went too
