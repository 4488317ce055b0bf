"""The Experiment class against the fake manager (tests/experiment/fake_nni_manager.py)."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from experiment_client_helpers import FakeManager, StubConfig, free_port

import nni.experiment
from nni.experiment import experiment as experiment_module
from nni.experiment import launcher, management
from nni.experiment.data import TrialJob, TrialMetricData, TrialResult
from nni.experiment.experiment import Experiment, RunMode
from nni.experiment.manifest import Experiments, pid_alive


class AtexitSpy:
    def __init__(self) -> None:
        self.registered: list[Callable[[], Any]] = []

    def register(self, func: Callable[[], Any]) -> None:
        self.registered.append(func)

    def unregister(self, func: Callable[[], Any]) -> None:
        self.registered = [f for f in self.registered if f != func]


@pytest.fixture
def atexit_spy(monkeypatch: pytest.MonkeyPatch) -> Iterator[AtexitSpy]:
    spy = AtexitSpy()
    monkeypatch.setattr(experiment_module, 'atexit', spy)
    yield spy
    for func in list(spy.registered):  # what the interpreter would do at exit
        func()


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(experiment_module, 'WAIT_INTERVAL', 0.01)


@pytest.fixture
def running(
    fake_manager: FakeManager, stub_config: StubConfig, atexit_spy: AtexitSpy
) -> Iterator[Experiment]:
    exp = Experiment(stub_config)
    exp.start(free_port())
    yield exp
    if exp._proc is not None:
        exp.stop()


def _gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.01)
    return False


class FakeTuner:
    def generate_parameters(self, parameter_id: int, **kwargs: Any) -> dict[str, Any]:
        return {}


# ---------------------------------------------------------------------------------------------------------
# Construction


def test_ids() -> None:
    exp = Experiment(None)
    assert len(exp.id) == 8 and len(set(exp.id)) == 8 and management.is_valid_experiment_id(exp.id)
    assert Experiment(None, 'my_Exp-1').id == 'my_Exp-1'
    assert Experiment(None, id='x' * 32).id == 'x' * 32
    for bad in ('', 'x' * 33, 'a b', 'a/b', 'é'):
        with pytest.raises(ValueError, match='Invalid experiment ID'):
            Experiment(None, bad)
    assert exp.port is None and exp.url_prefix is None and exp._proc is None and exp._action == 'create'


def test_generated_ids_ignore_random_seed() -> None:
    import random

    random.seed(0)
    first = management.generate_experiment_id()
    random.seed(0)
    assert management.generate_experiment_id() != first


def test_platform_string_builds_config() -> None:
    config_module = pytest.importorskip('nni.experiment.config')
    if not hasattr(config_module, 'ExperimentConfig'):
        pytest.skip('nni.experiment.config does not export ExperimentConfig yet')
    exp = Experiment('local')
    assert isinstance(exp.config, config_module.ExperimentConfig)
    assert exp.config.training_service.platform == 'local'


def test_config_object_kept(stub_config: StubConfig) -> None:
    assert Experiment(stub_config).config is stub_config


def test_legacy_tuner_forms(stub_config: StubConfig, fake_manager: FakeManager) -> None:
    tuner = FakeTuner()
    exp = Experiment(tuner, stub_config)
    assert exp._tuner is tuner and exp.config is stub_config
    assert management.is_valid_experiment_id(exp.id)
    exp = Experiment(tuner=tuner, training_service=stub_config, id='legacy1')
    assert exp._tuner is tuner and exp.config is stub_config and exp.id == 'legacy1'
    # the in-process form runs end to end in tests/e2e/test_in_process_tuner.py
    with pytest.raises(TypeError):
        Experiment(stub_config, training_service=stub_config)


def test_package_exports() -> None:
    assert nni.experiment.Experiment is Experiment
    assert nni.experiment.RunMode is RunMode
    assert nni.experiment.TrialJob is TrialJob
    assert nni.experiment.TrialMetricData is TrialMetricData
    assert nni.experiment.TrialResult is TrialResult
    from nni.experiment import TrialHyperParameters  # noqa: F401
    with pytest.raises(AttributeError):
        nni.experiment._nothing  # noqa: B018


def test_package_exports_config_classes() -> None:
    config_module = pytest.importorskip('nni.experiment.config')
    if not hasattr(config_module, 'ExperimentConfig'):
        pytest.skip('nni.experiment.config does not export ExperimentConfig yet')
    from nni.experiment import ExperimentConfig

    assert ExperimentConfig is config_module.ExperimentConfig
    assert 'Experiment' in nni.experiment.__all__ and 'ExperimentConfig' in nni.experiment.__all__


def test_importing_manifest_stays_light() -> None:
    # The manager imports nni.experiment.manifest on every start: it must not drag the client or config in.
    code = ('import sys, nni.experiment.manifest; '
            'print(sorted(m for m in sys.modules if m.startswith("nni.experiment")))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['nni.experiment', 'nni.experiment.manifest']"


# ---------------------------------------------------------------------------------------------------------
# start / stop


def test_start_and_stop(fake_manager: FakeManager, stub_config: StubConfig, atexit_spy: AtexitSpy) -> None:
    exp = Experiment(stub_config, 'lifecycle')
    port = free_port()
    exp.start(port)
    proc = exp._proc
    assert proc is not None and proc.poll() is None
    assert exp.port == port
    assert atexit_spy.registered == [exp.stop]
    assert stub_config.canonical_calls == 1
    assert exp.get_status() == 'RUNNING'
    assert Experiments().get_all_experiments()['lifecycle']['pid'] == proc.pid

    log_file = Path(stub_config.experiment_working_directory, 'lifecycle', 'log', 'experiment.log')
    assert 'Creating experiment, Experiment ID: lifecycle' in log_file.read_text()

    exp.stop()
    assert proc.poll() == 0  # exited by itself after DELETE /experiment
    assert exp.port is None and exp._proc is None
    assert atexit_spy.registered == []
    assert len(fake_manager.requests('DELETE', '/experiment')) == 1
    assert Experiments().get_all_experiments()['lifecycle']['status'] == 'STOPPED'
    text = log_file.read_text()
    assert 'Stopping NNI manager, if any...' in text
    lines = [line for line in text.splitlines() if line]
    assert all(line.startswith('[') and '] INFO (nni.experiment' in line for line in lines[:2])
    # the experiment.log handler is gone after stop
    size = log_file.stat().st_size
    logging.getLogger('nni.experiment').warning('after stop')
    assert log_file.stat().st_size == size

    exp.stop()  # a second stop is harmless


def test_start_twice_refused(running: Experiment) -> None:
    with pytest.raises(RuntimeError, match='already running'):
        running.start(free_port())


def test_detach_is_not_stopped_at_exit(
    fake_manager: FakeManager, stub_config: StubConfig, atexit_spy: AtexitSpy
) -> None:
    exp = Experiment(stub_config)
    exp.start(free_port(), run_mode=RunMode.Detach)
    assert atexit_spy.registered == []
    assert Path(stub_config.experiment_working_directory, exp.id, 'log', 'nnictl_stderr.log').exists()
    exp.stop()


def test_foreground_flag(fake_manager: FakeManager, stub_config: StubConfig, atexit_spy: AtexitSpy) -> None:
    exp = Experiment(stub_config)
    exp.start(free_port(), run_mode=RunMode.Foreground)
    argv = fake_manager.starts()[0]['argv']
    assert argv[argv.index('--foreground') + 1] == 'true'
    assert atexit_spy.registered == [exp.stop]
    exp.stop()


def test_url_prefix(fake_manager: FakeManager, stub_config: StubConfig, atexit_spy: AtexitSpy) -> None:
    exp = Experiment(stub_config)
    exp.url_prefix = '/my/prefix/'
    exp.start(free_port())
    assert exp.get_status() == 'RUNNING'
    assert fake_manager.requests('GET', '/check-status')[-1]['path'] == '/my/prefix/api/v1/nni/check-status'
    exp.stop()


def test_annotation_refused(fake_manager: FakeManager, stub_config: StubConfig, atexit_spy: AtexitSpy) -> None:
    stub_config.use_annotation = True
    with pytest.raises(RuntimeError, match='NNI annotation is not supported by Python experiment API.'):
        Experiment(stub_config).start(free_port())
    assert fake_manager.starts() == [] and atexit_spy.registered == []


def test_failed_start_cleans_up(fake_manager: FakeManager, stub_config: StubConfig, atexit_spy: AtexitSpy) -> None:
    fake_manager.mode('exit')
    exp = Experiment(stub_config)
    with pytest.raises(launcher.ManagerStartError):
        exp.start(free_port())
    assert atexit_spy.registered == [] and exp.port is None and exp._proc is None
    assert exp.id not in experiment_module._log_handlers


def test_no_config() -> None:
    with pytest.raises(RuntimeError, match='no config'):
        Experiment(None).start(free_port())


def test_stop_falls_back_to_sigterm(
    fake_manager: FakeManager, stub_config: StubConfig, atexit_spy: AtexitSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_manager.mode('ignore-delete')
    monkeypatch.setattr(experiment_module, 'STOP_TIMEOUT', 0.3)
    exp = Experiment(stub_config)
    exp.start(free_port())
    proc = exp._proc
    assert proc is not None
    exp.stop()
    assert proc.poll() == 0  # the fake exits cleanly on SIGTERM
    assert exp._proc is None


def test_stop_falls_back_to_sigkill(
    fake_manager: FakeManager, stub_config: StubConfig, atexit_spy: AtexitSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_manager.mode('stubborn')
    monkeypatch.setattr(experiment_module, 'STOP_TIMEOUT', 0.2)
    monkeypatch.setattr(experiment_module, 'KILL_GRACE', 0.2)
    exp = Experiment(stub_config)
    exp.start(free_port())
    proc = exp._proc
    assert proc is not None
    exp.stop()
    assert proc.poll() is not None and proc.poll() < 0
    entry = Experiments().get_all_experiments()[exp.id]
    assert entry['status'] == 'STOPPED' and 'port' not in entry  # recorded for the killed manager


def test_stop_when_manager_already_dead(running: Experiment) -> None:
    proc = running._proc
    assert proc is not None
    launcher.signal_process_group(proc.pid, 9)
    proc.wait(5)
    running.stop()
    assert running._proc is None and running.port is None


# ---------------------------------------------------------------------------------------------------------
# run


@pytest.mark.parametrize(('statuses', 'expected'), [
    (('RUNNING', 'RUNNING', 'DONE'), True),
    (('RUNNING', 'NO_MORE_TRIAL', 'STOPPED'), True),
    (('RUNNING', 'TUNER_NO_MORE_TRIAL', 'ERROR'), False),
])
def test_run_waits_for_end(
    fake_manager: FakeManager, stub_config: StubConfig, atexit_spy: AtexitSpy, fast: None,
    statuses: tuple[str, ...], expected: bool,
) -> None:
    fake_manager.statuses(*statuses)
    exp = Experiment(stub_config)
    assert exp.run(free_port()) is expected
    assert len(fake_manager.requests('GET', '/check-status')) >= len(statuses)
    assert exp._proc is not None and exp._proc.poll() is None  # run() does not stop the experiment
    assert atexit_spy.registered == [exp.stop]


def test_run_without_waiting(fake_manager: FakeManager, stub_config: StubConfig, atexit_spy: AtexitSpy) -> None:
    exp = Experiment(stub_config)
    assert exp.run(free_port(), wait_completion=False) is None
    assert exp.port is not None


def test_run_ctrl_c_stops(
    fake_manager: FakeManager, stub_config: StubConfig, atexit_spy: AtexitSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    exp = Experiment(stub_config)

    def interrupted() -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(exp, 'get_status', interrupted)
    assert exp.run(free_port()) is None
    assert exp._proc is None and atexit_spy.registered == []
    [start] = fake_manager.starts()
    assert _gone(start['pid'])


def test_run_reports_dead_manager(running: Experiment, fast: None) -> None:
    proc = running._proc
    assert proc is not None
    launcher.signal_process_group(proc.pid, 9)
    proc.wait(5)
    with pytest.raises(RuntimeError, match='exited unexpectedly'):
        running._wait_completion()


# ---------------------------------------------------------------------------------------------------------
# Queries and updates


def test_queries(running: Experiment) -> None:
    jobs = running.list_trial_jobs()
    assert [j.trialJobId for j in jobs] == ['Ab12c']
    job = running.get_trial_job('Ab12c')
    assert job.finalMetricData[0].data == 0.93 and job.hyperParameters[0].parameters == {'lr': 0.01}
    with pytest.raises(ValueError, match='does not exist'):
        running.get_trial_job('nope1')
    assert running.get_job_statistics() == [{'trialJobStatus': 'SUCCEEDED', 'trialJobNumber': 1}]

    metrics = running.get_job_metrics()
    assert sorted(metrics) == ['Ab12c', 'Xy34z']
    assert [m.data for m in metrics['Ab12c']] == [0.5, 0.93]
    assert metrics['Xy34z'][0].data == {'default': 0.25, 'loss': 1.5}
    assert list(running.get_job_metrics('Ab12c')) == ['Ab12c']

    profile = running.get_experiment_profile()
    assert profile['id'] == running.id and profile['params']['trialConcurrency'] == 1

    metadata = running.get_experiment_metadata(running.id)
    assert metadata['pid'] == running._proc.pid  # type: ignore[union-attr]
    assert running.get_experiment_metadata('not-there') == {}
    assert [m['id'] for m in running.get_all_experiments_metadata()] == [running.id]

    [result] = running.export_data()
    assert result == TrialResult(parameter={'lr': 0.01}, value='0.93', trialJobId='Ab12c')


def test_updates(running: Experiment, fake_manager: FakeManager) -> None:
    running.update_trial_concurrency(4)
    running.update_max_trial_number(20)
    running.update_max_experiment_duration('2h')
    running.update_search_space({'x': {'_type': 'choice', '_value': [1]}})
    running.kill_trial_job('Ab12c')
    puts = fake_manager.requests('PUT', '/experiment')
    assert [p['path'].split('?')[1] for p in puts] == [
        'update_type=TRIAL_CONCURRENCY', 'update_type=MAX_TRIAL_NUM',
        'update_type=MAX_EXEC_DURATION', 'update_type=SEARCH_SPACE',
    ]
    assert puts[0]['body']['params']['trialConcurrency'] == 4
    assert puts[0]['body']['id'] == running.id  # the whole profile is sent back
    assert puts[1]['body']['params']['maxTrialNumber'] == 20
    assert puts[2]['body']['params']['maxExperimentDuration'] == '2h'
    assert puts[3]['body']['params']['searchSpace'] == {'x': {'_type': 'choice', '_value': [1]}}
    assert fake_manager.requests('DELETE', '/trial-jobs/Ab12c')


def test_queries_need_a_running_experiment() -> None:
    with pytest.raises(RuntimeError, match='Experiment is not running'):
        Experiment(None).get_status()


# ---------------------------------------------------------------------------------------------------------
# connect


def test_connect_and_stop(fake_manager: FakeManager, stub_config: StubConfig) -> None:
    port = free_port()
    proc = launcher.start_experiment('create', 'conn1', stub_config, port, False, RunMode.Detach, None)
    exp = Experiment.connect(port)
    assert exp.id == 'conn1' and exp.port == port and exp.config is None
    assert isinstance(exp._proc, launcher.ProcessHandle) and exp._proc.pid == proc.pid
    assert exp.get_status() == 'RUNNING'
    exp.stop()
    assert proc.wait(5) == 0
    assert exp._proc is None


def test_connect_without_pid(running: Experiment, caplog: pytest.LogCaptureFixture) -> None:
    Experiments().update_experiment(running.id, 'pid', None)
    exp = Experiment.connect(running.port)  # type: ignore[arg-type]
    assert exp._proc is None
    assert any('can not stop experiment by stop()' in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------------------------------------------------
# resume / view / checkpoints


@pytest.fixture
def stopped(fake_manager: FakeManager, stub_config: StubConfig, atexit_spy: AtexitSpy,
            monkeypatch: pytest.MonkeyPatch) -> str:
    exp = Experiment(stub_config, 'stopped1')
    exp.start(free_port())
    exp.stop()
    loaded: list[Any] = []

    def fake_get_stopped(exp_id: str, exp_dir: Any = None) -> StubConfig:
        # The real function needs the config package; what it reads is tested in test_client_launcher.py.
        loaded.append((exp_id, exp_dir))
        return StubConfig(Path(stub_config.experiment_working_directory))

    monkeypatch.setattr(launcher, 'get_stopped_experiment_config', fake_get_stopped)
    return 'stopped1'


def test_has_checkpoint(stopped: str) -> None:
    assert Experiment(None, stopped).has_checkpoint()
    assert not Experiment(None, 'never-ran').has_checkpoint()


def test_resume(stopped: str, fake_manager: FakeManager, atexit_spy: AtexitSpy, fast: None) -> None:
    fake_manager.statuses('RUNNING', 'DONE')
    exp = Experiment(None, stopped)
    assert exp.resume(free_port()) is True
    assert exp._action == 'resume' and isinstance(exp.config, StubConfig)
    argv = fake_manager.starts()[-1]['argv']
    assert argv[argv.index('--action') + 1] == 'resume'
    assert argv[argv.index('--experiment-id') + 1] == stopped


def test_resume_deprecated_call_style(
    stopped: str, fake_manager: FakeManager, atexit_spy: AtexitSpy, caplog: pytest.LogCaptureFixture
) -> None:
    assert Experiment.resume(stopped, free_port(), False) is None  # type: ignore[arg-type]
    assert any('deprecated' in r.getMessage() for r in caplog.records)
    assert fake_manager.starts()[-1]['argv'][5] == 'resume'
    assert len(atexit_spy.registered) == 1  # the new instance is stopped at exit


def test_resume_unknown(nni_home: Path) -> None:
    with pytest.raises(RuntimeError, match='Experiment nope does not exist thus cannot be resumed.'):
        Experiment(None, 'nope').resume()
    with pytest.raises(RuntimeError, match='Experiment nope does not exist thus cannot be viewed.'):
        Experiment(None, 'nope').view()


def test_view_non_blocking(stopped: str, fake_manager: FakeManager, atexit_spy: AtexitSpy) -> None:
    exp = Experiment(None, stopped).view(free_port(), non_blocking=True)
    argv = fake_manager.starts()[-1]['argv']
    assert argv[argv.index('--action') + 1] == 'view'
    assert argv[argv.index('--foreground') + 1] == 'false'
    assert atexit_spy.registered == []  # detached
    assert exp._proc is not None and exp._proc.poll() is None
    exp.stop()


def test_view_blocking_until_ctrl_c(
    stopped: str, fake_manager: FakeManager, atexit_spy: AtexitSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_sleep = time.sleep
    interval = 0.0123  # tells the view loop's sleeps apart from the launcher's
    monkeypatch.setattr(experiment_module, 'WAIT_INTERVAL', interval)
    looped = []

    def sleep(seconds: float) -> None:
        if seconds == interval:
            looped.append(seconds)
            if len(looped) == 3:
                raise KeyboardInterrupt
        real_sleep(seconds)

    monkeypatch.setattr(experiment_module.time, 'sleep', sleep)
    exp = Experiment.view(stopped, free_port())  # type: ignore[arg-type]
    monkeypatch.setattr(experiment_module.time, 'sleep', real_sleep)
    assert len(looped) == 3
    assert exp._proc is None  # stopped in the finally clause
    assert fake_manager.requests('DELETE', '/experiment')


def test_view_blocking_ends_with_manager(
    stopped: str, fake_manager: FakeManager, atexit_spy: AtexitSpy, fast: None
) -> None:
    def kill_when_up() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            views = [s for s in fake_manager.starts() if 'view' in s['argv']]
            if views and fake_manager.requests('POST', '/experiment')[1:]:
                launcher.signal_process_group(views[0]['pid'], 15)
                return
            time.sleep(0.01)

    killer = threading.Thread(target=kill_when_up)
    killer.start()
    exp = Experiment.view(stopped, free_port())  # type: ignore[arg-type]
    killer.join()
    assert exp._proc is None


def test_run_or_resume(stopped: str, fake_manager: FakeManager, stub_config: StubConfig,
                       atexit_spy: AtexitSpy) -> None:
    exp = Experiment(stub_config, stopped)
    exp.run_or_resume(free_port(), wait_completion=False)
    assert exp._action == 'resume'
    exp.stop()
    fresh = Experiment(stub_config, 'fresh1')
    fresh.run_or_resume(free_port(), wait_completion=False)
    assert fresh._action == 'create'
    fresh.stop()


def test_load_checkpoint_keeps_current_config(
    stopped: str, stub_config: StubConfig, caplog: pytest.LogCaptureFixture
) -> None:
    same = Experiment(StubConfig(Path(stub_config.experiment_working_directory)), stopped)
    same.load_checkpoint()
    assert any('matches the loaded config' in r.getMessage() for r in caplog.records)

    changed_config = StubConfig(Path(stub_config.experiment_working_directory), trial_concurrency=7)
    changed = Experiment(changed_config, stopped)
    changed.load_checkpoint()
    assert changed.config is changed_config
    [diff] = [r.getMessage() for r in caplog.records if 'does not match' in r.getMessage()]
    assert '"trialConcurrency": 7' in diff and '"trialConcurrency": 1' in diff


def test_save_checkpoint_is_noop() -> None:
    assert Experiment(None).save_checkpoint() is None


def test_web_portal_urls() -> None:
    urls = experiment_module._web_portal_urls(8080, None, None)
    assert urls == ['http://127.0.0.1:8080']
    assert experiment_module._web_portal_urls(8080, '/p/', '127.0.0.1') == ['http://127.0.0.1:8080/p']
    urls = experiment_module._web_portal_urls(8080, None, '10.1.2.3')
    assert urls[:2] == ['http://10.1.2.3:8080', 'http://127.0.0.1:8080']
    assert len(urls) == len(set(urls))


def test_client_needs_no_third_party_packages() -> None:
    code = ('import sys, nni.experiment.experiment; '
            'print([m for m in ("psutil", "requests", "yaml") if m in sys.modules])')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == '[]'


# ---------------------------------------------------------------------------------------------------------
# With the real ExperimentConfig


@pytest.fixture
def real_config(tmp_path: Path) -> Any:
    config_module = pytest.importorskip('nni.experiment.config')
    if not hasattr(config_module, 'ExperimentConfig'):
        pytest.skip('nni.experiment.config does not export ExperimentConfig yet')
    config = config_module.ExperimentConfig('local')
    config.trial_command = 'python trial.py'
    config.trial_code_directory = str(tmp_path)
    config.search_space = {'a': {'_type': 'choice', '_value': [1, 2]}}
    config.tuner.name = 'random'
    config.trial_concurrency = 2
    config.experiment_working_directory = str(tmp_path / 'workdir')
    return config


def test_real_config_round_trip(
    fake_manager: FakeManager, real_config: Any, atexit_spy: AtexitSpy, fast: None
) -> None:
    import json
    import sqlite3

    exp = Experiment(real_config, 'real1')
    exp.start(free_port())
    [post] = fake_manager.requests('POST', '/experiment')
    assert post['body'] == real_config.canonical_copy().json()
    exp.stop()

    # What the real manager would have stored; resume reads it back through ExperimentConfig(**json).
    db = Path(real_config.experiment_working_directory, 'real1', 'db')
    db.mkdir(parents=True)
    conn = sqlite3.connect(db / 'nni.sqlite')
    conn.execute('create table ExperimentProfile (params text, id text, execDuration integer, startTime integer, '
                 'endTime integer, logDir text, nextSequenceId integer, revision integer)')
    conn.execute('insert into ExperimentProfile values (?, ?, 0, 1, 2, ?, 0, 1)',
                 (json.dumps(post['body']), 'real1', str(db.parent)))
    conn.commit()
    conn.close()

    fake_manager.statuses('RUNNING', 'DONE')
    resumed = Experiment(None, 'real1')
    assert resumed.resume(free_port()) is True
    assert resumed.config is not None and resumed.config.trial_concurrency == 2
    assert fake_manager.requests('POST', '/experiment')[-1]['body'] == post['body']
    assert fake_manager.starts()[-1]['argv'][5] == 'resume'


def test_create_experiment_directory(tmp_path: Path) -> None:
    path = management.create_experiment_directory('abc', tmp_path / 'wd')
    assert path == tmp_path / 'wd' / 'abc' and path.is_dir()
    assert management.create_experiment_directory('abc', tmp_path / 'wd') == path  # idempotent


def test_star_import() -> None:
    namespace: dict[str, Any] = {}
    exec('from nni.experiment import *', namespace)
    for name in ('Experiment', 'RunMode', 'TrialJob', 'TrialMetricData', 'TrialResult'):
        assert name in namespace
    assert 'Experiment' in dir(nni.experiment)


def test_token_sent_on_mutating_calls(
    fake_manager: FakeManager, stub_config: StubConfig, atexit_spy: AtexitSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv('FAKE_NNI_TOKEN', 's3cret')
    exp = Experiment(stub_config, 'tok1')
    port = free_port()
    exp.start(port)
    exp.update_trial_concurrency(2)
    exp.kill_trial_job('Ab12c')
    connected = Experiment.connect(port)
    connected.update_max_trial_number(3)
    exp.stop()
    assert fake_manager.requests('POST', '/experiment')[0]['token'] == 's3cret'
    assert [r['token'] for r in fake_manager.requests('PUT')] == ['s3cret', 's3cret']
    assert [r['token'] for r in fake_manager.requests('DELETE')] == ['s3cret', 's3cret']
    assert launcher.read_token(stub_config.experiment_working_directory, 'tok1') == 's3cret'
    assert launcher.read_token(stub_config.experiment_working_directory, 'other') is None
