"""The global .experiment manifest: file format, lock-file protocol, liveness sweep."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from nni.experiment import manifest
from nni.experiment.manifest import Experiments, ManifestLock, pid_alive, sweep_dead_experiments

SRC = Path(__file__).resolve().parents[2] / 'src'


def _lock_files(home: Path) -> list[str]:
    return sorted(p.name for p in home.iterdir() if p.name.startswith('.experiment.lock.'))


def test_home_dir_read_at_call_time(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv('NNI_HOME_DIR', str(tmp_path / 'a'))
    assert manifest.manifest_path() == tmp_path / 'a' / '.experiment'
    monkeypatch.setenv('NNI_HOME_DIR', str(tmp_path / 'b'))
    assert manifest.manifest_path() == tmp_path / 'b' / '.experiment'
    monkeypatch.delenv('NNI_HOME_DIR')
    assert manifest.manifest_path() == Path.home() / 'nni-experiments' / '.experiment'


def test_add_experiment_writes_nni_entry(nni_home: Path) -> None:
    exps = Experiments()
    exps.add_experiment('x1y2z3w4', 8080, 1700000000000, 'local', 'mnist', pid=12345,
                        logDir=Path('/home/u/nni-experiments'), tag=[], prefixUrl=None)
    path = nni_home / '.experiment'
    text = path.read_text()
    assert text == json.dumps(json.loads(text), indent=4)  # pretty-printed with indent 4
    data = json.loads(text)
    assert data == {'x1y2z3w4': {
        'id': 'x1y2z3w4', 'port': 8080, 'startTime': 1700000000000, 'endTime': 'N/A', 'status': 'INITIALIZED',
        'platform': 'local', 'experimentName': 'mnist', 'tag': [], 'pid': 12345, 'webuiUrl': [],
        'logDir': '/home/u/nni-experiments', 'prefixUrl': None,
    }}
    assert list(data['x1y2z3w4']) == ['id', 'port', 'startTime', 'endTime', 'status', 'platform',
                                      'experimentName', 'tag', 'pid', 'webuiUrl', 'logDir', 'prefixUrl']
    assert Experiments().get_all_experiments() == data
    assert _lock_files(nni_home) == []


def test_update_and_remove(nni_home: Path) -> None:
    exps = Experiments()
    exps.add_experiment('a', 8080, 1, 'local', None, pid=1)
    assert exps.update_experiment('a', 'status', 'RUNNING') is True
    assert exps.update_experiment('a', 'endTime', 5) is True
    assert exps.update_experiment('a', 'port', None) is True  # None removes the key
    assert exps.update_experiment('missing', 'status', 'RUNNING') is False
    entry = Experiments().get_all_experiments()['a']
    assert entry['status'] == 'RUNNING' and entry['endTime'] == 5 and 'port' not in entry
    assert exps.get_all_experiments()['a'] == entry  # refreshed by the mutating call

    exps.update_fields('a', {'status': 'DONE', 'endTime': 7, 'pid': None})
    entry = Experiments().get_all_experiments()['a']
    assert (entry['status'], entry['endTime'], 'pid' in entry) == ('DONE', 7, False)

    exps.add_experiment('b', 8081, 1, 'local', None)
    exps.remove_experiment('a')
    exps.remove_experiment('never-there')
    assert list(Experiments().get_all_experiments()) == ['b']


def test_snapshot_taken_at_construction(nni_home: Path) -> None:
    first = Experiments()
    Experiments().add_experiment('a', 8080, 1, 'local', None)
    assert first.get_all_experiments() == {}
    assert 'a' in Experiments().get_all_experiments()


@pytest.mark.parametrize('content', ['', '{not json', '[1, 2]', '"text"', '\x00\x01'])
def test_corrupt_manifest_is_empty(nni_home: Path, content: str) -> None:
    nni_home.mkdir(parents=True)
    (nni_home / '.experiment').write_text(content)
    assert Experiments().get_all_experiments() == {}
    Experiments().add_experiment('a', 8080, 1, 'local', None)
    assert list(json.loads((nni_home / '.experiment').read_text())) == ['a']


def test_fresh_foreign_lock_blocks_until_stale(nni_home: Path) -> None:
    nni_home.mkdir(parents=True)
    Experiments().add_experiment('a', 8080, 1, 'local', None)
    foreign = nni_home / '.experiment.lock.999999999'
    foreign.write_text('')
    now = time.time()
    os.utime(foreign, (now - 1.5, now - 1.5))  # fresh for another ~0.5 s
    started = time.monotonic()
    Experiments().update_experiment('a', 'status', 'RUNNING')
    waited = time.monotonic() - started
    assert 0.3 < waited < 1.5
    assert foreign.exists()  # a lock of someone else is never deleted


def test_stale_foreign_lock_is_ignored(nni_home: Path) -> None:
    nni_home.mkdir(parents=True)
    foreign = nni_home / '.experiment.lock.999999999'
    foreign.write_text('')
    os.utime(foreign, (time.time() - 10, time.time() - 10))
    started = time.monotonic()
    Experiments().add_experiment('a', 8080, 1, 'local', None)
    assert time.monotonic() - started < 0.3


def test_stale_own_lock_file_is_replaced(nni_home: Path) -> None:
    # A crashed process that had our pid left its lock file behind; O_EXCL on it would block forever.
    nni_home.mkdir(parents=True)
    own = nni_home / f'.experiment.lock.{os.getpid()}'
    own.write_text('')
    os.utime(own, (time.time() - 10, time.time() - 10))
    Experiments().add_experiment('a', 8080, 1, 'local', None)
    assert not own.exists()


def test_lock_holds_lock_file_while_held(nni_home: Path) -> None:
    nni_home.mkdir(parents=True)
    lock = ManifestLock(nni_home / '.experiment')
    with lock:
        assert _lock_files(nni_home) == [f'.experiment.lock.{os.getpid()}']
    assert _lock_files(nni_home) == []


def test_threads_of_one_process_exclude_each_other(nni_home: Path) -> None:
    Experiments()
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(15):
                Experiments().add_experiment(f't{n}-{i}', 8080, 1, 'local', None)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(Experiments().get_all_experiments()) == 60


def test_concurrent_writers_in_several_processes_lose_nothing(nni_home: Path) -> None:
    script = textwrap.dedent('''
        import sys
        sys.path.insert(0, sys.argv[1])
        from nni.experiment.manifest import Experiments
        worker = sys.argv[2]
        for i in range(25):
            Experiments().add_experiment(f'{worker}-{i}', 8080, i, 'local', None)
            Experiments().update_experiment(f'{worker}-{i}', 'status', 'RUNNING')
    ''')
    procs = [
        subprocess.Popen([sys.executable, '-c', script, str(SRC), f'w{n}'])
        for n in range(6)
    ]
    for p in procs:
        assert p.wait(timeout=120) == 0
    data = Experiments().get_all_experiments()
    assert len(data) == 150
    assert all(entry['status'] == 'RUNNING' for entry in data.values())
    assert _lock_files(nni_home) == []
    assert [p.name for p in nni_home.iterdir()] == ['.experiment']  # no temporary files left


def test_pid_alive() -> None:
    assert pid_alive(os.getpid())
    assert pid_alive(str(os.getpid()))
    for bad in (None, 0, -1, True, 'abc', 1.5):
        assert not pid_alive(bad)
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    proc.wait()
    assert not pid_alive(proc.pid)


@pytest.mark.skipif(not os.path.isdir('/proc/self'), reason='zombie detection needs /proc')
def test_pid_alive_sees_zombie_as_dead() -> None:
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    try:
        deadline = time.monotonic() + 10
        while pid_alive(proc.pid):
            assert time.monotonic() < deadline, 'a finished child should read as dead before it is reaped'
            time.sleep(0.01)
        os.kill(proc.pid, 0)  # still a zombie: kill(0) alone would call it alive
    finally:
        proc.wait()


def test_sweep_marks_dead_experiments_stopped(nni_home: Path) -> None:
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    exps = Experiments()
    exps.add_experiment('alive', 8080, 1, 'local', None, pid=os.getpid(), status='RUNNING')
    exps.add_experiment('dead', 8081, 1, 'local', None, pid=dead.pid, status='RUNNING')
    exps.add_experiment('nopid', 8082, 1, 'local', None, pid=None, status='DONE')
    exps.add_experiment('stopped', 8083, 1, 'local', None, pid=dead.pid, status='STOPPED')
    before = (nni_home / '.experiment').stat().st_mtime_ns

    result = sweep_dead_experiments()
    data = Experiments().get_all_experiments()
    assert result == data
    assert data['alive']['status'] == 'RUNNING' and data['alive']['port'] == 8080
    assert data['dead']['status'] == 'STOPPED' and 'port' not in data['dead']
    assert data['nopid']['status'] == 'STOPPED' and 'port' not in data['nopid']
    assert data['stopped'] == {**data['stopped'], 'status': 'STOPPED', 'port': 8083}  # left alone

    # Nothing left to change: the file is not rewritten.
    time.sleep(0.01)
    after = (nni_home / '.experiment').stat().st_mtime_ns
    assert after != before
    sweep_dead_experiments()
    assert (nni_home / '.experiment').stat().st_mtime_ns == after


def test_sweep_without_manifest(nni_home: Path) -> None:
    assert sweep_dead_experiments() == {}
    assert not (nni_home / '.experiment').exists()


def test_explicit_home_dir(tmp_path: Path) -> None:
    exps = Experiments(tmp_path / 'elsewhere')
    exps.add_experiment('a', 1, 1, 'local', None)
    assert (tmp_path / 'elsewhere' / '.experiment').exists()
    assert list(sweep_dead_experiments(tmp_path / 'elsewhere')) == ['a']
