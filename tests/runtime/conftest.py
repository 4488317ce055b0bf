"""Fixtures for the trial runtime: a clean trial environment and a fake manager."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import nni.trial

TRIAL_VARS = (
    'NNI_PLATFORM', 'NNI_EXP_ID', 'NNI_TRIAL_JOB_ID', 'NNI_SYS_DIR', 'NNI_OUTPUT_DIR', 'NNI_CODE_DIR',
    'NNI_TRIAL_SEQ_ID', 'NNI_TRIAL_COMMAND_CHANNEL', 'NNI_TRIAL_TOKEN', 'NNI_STANDALONE_PARAMETERS',
    'MULTI_PHASE', 'REUSE_MODE', 'SDK_PROCESS',
)

RECORD = {'parameter_id': 7, 'parameter_source': 'algorithm', 'parameters': {'lr': 0.01, 'units': 64},
          'parameter_index': 0}


def clean_environ() -> dict[str, str]:
    """os.environ without anything that would make a child process think it is a trial."""
    return {key: value for key, value in os.environ.items() if key not in TRIAL_VARS}


@pytest.fixture(autouse=True)
def fresh_trial_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in TRIAL_VARS:
        monkeypatch.delenv(name, raising=False)
    nni.trial._reset()
    yield
    nni.trial._reset()


class FakeManager:
    """A stdlib HTTP/1.1 server playing the manager's side of the trial channel."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.put_status = 200
        self.get_answers: list[tuple[int, bytes]] = []
        self.close_silently_after_each = False
        manager = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args: object) -> None:
                pass

            def _record(self) -> None:
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length) if length else b''
                manager.requests.append({
                    'method': self.command, 'path': self.path, 'headers': dict(self.headers),
                    'body': body, 'client': self.client_address,
                })

            def _answer(self, status: int, body: bytes = b'') -> None:
                self.send_response(status)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                if manager.close_silently_after_each:
                    # Drop the kept-alive connection without saying so, as an idle timeout would.
                    self.close_connection = True

            def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
                self._record()
                self._answer(manager.put_status)

            def do_GET(self) -> None:  # noqa: N802
                self._record()
                if manager.get_answers:
                    self._answer(*manager.get_answers.pop(0))
                else:
                    self._answer(408)

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f'http://127.0.0.1:{self.port}/env/local-env/Ab3xZ'
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def metric_puts(self) -> list[dict]:
        return [r for r in self.requests if r['method'] == 'PUT']

    def envelopes(self) -> list[dict]:
        out = []
        for request in self.metric_puts():
            command = json.loads(request['body'])
            assert command['type'] == 'metric'
            out.append(json.loads(command['metric']))
        return out

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_manager() -> Iterator[FakeManager]:
    manager = FakeManager()
    yield manager
    manager.stop()


@pytest.fixture
def dead_url() -> str:
    """A channel URL on a port where nothing listens."""
    import socket

    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    return f'http://127.0.0.1:{port}/env/local-env/Ab3xZ'


@pytest.fixture
def trial_dir(tmp_path: Path) -> Path:
    path = tmp_path / 'trials' / 'Ab3xZ'
    path.mkdir(parents=True)
    return path


@pytest.fixture
def trial_env(monkeypatch: pytest.MonkeyPatch, trial_dir: Path) -> Path:
    """Environment of a local trial (no channel URL yet) with parameter.cfg in place."""
    (trial_dir / 'parameter.cfg').write_text(json.dumps(RECORD))
    monkeypatch.setenv('NNI_PLATFORM', 'local')
    monkeypatch.setenv('NNI_EXP_ID', 'exp12345')
    monkeypatch.setenv('NNI_TRIAL_JOB_ID', 'Ab3xZ')
    monkeypatch.setenv('NNI_SYS_DIR', str(trial_dir))
    monkeypatch.setenv('NNI_OUTPUT_DIR', str(trial_dir))
    monkeypatch.setenv('NNI_TRIAL_SEQ_ID', '3')
    monkeypatch.setenv('NNI_TRIAL_TOKEN', 's3cret')
    return trial_dir


@pytest.fixture
def record() -> dict:
    """The parameter record the trial_env fixture writes to parameter.cfg."""
    return json.loads(json.dumps(RECORD))


@pytest.fixture
def read_metrics() -> object:
    """Function parsing a legacy metrics file strictly (returns the JSON texts)."""
    return read_metrics_file


def read_metrics_file(path: Path) -> list[str]:
    """Parse the legacy framing strictly, returning the JSON texts."""
    data = path.read_bytes()
    records = []
    while data:
        assert data[:2] == b'ME', data[:20]
        length = int(data[2:8])
        payload = data[8:8 + length]
        assert len(payload) == length and payload.endswith(b'\n')
        records.append(payload[:-1].decode('utf-8'))
        data = data[8 + length:]
    return records


@pytest.fixture
def clean_env() -> dict[str, str]:
    """Environment for a child process that must not think it is a trial."""
    return clean_environ()
