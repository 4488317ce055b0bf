"""Launcher: port check, spawning the manager (a fake one), failure paths, stopped-experiment configs."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from experiment_client_helpers import FakeManager, StubConfig, free_port

from nni.experiment import launcher
from nni.experiment.launcher import ManagerStartError, ProcessHandle, start_experiment
from nni.experiment.manifest import Experiments, pid_alive


def _gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.01)
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    launcher.stop_process(proc, 2)


# ---------------------------------------------------------------------------------------------------------
# Command line


def test_build_manager_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv('NNI_MANAGER_MODULE', raising=False)
    cmd = launcher.build_manager_command('create', 'abc', '/abs/dir', 8080, log_level='info')
    assert cmd == [sys.executable, '-m', 'nni.manager', '--port', '8080', '--experiment-id', 'abc',
                   '--action', 'create', '--experiments-directory', '/abs/dir', '--log-level', 'info',
                   '--foreground', 'false']
    cmd = launcher.build_manager_command('view', 'abc', '/d', 1, foreground=True, url_prefix='p', bind_address='0.0.0.0')
    assert cmd[-6:] == ['--foreground', 'true', '--url-prefix', 'p', '--bind-address', '0.0.0.0']
    monkeypatch.setattr(launcher, 'MANAGER_MODULE', 'other.module')
    assert launcher.build_manager_command('create', 'a', '/d', 1)[2] == 'other.module'
    monkeypatch.setenv('NNI_MANAGER_MODULE', 'env.module')
    assert launcher.build_manager_command('create', 'a', '/d', 1)[2] == 'env.module'


def test_manager_gets_nni_args(fake_manager: FakeManager, stub_config: StubConfig, port: int) -> None:
    stub_config.log_level = 'warning'
    proc = start_experiment('create', 'exp1', stub_config, port, True, 'background', '/pre/', None, ['t'])
    try:
        [start] = fake_manager.starts()
        workdir = os.path.abspath(stub_config.experiment_working_directory)
        assert start['argv'] == ['--port', str(port), '--experiment-id', 'exp1', '--action', 'create',
                                 '--experiments-directory', workdir, '--log-level', 'debug',
                                 '--foreground', 'false', '--url-prefix', 'pre', '--stop-with-parent']
        assert start['pid'] == proc.pid
        assert start['cwd'] == os.path.join(workdir, 'exp1')
        # Own session and process group, so terminal Ctrl-C does not reach it.
        assert os.getpgid(proc.pid) == proc.pid != os.getpgrp()
        assert os.getsid(proc.pid) == proc.pid
    finally:
        _stop(proc)


@pytest.mark.parametrize(('level', 'debug', 'expected'), [
    ('info', False, 'info'), ('trace', True, 'trace'), ('debug', True, 'debug'), ('error', True, 'debug'),
    (None, False, 'info'),
])
def test_log_level(level: str | None, debug: bool, expected: str) -> None:
    assert launcher._log_level(SimpleNamespace(log_level=level), debug) == expected


# ---------------------------------------------------------------------------------------------------------
# Happy path


def test_start_registers_and_posts_config(
    fake_manager: FakeManager, stub_config: StubConfig, port: int, nni_home: Path
) -> None:
    before = int(time.time() * 1000)
    proc = start_experiment('create', 'exp1', stub_config, port, False, 'background', None)
    try:
        assert proc.poll() is None
        entry = Experiments().get_all_experiments()['exp1']
        workdir = os.path.abspath(stub_config.experiment_working_directory)
        assert entry['pid'] == proc.pid and entry['port'] == port
        assert entry['platform'] == 'local' and entry['experimentName'] == 'stub'
        assert entry['logDir'] == workdir and entry['prefixUrl'] is None and entry['tag'] == []
        assert entry['endTime'] == 'N/A'
        assert before <= entry['startTime'] <= int(time.time() * 1000)
        assert entry['status'] == 'RUNNING'  # the (fake) manager updated it after the POST

        [post] = fake_manager.requests('POST', '/experiment')
        assert post['body'] == stub_config.json()
        # check-status came first, then the POST
        methods = [(r['method'], r['path']) for r in fake_manager.requests()]
        assert methods[-1] == ('POST', '/api/v1/nni/experiment')
        assert ('GET', '/api/v1/nni/check-status') in methods

        latest = Path(workdir, '_latest')
        assert latest.is_symlink() and os.readlink(latest) == 'exp1'
        assert Path(workdir, 'exp1', 'log').is_dir()
        assert not Path(workdir, 'exp1', 'log', 'nnictl_stdout.log').exists()
    finally:
        _stop(proc)


def test_start_is_fast(fake_manager: FakeManager, stub_config: StubConfig, port: int) -> None:
    # The budget (<= 0.3 s including the real manager's start-up) is measured by benchmarks/; here we only
    # make sure the launcher itself adds no sleeps: the fake manager starts in well under a second.
    started = time.perf_counter()
    proc = start_experiment('create', 'fast', stub_config, port, False, 'background', None)
    elapsed = time.perf_counter() - started
    _stop(proc)
    assert elapsed < 1.5


def test_detach_writes_nnictl_logs(fake_manager: FakeManager, stub_config: StubConfig, port: int) -> None:
    proc = start_experiment('create', 'det', stub_config, port, False, 'detach', None)
    _stop(proc)
    log = Path(stub_config.experiment_working_directory, 'det', 'log')
    for name in ('nnictl_stdout.log', 'nnictl_stderr.log'):
        lines = (log / name).read_text().splitlines()
        assert lines[0] == '-' * 80 and lines[2] == '-' * 80
        assert lines[1].startswith('Experiment det start: ')


def test_remote_platform_needs_no_second_port(fake_manager: FakeManager, stub_config: StubConfig) -> None:
    # NNI refused a busy port+1 for remote-like platforms; our manager uses one port only
    stub_config.training_service = SimpleNamespace(platform='remote')
    for _ in range(50):
        # a busy port whose predecessor is idle (the fixture's port+1 may be anyone's)
        with socket.socket() as busy:
            busy.bind(('127.0.0.1', 0))
            busy.listen()
            first = busy.getsockname()[1] - 1
            with socket.socket() as probe:
                try:
                    probe.bind(('127.0.0.1', first))
                except OSError:
                    continue
            proc = start_experiment('create', 'ws', stub_config, first, False, 'background', None)
            _stop(proc)
            return
    pytest.fail('found no idle port just below a busy one')


def test_hybrid_platform_name(fake_manager: FakeManager, stub_config: StubConfig, port: int) -> None:
    stub_config.training_service = [SimpleNamespace(platform='local'), SimpleNamespace(platform='remote')]
    proc = start_experiment('create', 'hy', stub_config, port, False, 'background', None)
    _stop(proc)
    assert Experiments().get_all_experiments()['hy']['platform'] == 'hybrid'


# ---------------------------------------------------------------------------------------------------------
# Failures


def test_busy_port_refused(fake_manager: FakeManager, stub_config: StubConfig) -> None:
    with socket.socket() as busy:
        busy.bind(('127.0.0.1', 0))
        busy.listen()
        port = busy.getsockname()[1]
        # the holder (this very process) and a port to use instead are named
        with pytest.raises(RuntimeError, match=rf'^Port {port} is not idle: it is used by process {os.getpid()} '
                                               rf'.*Use another port: experiment\.run\(\d+\)'):
            start_experiment('create', 'busy', stub_config, port, False, 'background', None)
    assert fake_manager.starts() == []  # nothing spawned
    assert 'busy' not in Experiments().get_all_experiments()


def test_manager_exits_at_once_detach(fake_manager: FakeManager, stub_config: StubConfig, port: int) -> None:
    fake_manager.mode('exit')
    started = time.monotonic()
    with pytest.raises(ManagerStartError) as info:
        start_experiment('create', 'dies', stub_config, port, False, 'detach', None)
    assert time.monotonic() - started < 5  # noticed the exit, did not wait for the 30 s timeout
    message = str(info.value)
    assert 'exited with code 3' in message
    assert 'fake manager: cannot start (boom)' in message
    assert '-' * 80 not in message  # only this launch's stderr, not the header
    assert 'dies' not in Experiments().get_all_experiments()


def test_manager_exits_at_once_background(
    fake_manager: FakeManager, stub_config: StubConfig, port: int, capfd: pytest.CaptureFixture[str]
) -> None:
    fake_manager.mode('exit')
    with pytest.raises(ManagerStartError, match='exited with code 3'):
        start_experiment('create', 'dies', stub_config, port, False, 'background', None)
    # Background inherits stderr, as NNI: the message is on the console.
    assert 'fake manager: cannot start (boom)' in capfd.readouterr().err


def test_manager_never_answers(
    fake_manager: FakeManager, stub_config: StubConfig, port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_manager.mode('hang')
    monkeypatch.setattr(launcher, 'STARTUP_TIMEOUT', 0.5)
    with pytest.raises(ManagerStartError, match='did not answer'):
        start_experiment('create', 'hangs', stub_config, port, False, 'background', None)
    [start] = fake_manager.starts()
    assert _gone(start['pid'])


def test_post_failure_kills_manager(
    fake_manager: FakeManager, stub_config: StubConfig, port: int, caplog: pytest.LogCaptureFixture
) -> None:
    fake_manager.mode('post-fail')
    with pytest.raises(OSError, match='bad config: trialConcurrency') as info:
        start_experiment('create', 'bad', stub_config, port, False, 'detach', None)
    assert info.value.status == 500  # type: ignore[attr-defined]
    [start] = fake_manager.starts()
    assert _gone(start['pid'])
    entry = Experiments().get_all_experiments()['bad']
    assert entry['status'] == 'STOPPED' and 'port' not in entry
    assert any('Create experiment failed' in r.getMessage() for r in caplog.records)
    messages = [r.getMessage() for r in caplog.records]
    assert 'NNI manager stderr:' in messages
    assert 'fake manager: rejecting config' in messages


def test_keyboard_interrupt_while_waiting_kills_manager(
    fake_manager: FakeManager, stub_config: StubConfig, port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_manager.mode('hang')

    def interrupted_wait(*args: object) -> None:
        while not fake_manager.starts():  # the manager is up (and hangs): now the user hits Ctrl-C
            time.sleep(0.01)
        raise KeyboardInterrupt

    monkeypatch.setattr(launcher, '_wait_for_manager', interrupted_wait)
    with pytest.raises(KeyboardInterrupt):
        start_experiment('create', 'ctrlc', stub_config, port, False, 'background', None)
    [start] = fake_manager.starts()
    assert _gone(start['pid'])


# ---------------------------------------------------------------------------------------------------------
# Processes


def test_process_handle_waits_for_foreign_pid() -> None:
    # A grandchild is not our child: only polling can tell when it is gone.
    proc = subprocess.Popen(
        [sys.executable, '-c', 'import subprocess,sys; p = subprocess.Popen([sys.executable, "-c", '
         '"import time; time.sleep(0.3)"]); print(p.pid, flush=True)'],
        stdout=subprocess.PIPE, text=True,
    )
    pid = int(proc.stdout.readline())  # type: ignore[union-attr]
    proc.wait()
    handle = ProcessHandle(pid)
    assert handle.poll() is None
    with pytest.raises(subprocess.TimeoutExpired):
        handle.wait(0.01)
    assert handle.wait(10) == 0
    assert handle.poll() == 0


def test_stop_process_escalates_to_sigkill(tmp_path: Path) -> None:
    ready = tmp_path / 'ready'
    code = (
        'import signal, time, pathlib; signal.signal(signal.SIGTERM, signal.SIG_IGN); '
        f'pathlib.Path({str(ready)!r}).touch(); time.sleep(60)'
    )
    proc = subprocess.Popen([sys.executable, '-c', code], start_new_session=True)
    while not ready.exists():
        time.sleep(0.01)
    started = time.monotonic()
    launcher.stop_process(proc, 0.3)
    assert proc.returncode == -signal.SIGKILL
    assert time.monotonic() - started < 5


def test_stop_process_kills_whole_group(tmp_path: Path) -> None:
    pid_file = tmp_path / 'child'
    code = (
        'import subprocess, sys, time, pathlib; '
        'c = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]); '
        f'pathlib.Path({str(pid_file)!r}).write_text(str(c.pid)); time.sleep(60)'
    )
    proc = subprocess.Popen([sys.executable, '-c', code], start_new_session=True)
    while not pid_file.exists() or not pid_file.read_text():
        time.sleep(0.01)
    child = int(pid_file.read_text())
    launcher.stop_process(proc, 2)
    assert proc.returncode is not None
    assert _gone(child)


def test_signal_process_group_never_hits_own_group() -> None:
    proc = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])  # our process group
    launcher.signal_process_group(proc.pid, signal.SIGTERM)
    assert proc.wait(5) == -signal.SIGTERM


# ---------------------------------------------------------------------------------------------------------
# Stopped experiments


def _make_db(exp_dir: Path, exp_id: str, revisions: dict[int, dict]) -> None:
    db = exp_dir / exp_id / 'db'
    db.mkdir(parents=True)
    conn = sqlite3.connect(db / 'nni.sqlite')
    conn.execute('create table ExperimentProfile (params text, id text, execDuration integer, startTime integer, '
                 'endTime integer, logDir text, nextSequenceId integer, revision integer)')
    for revision, params in revisions.items():
        conn.execute('insert into ExperimentProfile values (?, ?, 0, 1, 2, ?, 0, ?)',
                     (json.dumps(params), exp_id, str(exp_dir / exp_id), revision))
    conn.execute('insert into ExperimentProfile values (?, ?, 0, 1, 2, ?, 0, 99)',
                 (json.dumps({'other': True}), 'other-id', 'x'))
    conn.commit()
    conn.close()


def test_stopped_config_json_from_exp_dir(tmp_path: Path) -> None:
    _make_db(tmp_path, 'e1', {1: {'trialConcurrency': 1}, 3: {'trialConcurrency': 3}, 2: {'trialConcurrency': 2}})
    assert launcher.get_stopped_experiment_config_json('e1', tmp_path) == {'trialConcurrency': 3}
    assert launcher.get_stopped_experiment_config_json('e1', str(tmp_path)) == {'trialConcurrency': 3}


def test_stopped_config_json_missing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert launcher.get_stopped_experiment_config_json('nope', tmp_path) is None
    assert not (tmp_path / 'nope').exists()  # no empty database created
    assert any('Cannot find experiment nope' in r.getMessage() for r in caplog.records)
    with pytest.raises(ValueError, match='failed to be loaded'):
        launcher.get_stopped_experiment_config('nope', tmp_path)


def test_stopped_config_json_via_manifest(tmp_path: Path, nni_home: Path, caplog: pytest.LogCaptureFixture) -> None:
    workdir = tmp_path / 'wd'
    _make_db(workdir, 'e2', {1: {'trialConcurrency': 5}})
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    Experiments().add_experiment('e2', free_port(), 1, 'local', None, pid=dead.pid, logDir=workdir, status='RUNNING')
    Experiments().add_experiment('alive', 1, 1, 'local', None, pid=os.getpid(), logDir=workdir, status='RUNNING')

    # the dead manager is swept to STOPPED first, so the experiment counts as stopped
    assert launcher.get_stopped_experiment_config_json('e2') == {'trialConcurrency': 5}
    assert Experiments().get_all_experiments()['e2']['status'] == 'STOPPED'

    assert launcher.get_stopped_experiment_config_json('alive') is None
    assert any('Only stopped experiments can be resumed or viewed!' in r.getMessage() for r in caplog.records)
    assert launcher.get_stopped_experiment_config_json('unknown') is None
    assert any('Id unknown not exist!' in r.getMessage() for r in caplog.records)


def test_stopped_config_builds_experiment_config(tmp_path: Path) -> None:
    config_module = pytest.importorskip('nni.experiment.config')
    if not hasattr(config_module, 'ExperimentConfig'):
        pytest.skip('nni.experiment.config does not export ExperimentConfig yet')
    params = {
        'searchSpace': {'a': {'_type': 'choice', '_value': [1, 2]}}, 'trialCommand': 'python t.py',
        'trialCodeDirectory': str(tmp_path), 'trialConcurrency': 2, 'tuner': {'name': 'random'},
        'trainingService': {'platform': 'local'}, 'experimentWorkingDirectory': str(tmp_path / 'elsewhere'),
    }
    _make_db(tmp_path, 'e3', {1: params})
    config = launcher.get_stopped_experiment_config('e3', tmp_path)
    assert config.trial_concurrency == 2
    assert os.path.abspath(config.experiment_working_directory) == str(tmp_path)  # overridden by exp_dir


def test_manager_env_points_at_this_nni(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('PYTHONPATH', '/some/where')
    monkeypatch.setattr(launcher, '_site_dirs', lambda: set())
    assert launcher._manager_env()['PYTHONPATH'] == str(launcher._PACKAGE_ROOT) + os.pathsep + '/some/where'
    # an installed nni lives in site-packages, which must not move before the standard library
    monkeypatch.setattr(launcher, '_site_dirs', lambda: {str(launcher._PACKAGE_ROOT)})
    assert launcher._manager_env()['PYTHONPATH'] == '/some/where'
    assert (launcher._PACKAGE_ROOT / 'nni' / 'experiment' / 'launcher.py').is_file()


@pytest.mark.parametrize(('manager_ip', 'expected'), [(None, None), ('127.0.0.1', None),
                                                      ('192.0.2.10', '0.0.0.0')])
def test_manager_listens_beyond_loopback_only_for_a_remote_manager_ip(
    fake_manager: FakeManager, stub_config: StubConfig, port: int, manager_ip, expected
) -> None:
    stub_config.nni_manager_ip = manager_ip
    proc = start_experiment('create', 'bind', stub_config, port, False, 'background', None)
    _stop(proc)
    argv = fake_manager.starts()[0]['argv']
    if expected is None:
        assert '--bind-address' not in argv
    else:
        assert argv[argv.index('--bind-address') + 1] == expected
