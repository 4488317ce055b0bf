"""NNI's nnictl helper modules (command_utils, common_utils, config_utils, nnictl_utils, launcher_utils,
rest_utils, updater) over our manifest, store and a real HTTP server."""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from nni.experiment.manifest import Experiments
from nni.tools.nnictl import (
    command_utils,
    common_utils,
    config_utils,
    launcher_utils,
    nnictl_utils,
    rest_utils,
    updater,
)

TRIALS = [
    {'id': 'good', 'status': 'SUCCEEDED', 'startTime': 1600000000000,
     'finalMetricData': [{'data': json.dumps(json.dumps(0.9))}]},
    {'id': 'bad', 'status': 'SUCCEEDED', 'startTime': 1600000000000,
     'finalMetricData': [{'data': json.dumps(json.dumps({'default': 0.1}))}]},
    {'id': 'running', 'status': 'RUNNING'},
]


class _Manager(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
        pass

    def _answer(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        routes = {'/api/v1/nni/check-status': {'status': 'RUNNING', 'errors': []},
                  '/api/v1/nni/trial-jobs': TRIALS,
                  '/api/v1/nni/experiment': {'id': 'exp1', 'startTime': 1600000000000, 'endTime': None}}
        if self.path in routes:
            self._answer(200, routes[self.path])
        else:
            self._answer(404, {'error': 'not found'})

    def do_DELETE(self) -> None:  # noqa: N802
        self._answer(200 if self.path.endswith('/running') else 404, {})


@pytest.fixture
def manager(nni_env: Path) -> Iterator[int]:
    """A manager stand-in on a free port, listed in the manifest as experiment exp1 (pid: this process)."""
    server = ThreadingHTTPServer(('127.0.0.1', 0), _Manager)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    Experiments().add_experiment('exp1', port, 1600000000000, 'local', 'demo', pid=__import__('os').getpid())
    yield port
    server.shutdown()


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument('id', nargs='?')
    parser.add_argument('--port', type=int)
    parser.add_argument('--all', action='store_true')
    parser.add_argument('--head', type=int)
    parser.add_argument('--tail', type=int)
    parser.add_argument('--trial_id')
    return parser.parse_args(list(argv))


def test_ids_ports_and_status_from_manifest_and_rest(manager: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert nnictl_utils.check_experiment_id(_args()) == 'exp1'
    assert nnictl_utils.check_experiment_id(_args('nope')) is None
    assert 'nope' in capsys.readouterr().out
    assert nnictl_utils.parse_ids(_args('ex*')) == ['exp1']
    assert nnictl_utils.parse_ids(_args('--port', str(manager))) == ['exp1']
    assert nnictl_utils.get_experiment_port(_args('exp1')) == manager
    assert nnictl_utils.get_experiment_status(manager) == 'RUNNING'
    assert nnictl_utils.check_rest(_args()) is True
    assert nnictl_utils.get_experiment_time(manager) == (1600000000000, None)


def test_trial_ls_head_tail_and_kill(manager: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert [t['id'] for t in nnictl_utils.trial_ls(_args())] == ['good', 'bad', 'running']
    assert [t['id'] for t in nnictl_utils.trial_ls(_args('--head', '1'))] == ['good']
    assert [t['id'] for t in nnictl_utils.trial_ls(_args('--tail', '1'))] == ['bad']
    assert '"startTime":"' in capsys.readouterr().out  # timestamps shown as dates
    assert nnictl_utils.trial_kill(_args('--trial_id', 'running')) is True
    assert nnictl_utils.trial_kill(_args('--trial_id', 'other')) is False
    assert nnictl_utils.list_experiment(_args())['id'] == 'exp1'


def test_stopped_manager_is_marked_and_not_listed(nni_env: Path) -> None:
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    Experiments().add_experiment('gone', 1, 0, 'local', 'x', pid=dead.pid)
    nnictl_utils.update_experiment()
    assert Experiments().get_all_experiments()['gone']['status'] == 'STOPPED'
    assert nnictl_utils.parse_ids(_args()) == []


def test_rest_utils_without_a_server() -> None:
    assert rest_utils.rest_get('http://127.0.0.1:1/api/v1/nni/check-status', 1) is None
    assert rest_utils.check_rest_server_quick(1) == (False, None)
    assert not rest_utils.check_response(None)


def test_kill_command_ends_and_reaps_a_child() -> None:
    child = subprocess.Popen(['sleep', '60'])
    assert command_utils._check_pid_running(child.pid)
    assert common_utils.detect_process(child.pid)
    command_utils.kill_command(child.pid, timeout=10)
    assert not command_utils._check_pid_running(child.pid)
    assert not common_utils.detect_process(child.pid)


def test_file_helpers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / 'log.txt'
    log.write_text('1\n2\n3\n')
    assert command_utils.check_output_command(str(log), head=2) == '1\n2\n'
    assert command_utils.check_output_command(str(log), tail=1) == '3\n'
    (tmp_path / 'a.yml').write_text('field: test\n')
    (tmp_path / 'a.json').write_text('{"field": "test"}')
    (tmp_path / 'bad.json').write_text('{')
    assert common_utils.get_yml_content(str(tmp_path / 'a.yml')) == {'field': 'test'}
    assert common_utils.get_json_content(str(tmp_path / 'a.json')) == {'field': 'test'}
    assert common_utils.get_json_content(str(tmp_path / 'bad.json')) is None
    assert 'bad.json' in capsys.readouterr().out
    with pytest.raises(SystemExit):
        command_utils.check_output_command(str(tmp_path / 'missing'))


def test_config_reads_the_newest_stored_revision(tmp_path: Path) -> None:
    db = tmp_path / 'e1' / 'db'
    db.mkdir(parents=True)
    with sqlite3.connect(db / 'nni.sqlite') as conn:
        conn.execute('CREATE TABLE ExperimentProfile (params TEXT, id TEXT, execDuration INTEGER, startTime INTEGER, '
                     'endTime INTEGER, logDir TEXT, nextSequenceId INTEGER, revision INTEGER)')
        for revision, name in ((1, 'old'), (2, 'new')):
            conn.execute('INSERT INTO ExperimentProfile VALUES (?, ?, 0, 0, 0, "", 0, ?)',
                         (json.dumps({'experimentName': name}), 'e1', revision))
    assert config_utils.Config('e1', str(tmp_path)).get_config() == {'experimentName': 'new'}


def test_validate_all_content_reports_every_problem(tmp_path: Path) -> None:
    (tmp_path / 'space.json').write_text('{"x": {"_type": "uniform", "_value": [0, 1]}}')
    good = {'searchSpaceFile': 'space.json', 'trialCommand': 'python3 t.py', 'trialConcurrency': 1,
            'tuner': {'name': 'TPE'}, 'trainingService': {'platform': 'local'}}
    launcher_utils.validate_all_content(good, str(tmp_path / 'config.yml'))
    schema = pytest.importorskip('schema')
    bad = dict(good, trialConcurrency=0, tuner={'name': 'NoSuchTuner'})
    with pytest.raises(schema.SchemaError) as info:
        launcher_utils.validate_all_content(bad, str(tmp_path / 'config.yml'))
    assert 'trialConcurrency' in str(info.value) and 'NoSuchTuner' in str(info.value)
    legacy = {'authorName': 'me', 'experimentName': 'x', 'trialConcurrency': 1, 'maxExecDuration': '1h',
              'maxTrialNum': 2, 'trainingServicePlatform': 'local', 'searchSpacePath': 'space.json',
              'useAnnotation': False, 'tuner': {'builtinTunerName': 'TPE'},
              'trial': {'command': 'python3 t.py', 'codeDir': '.', 'gpuNum': 0}}
    launcher_utils.validate_all_content(legacy, str(tmp_path / 'config.yml'))


def test_load_imported_data(tmp_path: Path) -> None:
    path = tmp_path / 'import.json'
    path.write_text('[{"parameter": {"x": 1}, "value": 0.5}]')
    assert json.loads(updater.load_imported_data(str(path))) == [{'parameter': {'x': 1}, 'value': 0.5}]
    path.write_text('[]')
    with pytest.raises(ValueError, match='should not be empty'):
        updater.load_imported_data(str(path))
