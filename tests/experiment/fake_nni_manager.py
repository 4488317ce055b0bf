"""
A stand-in for ``python -m nni.manager`` used by the client tests (selected through ``NNI_MANAGER_MODULE``).

It takes the real manager's command line, serves the REST endpoints the client uses with canned answers
shaped as in spec/rest.md, and records what it saw. Behaviour is chosen with environment variables:

* ``FAKE_NNI_MODE``: ``ok`` (default); ``exit`` (print to stderr and exit 3 at once); ``hang`` (never listen);
  ``post-fail`` (``POST /experiment`` answers 500); ``ignore-delete`` (``DELETE /experiment`` answers 200 but
  the process keeps running); ``stubborn`` (as ``ignore-delete`` and SIGTERM is ignored too).
* ``FAKE_NNI_RECORD``: JSON-lines file receiving ``{"argv": ..., "pid": ...}`` at start and one
  ``{"method", "path", "body"}`` per request.
* ``FAKE_NNI_TOKEN``: when set, written to ``<root>/db/token`` at start, as the real manager does.
* ``FAKE_NNI_STATUSES``: comma-separated statuses for successive ``/check-status`` answers after the
  config was posted (the last one repeats); default ``RUNNING``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from nni.experiment.manifest import Experiments, sweep_dead_experiments

TRIAL = {
    'trialJobId': 'Ab12c',
    'status': 'SUCCEEDED',
    'hyperParameters': [
        '{"parameter_id":0,"parameter_source":"algorithm","parameters":{"lr":0.01},"parameter_index":0}'
    ],
    'logPath': '/tmp/exp/environments/local-env/trials/Ab12c',
    'sequenceId': 0,
    'startTime': 1700000000000,
    'endTime': 1700000060000,
    'finalMetricData': [{
        'timestamp': 1700000059000, 'trialJobId': 'Ab12c', 'parameterId': '0',
        'type': 'FINAL', 'sequence': 0, 'data': '"0.93"',
    }],
    'envId': 'local-env',
}
METRICS = [
    {'timestamp': 1700000030000, 'trialJobId': 'Ab12c', 'parameterId': '0', 'type': 'PERIODICAL',
     'sequence': 0, 'data': '"0.5"'},
    TRIAL['finalMetricData'][0],
    {'timestamp': 1700000031000, 'trialJobId': 'Xy34z', 'parameterId': None, 'type': 'PERIODICAL',
     'sequence': 0, 'data': '"{\\"default\\": 0.25, \\"loss\\": 1.5}"'},
]
EXPORT = [{'parameter': {'lr': 0.01}, 'value': '0.93', 'trialJobId': 'Ab12c'}]
STATISTICS = [{'trialJobStatus': 'SUCCEEDED', 'trialJobNumber': 1}]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--experiment-id', required=True)
    parser.add_argument('--action', required=True)
    parser.add_argument('--experiments-directory', required=True)
    parser.add_argument('--log-level', required=True)
    parser.add_argument('--foreground', required=True)
    parser.add_argument('--url-prefix')
    parser.add_argument('--bind-address')
    parser.add_argument('--stop-with-parent', action='store_true')
    parser.add_argument('--tuner-command-channel')
    args = parser.parse_args()

    mode = os.environ.get('FAKE_NNI_MODE', 'ok')
    record_path = os.environ.get('FAKE_NNI_RECORD')
    statuses = os.environ.get('FAKE_NNI_STATUSES', 'RUNNING').split(',')
    lock = threading.Lock()

    def record(item: dict) -> None:
        if record_path:
            with lock, open(record_path, 'a', encoding='utf-8') as f:
                f.write(json.dumps(item) + '\n')

    record({'argv': sys.argv[1:], 'pid': os.getpid(), 'cwd': os.getcwd()})

    token = os.environ.get('FAKE_NNI_TOKEN')
    if token:
        db = os.path.join(args.experiments_directory, args.experiment_id, 'db')
        os.makedirs(db, exist_ok=True)
        with open(os.path.join(db, 'token'), 'w') as f:
            f.write(token + '\n')

    if mode == 'exit':
        print('fake manager: cannot start (boom)', file=sys.stderr, flush=True)
        sys.exit(3)
    if mode == 'hang':
        time.sleep(3600)
        return

    state = {'posted': None, 'checks': 0, 'stopping': False}
    prefix = '/' + args.url_prefix.strip('/') if args.url_prefix else ''
    api_root = prefix + '/api/v1/nni'

    def shutdown_soon() -> None:
        Experiments().update_fields(args.experiment_id, {'status': 'STOPPED', 'endTime': int(time.time() * 1000)})
        # Give the HTTP answer time to leave before the process goes.
        threading.Timer(0.05, lambda: os._exit(0)).start()

    def on_sigterm(signum: int, frame: object) -> None:
        shutdown_soon()

    if mode == 'stubborn':
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGTERM, on_sigterm)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def log_message(self, format: str, *a: object) -> None:  # noqa: A002
            pass

        def _send(self, status: int, body: object = None) -> None:
            raw = b'' if body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _handle(self, method: str) -> None:
            length = int(self.headers.get('Content-Length') or 0)
            raw = self.rfile.read(length) if length else b''
            body = json.loads(raw) if raw else None
            record({'method': method, 'path': self.path, 'body': body, 'token': self.headers.get('X-NNI-Token')})
            if not self.path.startswith(api_root + '/'):
                self._send(404, {'error': f'not under {prefix or "/"}'})
                return
            api, _, query = self.path[len(api_root):].partition('?')
            self._route(method, api, query, body)

        def _route(self, method: str, api: str, query: str, body: object) -> None:
            if method == 'GET' and api == '/check-status':
                if state['posted'] is None:
                    self._send(200, {'status': 'INITIALIZED', 'errors': []})
                else:
                    status = statuses[min(state['checks'], len(statuses) - 1)]
                    state['checks'] += 1
                    self._send(200, {'status': status, 'errors': []})
            elif method == 'POST' and api == '/experiment':
                if mode == 'post-fail':
                    print('fake manager: rejecting config', file=sys.stderr, flush=True)
                    self._send(500, {'error': 'bad config: trialConcurrency'})
                    return
                state['posted'] = body
                Experiments().update_experiment(args.experiment_id, 'status', 'RUNNING')
                self._send(200, {'experiment_id': args.experiment_id} if args.action == 'create' else None)
            elif method == 'GET' and api == '/experiment':
                self._send(200, {
                    'id': args.experiment_id, 'revision': 3, 'execDuration': 1,
                    'logDir': os.path.join(args.experiments_directory, args.experiment_id),
                    'nextSequenceId': 1, 'params': state['posted'] or {}, 'startTime': 1700000000000,
                })
            elif method == 'PUT' and api == '/experiment':
                self._send(200)
            elif method == 'DELETE' and api == '/experiment':
                self._send(200)
                if mode not in ('ignore-delete', 'stubborn'):
                    shutdown_soon()
            elif method == 'GET' and api == '/experiments-info':
                self._send(200, list(sweep_dead_experiments().values()))
            elif method == 'GET' and api == '/trial-jobs':
                self._send(200, [TRIAL])
            elif method == 'GET' and api.startswith('/trial-jobs/'):
                self._send(200, TRIAL if api.endswith('/Ab12c') else None)
            elif method == 'DELETE' and api.startswith('/trial-jobs/'):
                self._send(200)
            elif method == 'GET' and api == '/metric-data':
                self._send(200, METRICS)
            elif method == 'GET' and api.startswith('/metric-data/'):
                trial = api.rsplit('/', 1)[1]
                self._send(200, [m for m in METRICS if m['trialJobId'] == trial])
            elif method == 'GET' and api == '/export-data':
                self._send(200, EXPORT)
            elif method == 'GET' and api == '/job-statistics':
                self._send(200, STATISTICS)
            else:
                self._send(404, {'error': f'no route {method} {api}'})

        def do_GET(self) -> None:  # noqa: N802
            self._handle('GET')

        def do_POST(self) -> None:  # noqa: N802
            self._handle('POST')

        def do_PUT(self) -> None:  # noqa: N802
            self._handle('PUT')

        def do_DELETE(self) -> None:  # noqa: N802
            self._handle('DELETE')

    server = ThreadingHTTPServer(('127.0.0.1', args.port), Handler)
    server.daemon_threads = True
    server.serve_forever(poll_interval=0.05)


if __name__ == '__main__':
    main()
