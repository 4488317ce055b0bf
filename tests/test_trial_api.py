"""The public trial API of ``import nni``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading

import pytest

import nni
import nni.trial

_TRIAL_VARS = (
    'NNI_PLATFORM', 'NNI_EXP_ID', 'NNI_TRIAL_JOB_ID', 'NNI_SYS_DIR', 'NNI_OUTPUT_DIR', 'NNI_CODE_DIR',
    'NNI_TRIAL_SEQ_ID', 'NNI_TRIAL_COMMAND_CHANNEL', 'NNI_TRIAL_TOKEN', 'NNI_STANDALONE_PARAMETERS',
    'MULTI_PHASE', 'REUSE_MODE', 'SDK_PROCESS',
)
RECORD = {'parameter_id': 5, 'parameter_source': 'algorithm', 'parameters': {'lr': 0.1}, 'parameter_index': 0}


@pytest.fixture(autouse=True)
def _clean_trial_state(monkeypatch):
    for name in _TRIAL_VARS:
        monkeypatch.delenv(name, raising=False)
    nni.trial._reset()
    yield
    nni.trial._reset()


@pytest.fixture
def local_trial(tmp_path, monkeypatch):
    """A legacy local trial (file channel) with parameter.cfg in place."""
    (tmp_path / 'parameter.cfg').write_text(json.dumps(RECORD))
    monkeypatch.setenv('NNI_PLATFORM', 'local')
    monkeypatch.setenv('NNI_TRIAL_JOB_ID', 'T0001')
    monkeypatch.setenv('NNI_SYS_DIR', str(tmp_path))
    monkeypatch.setenv('NNI_OUTPUT_DIR', str(tmp_path))
    return tmp_path


def _envelopes(trial_dir):
    data = (trial_dir / '.nni' / 'metrics').read_bytes()
    out = []
    while data:
        length = int(data[2:8])
        out.append(json.loads(data[8:8 + length]))
        data = data[8 + length:]
    return out


def _clean_env():
    return {key: value for key, value in os.environ.items() if key not in _TRIAL_VARS}


def _python(code: str, env: dict[str, str] | None = None, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args, '-c', code], env=env or _clean_env(), capture_output=True,
                          text=True, timeout=60)


# -- import hygiene -------------------------------------------------------------------------------


def test_import_nni_loads_only_stdlib_and_nothing_heavy():
    code = textwrap.dedent('''
        import sys
        before = set(sys.modules)
        import nni
        new = sorted(set(sys.modules) - before)
        print(' '.join(new))
    ''')
    result = _python(code)
    assert result.returncode == 0, result.stderr
    new = result.stdout.split()
    outside = [m for m in new if m.split('.')[0] not in sys.stdlib_module_names and m.split('.')[0] != 'nni']
    assert outside == []
    heavy = {'json', 'http', 'http.client', 'urllib', 'urllib.parse', 'email', 'socket', 'ssl', 'logging',
             'threading', 'warnings', 'typing', 're', 'importlib.util', 'numpy', 'yaml'}
    assert heavy.isdisjoint(new), sorted(heavy.intersection(new))
    assert [m for m in new if m.startswith('nni')] == ['nni', 'nni.trial']


def test_json_and_http_are_loaded_only_when_used(tmp_path):
    (tmp_path / 'parameter.cfg').write_text(json.dumps(RECORD))
    code = textwrap.dedent('''
        import sys
        import nni
        assert 'json' not in sys.modules and 'socket' not in sys.modules
        nni.get_next_parameter()
        print('after get', '_socket' in sys.modules)
        nni.report_final_result(1)
        print('after report', '_socket' in sys.modules)
        # the heavy modules a trial never needs for reporting
        heavy = [name for name in ('http.client', 'ssl', 'email', 'urllib.parse', 'threading', 'logging')
                 if name in sys.modules]
        print('heavy', heavy)
    ''')
    env = dict(_clean_env(), NNI_PLATFORM='local', NNI_SYS_DIR=str(tmp_path), NNI_OUTPUT_DIR=str(tmp_path),
               NNI_TRIAL_COMMAND_CHANNEL='http://127.0.0.1:9/env/e/t')
    result = _python(code, env)
    assert result.returncode == 0, result.stderr
    # parameter.cfg needs no HTTP; the first metric does.
    # (the manager is unreachable here: the warning about the fallback file does load logging)
    assert result.stdout.splitlines()[:2] == ['after get False', 'after report True']


def _answer_every_request_with_200(server: socket.socket, bodies: list[bytes]) -> None:
    connection, _ = server.accept()
    with connection:
        buffer = b''
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                return
            buffer += chunk
            while b'\r\n\r\n' in buffer:
                head, rest = buffer.split(b'\r\n\r\n', 1)
                length = next(int(line.split(b':')[1]) for line in head.split(b'\r\n')
                              if line.lower().startswith(b'content-length:'))
                while len(rest) < length:
                    rest += connection.recv(65536)
                bodies.append(rest[:length])
                buffer = rest[length:]
                connection.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')


def test_a_delivered_metric_needs_neither_json_nor_socket_py(tmp_path):
    # json pulls in re and enum, socket.py enum and selectors: together about as much CPU as the
    # whole interpreter start, for every trial (see nni.runtime.lean_json and mini_http)
    (tmp_path / 'parameter.cfg').write_text(json.dumps(RECORD))
    server = socket.socket()
    server.bind(('127.0.0.1', 0))
    server.listen(1)
    bodies: list[bytes] = []
    thread = threading.Thread(target=_answer_every_request_with_200, args=(server, bodies), daemon=True)
    thread.start()
    code = textwrap.dedent('''
        import sys
        import nni
        params = nni.get_next_parameter()
        nni.report_intermediate_result({'default': 0.25, 'loss': float('nan')})
        nni.report_final_result(params['lr'] * 2)
        print(sorted(name for name in ('json', 're', 'enum', 'socket', 'typing', 'logging') if name in sys.modules))
    ''')
    port = server.getsockname()[1]
    env = dict(_clean_env(), NNI_PLATFORM='local', NNI_SYS_DIR=str(tmp_path), NNI_OUTPUT_DIR=str(tmp_path),
               NNI_TRIAL_JOB_ID='tr1', NNI_TRIAL_COMMAND_CHANNEL=f'http://127.0.0.1:{port}/env/e/tr1')
    result = _python(code, env)
    server.close()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '[]'
    thread.join(timeout=10)
    sent = [json.loads(json.loads(body)['metric']) for body in bodies]
    assert [(m['type'], m['sequence'], m['parameter_id'], m['trial_job_id']) for m in sent] == [
        ('PERIODICAL', 0, 5, 'tr1'), ('FINAL', 0, 5, 'tr1')]
    periodical = json.loads(sent[0]['value'])
    assert periodical['default'] == 0.25 and periodical['loss'] != periodical['loss']
    assert json.loads(sent[1]['value']) == 0.2


def test_dispatcher_process_has_no_trial_api():
    code = textwrap.dedent('''
        import nni
        print(hasattr(nni, 'get_next_parameter'), hasattr(nni, 'report_final_result'), nni.__version__)
        print(nni.trial.get_trial_id())
    ''')
    result = _python(code, dict(_clean_env(), SDK_PROCESS='dispatcher'))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ['False False 3.0.0', 'STANDALONE']


# -- module surface -------------------------------------------------------------------------------

def test_public_names():
    assert nni.__version__ == '3.0.0'
    for name in ('get_next_parameter', 'get_next_parameters', 'get_parameters', 'get_current_parameter',
                 'report_intermediate_result', 'report_final_result', 'get_experiment_id', 'get_trial_id',
                 'get_sequence_id'):
        assert callable(getattr(nni, name)), name
        assert name in nni.__all__
    assert nni.get_next_parameters is nni.get_next_parameter
    assert nni.get_parameters is nni.get_next_parameter


def test_lazy_json_helpers():
    assert nni.load(nni.dump({'a': [1, 2.5]})) == {'a': [1, 2.5]}
    assert 'dump' in dir(nni)


def test_unknown_attribute():
    with pytest.raises(AttributeError, match="no attribute 'no_such_thing'"):
        nni.no_such_thing  # noqa: B018
    with pytest.raises(ImportError):
        from nni import no_such_thing  # noqa: F401


def test_submodules_resolve_lazily():
    result = _python('import nni; print(nni.runtime.__name__, nni.tuner.__name__)')
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ['nni.runtime', 'nni.tuner']


def test_no_more_trial_error_is_reexported():
    errors = pytest.importorskip('nni._errors')
    assert nni.NoMoreTrialError is errors.NoMoreTrialError
    assert issubclass(nni.NoMoreTrialError, Exception)


# -- behaviour under an experiment ----------------------------------------------------------------

def test_report_before_get_next_parameter_asserts(local_trial):
    with pytest.raises(AssertionError, match=r'^nni.get_next_parameter\(\) needs to be called before '
                                             r'report_intermediate_result$'):
        nni.report_intermediate_result(1)
    with pytest.raises(AssertionError, match='before report_final_result'):
        nni.report_final_result(1)
    assert not (local_trial / '.nni' / 'metrics').exists()


def test_sequence_numbers_and_parameter_id(local_trial):
    assert nni.get_current_parameter() is None
    assert nni.get_next_parameter() == {'lr': 0.1}
    assert nni.get_current_parameter() == {'lr': 0.1}
    assert nni.get_current_parameter('lr') == 0.1
    with pytest.raises(KeyError):
        nni.get_current_parameter('momentum')
    for value in (0.1, 0.2, 0.3):
        nni.report_intermediate_result(value)
    with pytest.raises(TypeError):
        nni.report_intermediate_result('bad')  # rejected metrics do not use up a sequence number
    nni.report_intermediate_result(0.4)
    nni.report_final_result(0.9)
    got = [(e['type'], e['sequence'], e['value'], e['parameter_id'], e['trial_job_id']) for e in _envelopes(local_trial)]
    assert got == [('PERIODICAL', 0, '0.1', 5, 'T0001'), ('PERIODICAL', 1, '0.2', 5, 'T0001'),
                   ('PERIODICAL', 2, '0.3', 5, 'T0001'), ('PERIODICAL', 3, '0.4', 5, 'T0001'),
                   ('FINAL', 0, '0.9', 5, 'T0001')]


def test_sequence_numbers_unique_across_threads(local_trial):
    nni.get_next_parameter()

    def work():
        for _ in range(50):
            nni.report_intermediate_result(1)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(e['sequence'] for e in _envelopes(local_trial)) == list(range(200))


def test_numpy_metrics_accepted(local_trial):
    np = pytest.importorskip('numpy')
    nni.get_next_parameter()
    nni.report_intermediate_result(np.float32(0.5))
    nni.report_intermediate_result(np.int64(2))
    nni.report_final_result({'default': np.float64(0.25), 'confusion': np.eye(2, dtype=int)})
    assert [e['value'] for e in _envelopes(local_trial)] == ['0.5', '2', '{"default": 0.25, "confusion": [[1, 0], [0, 1]]}']


def test_end_to_end_trial_process(tmp_path):
    (tmp_path / 'parameter.cfg').write_text(json.dumps(RECORD))
    script = tmp_path / 'trial.py'
    script.write_text(textwrap.dedent('''
        import nni
        params = nni.get_next_parameter()
        for epoch in range(3):
            nni.report_intermediate_result(params['lr'] * epoch)
        nni.report_final_result({'default': 0.5, 'epochs': 3})
        print('done', nni.get_experiment_id(), nni.get_trial_id(), nni.get_sequence_id())
    '''))
    env = dict(_clean_env(), NNI_PLATFORM='local', NNI_EXP_ID='exp1', NNI_TRIAL_JOB_ID='T0002',
               NNI_TRIAL_SEQ_ID='4', NNI_SYS_DIR=str(tmp_path), NNI_OUTPUT_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == 'done exp1 T0002 4\n'
    assert result.stderr == ''
    assert [(e['type'], e['sequence'], e['value']) for e in _envelopes(tmp_path)] == [
        ('PERIODICAL', 0, '0.0'), ('PERIODICAL', 1, '0.1'), ('PERIODICAL', 2, '0.2'),
        ('FINAL', 0, '{"default": 0.5, "epochs": 3}')]
