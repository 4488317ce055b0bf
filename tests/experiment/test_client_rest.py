"""The stdlib REST client against a threading HTTP server."""

from __future__ import annotations

import json
import pickle
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from nni.experiment import rest
from nni.experiment.rest import RestError


class Server:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        # path -> (status, raw body, content type)
        self.routes: dict[tuple[str, str], tuple[int, bytes]] = {}
        self.port = 0

    def route(self, method: str, path: str, status: int, body: Any = None, raw: bytes | None = None) -> None:
        if raw is None:
            raw = b'' if body is None else json.dumps(body).encode()
        self.routes[(method, path)] = (status, raw)


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def log_message(self, *args: Any) -> None:
            pass

        def _handle(self) -> None:
            length = int(self.headers.get('Content-Length') or 0)
            body = self.rfile.read(length) if length else b''
            state.requests.append({
                'method': self.command, 'path': self.path, 'body': body,
                'content_type': self.headers.get('Content-Type'), 'token': self.headers.get('X-NNI-Token'),
            })
            status, raw = state.routes.get((self.command, self.path), (404, b'Not Found'))
            self.send_response(status)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_PUT = do_DELETE = _handle  # noqa: N815

    httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


API = '/api/v1/nni'


def test_build_path() -> None:
    assert rest.build_path('check-status') == '/api/v1/nni/check-status'
    assert rest.build_path('/check-status', '/my/prefix/') == '/my/prefix/api/v1/nni/check-status'
    assert rest.build_path('/trial-jobs/', '') == '/api/v1/nni/trial-jobs'
    assert rest.build_path('/experiment?update_type=SEARCH_SPACE', '/') == '/api/v1/nni/experiment?update_type=SEARCH_SPACE'


def test_get_decodes_json(server: Server) -> None:
    server.route('GET', f'{API}/check-status', 200, {'status': 'RUNNING', 'errors': []})
    assert rest.get(server.port, '/check-status') == {'status': 'RUNNING', 'errors': []}
    assert server.requests[0]['body'] == b''


def test_prefix(server: Server) -> None:
    server.route('GET', f'/pre/fix{API}/experiment', 200, {'id': 'abc'})
    assert rest.get(server.port, 'experiment', prefix='/pre/fix/') == {'id': 'abc'}
    assert rest.get(server.port, 'experiment', '/pre/fix') == {'id': 'abc'}


def test_empty_bodies_give_none(server: Server) -> None:
    server.route('GET', f'{API}/trial-jobs/nope', 200)
    server.route('POST', f'{API}/experiment', 200)
    assert rest.get(server.port, '/trial-jobs/nope') is None
    assert rest.post(server.port, '/experiment', {'a': 1}) is None


def test_post_sends_json_and_returns_answer(server: Server) -> None:
    server.route('POST', f'{API}/experiment', 200, {'experiment_id': 'abc'})
    assert rest.post(server.port, '/experiment', {'trialConcurrency': 2}) == {'experiment_id': 'abc'}
    assert rest.post(server.port, '/experiment', body={'x': [1]}) == {'experiment_id': 'abc'}
    bodies = [json.loads(r['body']) for r in server.requests]
    assert bodies == [{'trialConcurrency': 2}, {'x': [1]}]
    assert {r['content_type'] for r in server.requests} == {'application/json'}


def test_put_and_delete_ignore_answer(server: Server) -> None:
    server.route('PUT', f'{API}/experiment?update_type=TRIAL_CONCURRENCY', 200, {'ignored': True})
    server.route('DELETE', f'{API}/trial-jobs/Ab12c', 200, raw=b'not json at all')
    assert rest.put(server.port, '/experiment?update_type=TRIAL_CONCURRENCY', {'params': {'trialConcurrency': 3}}) is None
    assert rest.delete(server.port, '/trial-jobs/Ab12c') is None
    assert json.loads(server.requests[0]['body']) == {'params': {'trialConcurrency': 3}}
    assert server.requests[1]['method'] == 'DELETE'


def test_put_without_body(server: Server) -> None:
    server.route('PUT', f'{API}/tensorboard/1', 200)
    rest.put(server.port, '/tensorboard/1')
    assert server.requests[0]['body'] == b''


def test_data_and_body_together_rejected() -> None:
    with pytest.raises(TypeError):
        rest.post(1, '/x', {'a': 1}, body={'b': 2})


def test_error_with_json_message(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    server.route('PUT', f'{API}/experiment', 500, {'error': 'Error: can not update in readonly mode!'})
    with pytest.raises(RestError) as info:
        rest.put(server.port, '/experiment', {'params': {}})
    err = info.value
    assert isinstance(err, OSError)
    assert err.status == 500
    assert err.message == 'Error: can not update in readonly mode!'
    assert err.method == 'PUT'
    assert err.url == f'http://127.0.0.1:{server.port}{API}/experiment'
    assert 'readonly mode' in str(err) and '500' in str(err)
    assert any('readonly mode' in r.getMessage() for r in caplog.records)


def test_error_with_text_body(server: Server) -> None:
    with pytest.raises(RestError) as info:
        rest.get(server.port, '/no-such-api')
    assert info.value.status == 404
    assert info.value.message == 'Not Found'


def test_error_with_empty_body(server: Server) -> None:
    server.route('DELETE', f'{API}/experiment', 503)
    with pytest.raises(RestError) as info:
        rest.delete(server.port, '/experiment')
    assert info.value.status == 503 and info.value.message == ''


def test_rest_error_pickles() -> None:
    err = pickle.loads(pickle.dumps(RestError(404, 'gone', 'GET', 'http://x')))
    assert (err.status, err.message, err.method, err.url) == (404, 'gone', 'GET', 'http://x')


def test_invalid_json_raises_value_error(server: Server) -> None:
    server.route('GET', f'{API}/check-status', 200, raw=b'INITIALIZING')
    with pytest.raises(ValueError):
        rest.get(server.port, '/check-status')


def test_port_none_means_not_running() -> None:
    with pytest.raises(RuntimeError, match='Experiment is not running'):
        rest.get(None, '/check-status')


def test_connection_refused_is_oserror() -> None:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    with pytest.raises(OSError):
        rest.get(port, '/check-status')


def test_timeout_is_oserror() -> None:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        sock.listen()  # accepts at the TCP level but never answers
        with pytest.raises(OSError):
            rest.request('GET', sock.getsockname()[1], '/check-status', timeout=0.2)


def test_default_timeout_is_20s() -> None:
    assert rest.TIMEOUT == 20


def test_token_header(server: Server) -> None:
    seen: list[str | None] = []
    server.route('DELETE', f'{API}/experiment', 200)
    rest.delete(server.port, '/experiment', token='abc')
    rest.delete(server.port, '/experiment')
    for r in server.requests:
        seen.append(r['token'])
    assert seen == ['abc', None]
