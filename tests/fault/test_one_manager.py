"""One manager per experiment: the lock, a second start of a held experiment, concurrent resumes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nni.common.experiment_lock import LOCK_EXIT_CODE, ExperimentLock, ExperimentLockedError, probe
from tests.fixture_helpers import live_processes

from .conftest import free_port, make_config, processes_of_experiment, wait_for


def test_a_second_lock_names_the_holder_and_a_dead_holder_is_taken_over(tmp_path: Path):
    root = tmp_path / 'exp1'
    holder = subprocess.Popen([sys.executable, '-c', f'''
import sys, time
from pathlib import Path
from nni.common.experiment_lock import ExperimentLock
ExperimentLock(Path({str(root)!r}), 'exp1').acquire('resume')
print('locked', flush=True)
time.sleep(60)
'''], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'locked'
        with pytest.raises(ExperimentLockedError) as refused:
            ExperimentLock(root, 'exp1').acquire('resume')
        message = str(refused.value)
        assert f'pid {holder.pid}' in message and 'exp1' in message and 'resume' in message
        with pytest.raises(ExperimentLockedError):
            probe(root, 'exp1')
    finally:
        holder.kill()
        holder.wait()
    # the kernel dropped the dead holder's lock: taken over with no cleanup
    probe(root, 'exp1')
    lock = ExperimentLock(root, 'exp1')
    lock.acquire('create')
    assert lock.held
    assert oct((root / 'db' / '.lock').stat().st_mode & 0o777) == oct(0o600)
    lock.release()


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.fault
def test_two_concurrent_resumes_exactly_one_wins(workdir, tmp_path, cleanup_experiments, monkeypatch):
    from nni.experiment import Experiment

    monkeypatch.setenv('FAULT_STEPS', '100')
    monkeypatch.setenv('FAULT_STEP_S', '0.1')
    experiment = Experiment(make_config(workdir, trials=2, concurrency=1))
    experiment.start(free_port())
    cleanup_experiments.append(experiment.id)
    experiment.stop()
    env = dict(os.environ)
    commands = [[sys.executable, '-m', 'nni.tools.nnictl', 'resume', experiment.id, '--port', str(free_port())]
                for _ in range(2)]
    racers = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               cwd=tmp_path) for command in commands]
    results = [(racer.wait(timeout=60), racer.stdout.read()) for racer in racers]
    try:
        codes = sorted(code for code, _ in results)
        assert codes[0] == 0 and codes[1] != 0, results
        loser = next(output for code, output in results if code != 0)
        assert f'experiment {experiment.id} is already in use by' in loser, loser
        assert 'Traceback' not in loser
        managers = _managers_of(experiment.id)
        assert len(managers) == 1, managers
        # a manager started by hand to view (or resume) the held experiment refuses at once, naming the holder
        for action in ('view', 'resume'):
            second = subprocess.run([sys.executable, '-m', 'nni.manager', '--port', str(free_port()),
                                     '--experiment-id', experiment.id, '--action', action,
                                     '--experiments-directory', str(workdir)],
                                    capture_output=True, text=True, timeout=60, cwd=tmp_path)
            assert second.returncode == LOCK_EXIT_CODE
            assert f'is already in use by the NNI manager pid {managers[0]}' in second.stderr
    finally:
        subprocess.run([sys.executable, '-m', 'nni.tools.nnictl', 'stop', experiment.id], env=env,
                       capture_output=True, timeout=60, cwd=tmp_path)
    wait_for(lambda: not _managers_of(experiment.id), timeout=20)
    wait_for(lambda: not processes_of_experiment(experiment.id), timeout=20)


def _managers_of(experiment_id: str) -> list[int]:
    argvs = ((pid, cmdline.split(b'\0')) for pid, cmdline in live_processes('cmdline'))
    return [pid for pid, argv in argvs if b'nni.manager' in argv and experiment_id.encode() in argv]


def test_a_dying_or_dead_holder_is_recognised_as_exiting():
    import socket

    from nni.common.experiment_lock import _holder_is_exiting

    host = socket.gethostname()
    assert not _holder_is_exiting({'pid': os.getpid(), 'host': host})
    assert not _holder_is_exiting({'pid': os.getpid(), 'host': host + '-elsewhere'})
    assert not _holder_is_exiting({})
    zombie = subprocess.Popen([sys.executable, '-c', 'pass'])
    # not reaped yet: a zombie keeps its pid but no longer holds any lock
    wait_for(lambda: Path(f'/proc/{zombie.pid}/status').read_text().find('State:\tZ') >= 0, timeout=30)
    assert _holder_is_exiting({'pid': zombie.pid, 'host': host})
    zombie.wait()
    assert _holder_is_exiting({'pid': zombie.pid, 'host': host})  # gone


def test_resume_right_after_a_sigkill_waits_for_the_kernel_to_drop_the_lock(tmp_path: Path):
    root = tmp_path / 'exp2'
    for _ in range(5):
        holder = subprocess.Popen([sys.executable, '-c', f'''
import time
from pathlib import Path
from nni.common.experiment_lock import ExperimentLock
ExperimentLock(Path({str(root)!r}), 'exp2').acquire('create')
print('locked', flush=True)
time.sleep(60)
'''], stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline().strip() == 'locked'
        holder.kill()  # no wait: the next manager starts while the kernel may still tear it down
        lock = ExperimentLock(root, 'exp2')
        lock.acquire('resume')
        lock.release()
        holder.wait()
