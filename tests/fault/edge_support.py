"""Helpers of the bad-client campaigns: a real manager, raw HTTP, the route table, figures."""

from __future__ import annotations

import http.client
import json
import math
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from tests.polling import wait_for
from tests.webui.support import ManagerProcess, create_synthetic_experiment

__all__ = ['ManagerProcess', 'create_synthetic_experiment', 'http_call', 'live_manager', 'outgoing_address',
           'percentile', 'route_table', 'rss_kb', 'time_check_status']

TRIAL_SCRIPT = '''
import nni
nni.get_next_parameter()
for step in range(3):
    nni.report_intermediate_result(step / 10)
nni.report_final_result(0.5)
'''


def live_manager(workdir: Path, experiment_id: str, *, max_trials: int = 3, env: dict[str, str] | None = None,
                 bind_address: str | None = None) -> ManagerProcess:
    """A created (running) experiment whose few trials report metrics and end at once."""
    code = workdir / f'{experiment_id}-code'
    code.mkdir(parents=True, exist_ok=True)
    (code / 'trial.py').write_text(TRIAL_SCRIPT, encoding='utf-8')
    config = {
        'experimentName': experiment_id, 'searchSpace': {'x': {'_type': 'uniform', '_value': [0, 1]}},
        'trialCommand': f'{sys.executable} trial.py', 'trialCodeDirectory': str(code), 'trialConcurrency': 2,
        'maxTrialNumber': max_trials, 'tuner': {'name': 'Random'}, 'trainingService': {'platform': 'local'},
        'experimentWorkingDirectory': str(workdir),
    }
    manager = ManagerProcess(workdir, experiment_id, action='create', config=config, env=env,
                             bind_address=bind_address)
    wait_for(lambda: manager.request('GET', 'check-status')['status'] in ('DONE', 'NO_MORE_TRIAL'), timeout=60)
    return manager


def http_call(port: int, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str] | None = None,
              host: str = '127.0.0.1', timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection: status, headers (lower-case names), body."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return response.status, {name.lower(): value for name, value in response.getheaders()}, data
    finally:
        connection.close()


def route_table() -> list[tuple[str, str]]:
    """Every ``(method, path template)`` the manager serves, read from the application itself.

    Routes other parts add later are fuzzed too, without this list being edited.
    """
    from nni.manager.engine import Engine, ManagerOptions
    from nni.manager.server import build_app
    from nni.manager.web import Mount, Route

    engine = Engine(ManagerOptions(experiment_id='routes', port=1, action='view',
                                   experiments_directory=Path('/nonexistent')))
    app = build_app(engine, lambda: None)
    found: list[tuple[str, str]] = []

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            if isinstance(route, Mount):
                walk(route.routes, prefix + route.path)
            elif isinstance(route, Route):
                for method in sorted(route.methods - {'HEAD'}):
                    found.append((method, prefix + route.path))

    walk(app.app.routes, '')
    return found


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def time_check_status(port: int, count: int, pause_s: float = 0.005) -> list[float]:
    """Milliseconds of ``count`` sequential ``GET /check-status`` on fresh connections (all must be 200)."""
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        status, _, body = http_call(port, 'GET', '/api/v1/nni/check-status', timeout=30)
        timings.append((time.perf_counter() - started) * 1000)
        assert status == 200 and json.loads(body)['status'], body
        time.sleep(pause_s)
    return timings


def rss_kb(pid: int) -> int:
    """Resident set size of a process, from /proc."""
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1])
    return 0


def outgoing_address() -> str | None:
    """This machine's non-loopback address (no packet is sent), or ``None``."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(('192.0.2.1', 9))
            address = probe.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith('127.') else address


def fd_limit() -> int:
    import resource

    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def raise_fd_limit() -> int:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def seed_from_env(name: str = 'NNI_FAULT_SEED') -> int:
    """The campaign's seed: ``$NNI_FAULT_SEED`` to replay one, else a fresh one (printed by the caller)."""
    raw = os.environ.get(name)
    return int(raw) if raw else int.from_bytes(os.urandom(4), 'little')


_FLOOD_SCRIPT = r'''
import selectors, socket, sys, time
port, count, trickle_s = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
head = bytes.fromhex(sys.argv[4])
socks = []
for _ in range(count):
    sock = socket.create_connection(('127.0.0.1', port), timeout=10)
    if head:
        sock.sendall(head)
    socks.append(sock)
print('ready', len(socks), flush=True)
selector = selectors.DefaultSelector()
selector.register(sys.stdin, selectors.EVENT_READ)
next_trickle = time.monotonic() + trickle_s
while True:
    if trickle_s > 0 and time.monotonic() >= next_trickle:
        for sock in socks:
            try:
                sock.send(b'a')
            except OSError:
                pass
        next_trickle = time.monotonic() + trickle_s
    if selector.select(timeout=0.05):
        sys.stdin.readline()
        break
wait_s = float(sys.stdin.readline() or 0)
for sock in socks:
    sock.setblocking(False)
closed, open_socks, deadline = 0, list(socks), time.monotonic() + wait_s
while open_socks and time.monotonic() < deadline:
    still = []
    for sock in open_socks:
        try:
            data = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            still.append(sock)
            continue
        except OSError:
            data = b''
        if data and not data.startswith(b'HTTP/1.1 4') and not data.startswith(b'HTTP/1.1 5'):
            still.append(sock)
        else:
            closed += 1
    open_socks = still
    time.sleep(0.05)
print('closed', closed, flush=True)
'''


class Flood:
    """Connections held by a separate process, so the clients' own work never slows the measurement.

    Parameters
    ----------
    port
        The manager's port.
    count
        Connections to open.
    head
        Bytes sent on each right away (a partial request), or nothing (idle connections).
    trickle_s
        Send one more byte on every connection this often (0: never).
    """

    def __init__(self, port: int, count: int, head: bytes = b'', trickle_s: float = 0.0) -> None:
        import subprocess

        self.process = subprocess.Popen([sys.executable, '-c', _FLOOD_SCRIPT, str(port), str(count), str(trickle_s),
                                         head.hex()], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().split()
        if not line or line[0] != 'ready':
            self.process.kill()
            raise RuntimeError(f'the flood did not start: {line}')
        self.opened = int(line[1])

    def stop(self, wait_closed_s: float = 0.0) -> int:
        """Stop trickling; how many connections the server closed within ``wait_closed_s``."""
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            self.process.stdin.write(f'stop\n{wait_closed_s}\n')
            self.process.stdin.flush()
            line = self.process.stdout.readline().split()
            self.process.wait(timeout=wait_closed_s + 30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        return int(line[1]) if len(line) == 2 and line[0] == 'closed' else 0
