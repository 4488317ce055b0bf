"""Bad-client campaign against real manager processes: the API keeps answering whatever they do.

* 1,000 idle connections, then 1,000 half-sent requests (slowloris): ``GET /check-status`` still
  answers; its p99 is printed (the figure the issue asks for) and bounded generously;
* a connection cap far below the flood: real clients still get through, the flood is evicted;
* bodies over the limit get 413, 100,000-deep JSON 400, malformed HTTP 4xx, never 5xx;
* a foreign ``Host`` (DNS rebinding) gets 421 and deletes nothing;
* on a non-loopback bind, reads need the token (header, cookie, or the ``?token=`` link);
* eight concurrent downloads of a 100 MB trial stdout leave the manager's memory flat and its
  API answering.

Replay the random parts with ``NNI_FAULT_SEED=<printed seed>``.
"""

from __future__ import annotations

import os
import random
import selectors
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixture_helpers import shared_nni_home

from .edge_support import (
    Flood,
    ManagerProcess,
    create_synthetic_experiment,
    http_call,
    outgoing_address,
    percentile,
    raise_fd_limit,
    rss_kb,
    seed_from_env,
    time_check_status,
)

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.fault]

SEED = seed_from_env()
FLOOD = 1000
BIG_STDOUT_MB = 100
#: generous bounds: the figures are printed; these only catch a server that stalls
P99_BOUND_MS = 1000.0
RSS_GROWTH_BOUND_MB = 40


@pytest.fixture(scope='module')
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with shared_nni_home(tmp_path_factory, 'bad-clients-home') as home:
        print(f'\nbad-client campaign seed: {SEED} (replay with NNI_FAULT_SEED={SEED})')
        yield home


@pytest.fixture(autouse=True)
def nni_home(home: Path) -> Path:
    """The module's managers live for the whole module: one manifest folder for all its tests."""
    os.environ['NNI_HOME_DIR'] = str(home)
    return home


@pytest.fixture(scope='module')
def workdir(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp('bad-clients')


@pytest.fixture(scope='module')
def viewed(workdir: Path) -> Iterator[ManagerProcess]:
    """A stopped experiment, one of whose trials wrote a 100 MB stdout, opened by a real manager."""
    root = create_synthetic_experiment(workdir, 'badexp', 20, files_for=2)
    stdout = root / 'environments' / 'local-env' / 'trials' / 't00000' / 'trial.stdout'
    line = b'epoch 1: accuracy 0.93 ' + b'x' * 40 + b'\n'
    block = line * (1024 * 1024 // len(line) + 1)
    with stdout.open('wb') as handle:
        for _ in range(BIG_STDOUT_MB):
            handle.write(block[:1024 * 1024])
    # short head timeout: the slowloris flood is cut within the test's time
    manager = ManagerProcess(workdir, 'badexp', env={'NNI_MANAGER_HEADER_TIMEOUT': '3'})
    yield manager
    manager.stop()


def _usable_flood() -> int:
    limit = raise_fd_limit()
    if limit < 400:
        pytest.skip(f'open-file limit {limit} too low for a connection flood')
    return min(FLOOD, limit - 200)


def _open_flood(port: int, count: int, first_bytes: bytes = b'') -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(('127.0.0.1', port), timeout=10)
        if first_bytes:
            sock.sendall(first_bytes)
        sockets.append(sock)
    return sockets


def _closed_by_server(sockets: list[socket.socket], timeout: float) -> int:
    """How many of ``sockets`` the server has closed (EOF, reset, or an error answer) within ``timeout``."""
    selector = selectors.DefaultSelector()
    for sock in sockets:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
    closed = 0
    deadline = time.monotonic() + timeout
    while selector.get_map() and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.2):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                data = sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b''
            if not data or data.startswith(b'HTTP/1.1 4') or data.startswith(b'HTTP/1.1 5'):
                closed += 1
                selector.unregister(sock)
    selector.close()
    return closed


def _report(name: str, timings: list[float]) -> float:
    p50, p99 = percentile(timings, 0.5), percentile(timings, 0.99)
    print(f'\n{name}: GET /check-status p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(timings):.1f} ms '
          f'({len(timings)} requests)')
    return p99


def test_idle_connections_leave_the_api_answering(viewed: ManagerProcess) -> None:
    count = _usable_flood()
    baseline = _report('no flood', time_check_status(viewed.port, 100))
    before = rss_kb(viewed.process.pid)
    flood = Flood(viewed.port, count)
    try:
        time.sleep(0.3)
        p99 = _report(f'{flood.opened} idle connections', time_check_status(viewed.port, 200))
        during = rss_kb(viewed.process.pid)
        print(f'\n{flood.opened} idle connections: manager RSS {before / 1024:.0f} MB -> {during / 1024:.0f} MB')
        assert p99 < max(P99_BOUND_MS, 10 * baseline)
    finally:
        flood.stop()


def test_slowloris_is_cut_and_the_api_keeps_answering(viewed: ManagerProcess) -> None:
    count = _usable_flood()
    head = b'GET /api/v1/nni/check-status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '
    # one more header byte per connection every 0.5 s: each request stays "almost done"
    flood = Flood(viewed.port, count, head, trickle_s=0.5)
    try:
        time.sleep(0.3)
        p99 = _report(f'{flood.opened} half-sent requests', time_check_status(viewed.port, 200))
        assert p99 < P99_BOUND_MS
    finally:
        # the head timeout (3 s here) closes every one of them, with a 408
        closed = flood.stop(wait_closed_s=15)
    print(f'\nslowloris: {closed} of {flood.opened} half-sent connections closed by the server')
    assert closed >= flood.opened * 0.95


def test_connection_cap_evicts_the_flood_not_the_clients(workdir: Path) -> None:
    create_synthetic_experiment(workdir, 'capexp', 3, files_for=0)
    manager = ManagerProcess(workdir, 'capexp', env={'NNI_MANAGER_MAX_CONNECTIONS': '100',
                                                     'NNI_MANAGER_MAX_BODY_MB': '1'})
    try:
        idle = _open_flood(manager.port, 300)
        half = _open_flood(manager.port, 100, b'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n')
        p99 = _report('300 idle + 100 half-sent on a cap of 100', time_check_status(manager.port, 100))
        assert p99 < P99_BOUND_MS
        closed = _closed_by_server(idle + half, timeout=3)
        print(f'\ncap 100: {closed} of 400 flood connections evicted')
        assert closed >= 300
        for sock in idle + half:
            sock.close()
        # the body limit of this manager is 1 MB: a 2 MB body is refused, and the client reads the 413
        status, _, body = http_call(manager.port, 'POST', '/api/v1/nni/experiment/import-data',
                                    body=b'[' + b'0,' * (1024 * 1024) + b'0]',
                                    headers={'Content-Type': 'application/json'})
        assert status == 413 and b'NNI_MANAGER_MAX_BODY_MB' in body
    finally:
        manager.stop()


def test_body_limit_deep_json_and_malformed_http_get_4xx(viewed: ManagerProcess) -> None:
    port = viewed.port
    # the default limit (64 MB), refused on the declared length alone
    with socket.create_connection(('127.0.0.1', port), timeout=10) as sock:
        sock.sendall(b'POST /api/v1/nni/experiment/import-data HTTP/1.1\r\nHost: 127.0.0.1\r\n'
                     b'Content-Length: 67108865\r\n\r\n')
        answer = sock.recv(4096)
    assert answer.startswith(b'HTTP/1.1 413') and b'67108864' in answer
    deep = b'[' * 100_000 + b']' * 100_000
    deep_object = b'{"a":' * 50_000 + b'1' + b'}' * 50_000
    for method, path in (('POST', '/api/v1/nni/experiment/import-data'), ('POST', '/api/v1/nni/trial-jobs'),
                         ('PUT', '/api/v1/nni/experiment?update_type=SEARCH_SPACE'),
                         ('POST', '/api/v1/nni/experiment'), ('PUT', '/api/v1/nni/experiment/cluster-metadata')):
        for body in (deep, deep_object):
            status, _, answer = http_call(port, method, path, body=body)
            assert status == 400 and b'deeper than' in answer, (method, path, status, answer)
    rng = random.Random(SEED)
    garbage = [b'\x00' * 64, b'GET / HTTP/9.9\r\n\r\n', b'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
               b'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n',
               b'GET /\x7f HTTP/1.1\r\n\r\n', b'G' * 100_000 + b'\r\n\r\n']
    garbage += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))) + b'\r\n\r\n' for _ in range(100)]
    statuses: dict[int, int] = {}
    for data in garbage:
        with socket.create_connection(('127.0.0.1', port), timeout=10) as sock:
            sock.sendall(data)
            try:
                answer = sock.recv(4096)
            except OSError:
                answer = b''
        status = int(answer.split(b' ', 2)[1]) if answer.startswith(b'HTTP/1.1 ') else 0
        statuses[status] = statuses.get(status, 0) + 1
        assert status < 500, (data[:80], answer[:200])
    print(f'\nraw garbage (seed {SEED}): {len(garbage)} requests, statuses {statuses}')
    assert http_call(port, 'GET', '/api/v1/nni/check-status')[0] == 200


def test_foreign_host_is_refused_and_deletes_nothing(viewed: ManagerProcess, workdir: Path) -> None:
    """The issue's DNS-rebinding attack: a page on another site calls DELETE with its own Host."""
    victim = create_synthetic_experiment(workdir, 'victimexp', 2, files_for=0)
    port = viewed.port
    attacker = f'rebind.attacker.example:{port}'
    for method, path in (('DELETE', '/api/v1/nni/portal/experiments/victimexp'), ('GET', '/api/v1/nni/trial-jobs'),
                         ('GET', '/logs/nnimanager.log'), ('GET', '/')):
        status, _, answer = http_call(port, method, path, headers={'Host': attacker, 'Origin': f'http://{attacker}'})
        assert status == 421 and b'not a name this manager serves' in answer, (method, path, status)
    assert victim.is_dir()
    for host in (f'localhost:{port}', f'127.0.0.1:{port}', f'[::1]:{port}', 'localhost'):
        assert http_call(port, 'GET', '/api/v1/nni/check-status', headers={'Host': host})[0] == 200
    status, _, answer = http_call(port, 'DELETE', '/api/v1/nni/portal/experiments/victimexp',
                             headers={'Host': f'localhost:{port}'})
    assert status == 200 and not victim.exists(), answer


def test_reads_need_the_token_beyond_loopback(workdir: Path) -> None:
    address = outgoing_address()
    if address is None:
        pytest.skip('this machine has no non-loopback address')
    create_synthetic_experiment(workdir, 'wideexp', 3, files_for=1)
    manager = ManagerProcess(workdir, 'wideexp', bind_address='0.0.0.0')
    try:
        token = (workdir / 'wideexp' / 'db' / 'token').read_text().strip()
        port = manager.port

        def call(path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
            return http_call(port, 'GET', path, host=address, headers={'Host': f'{address}:{port}', **(headers or {})})

        for path in ('/api/v1/nni/trial-jobs', '/api/v1/nni/experiment', '/logs/nnimanager.log',
                     '/api/v1/nni/trial-file/t00000/stdout', '/api/v1/nni/experiments-info'):
            status, _, answer = call(path)
            assert status == 403 and b'db/token' in answer, (path, status, answer)
        status, headers, _ = call('/api/v1/nni/trial-jobs', {'X-NNI-Token': token})
        assert status == 200 and headers['set-cookie'].startswith(f'nni-token-{port}={token};')
        assert call('/logs/nnimanager.log', {'Cookie': f'nni-token-{port}={token}'})[0] == 200
        assert call('/api/v1/nni/trial-jobs', {'X-NNI-Token': 'wrong'})[0] == 403
        status, headers, _ = call(f'/?token={token}')
        assert status == 303 and headers['location'] == '/' and 'set-cookie' in headers
        # the page itself and its scripts carry no data: served without the token
        assert call('/')[0] == 200
        # a cookie alone does not authorise an edit from a foreign page
        status, _, _ = http_call(port, 'DELETE', '/api/v1/nni/trial-jobs/t00000', host=address,
                                 headers={'Host': f'{address}:{port}', 'Cookie': f'nni-token-{port}={token}'})
        assert status == 403
        # names this manager does not serve are refused, loopback callers read freely
        assert call('/api/v1/nni/trial-jobs', {'Host': 'intranet.example', 'X-NNI-Token': token})[0] == 421
        assert http_call(port, 'GET', '/api/v1/nni/trial-jobs')[0] == 200
    finally:
        manager.stop()


def test_big_trial_output_streams_without_memory_growth(viewed: ManagerProcess) -> None:
    pid = viewed.process.pid
    port = viewed.port
    expected = BIG_STDOUT_MB * 1024 * 1024
    before = rss_kb(pid)
    peak = [before]
    sizes: list[int] = []
    timings: list[float] = []
    done = threading.Event()

    def watch_memory() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_kb(pid))
            time.sleep(0.01)

    def download() -> None:
        import http.client

        connection = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
        connection.request('GET', '/api/v1/nni/trial-file/t00000/stdout')
        response = connection.getresponse()
        total = 0
        while chunk := response.read(1024 * 1024):
            total += len(chunk)
        connection.close()
        sizes.append(total)

    def probe_api() -> None:
        while not done.is_set():
            timings.extend(time_check_status(port, 1, pause_s=0.01))

    watcher = threading.Thread(target=watch_memory, daemon=True)
    prober = threading.Thread(target=probe_api, daemon=True)
    downloads = [threading.Thread(target=download) for _ in range(8)]
    watcher.start()
    prober.start()
    started = time.perf_counter()
    for thread in downloads:
        thread.start()
    for thread in downloads:
        thread.join(timeout=120)
    elapsed = time.perf_counter() - started
    done.set()
    watcher.join()
    prober.join()
    growth_mb = (peak[0] - before) / 1024
    p99 = _report('8 downloads of a 100 MB stdout', timings)
    print(f'\n8 x {BIG_STDOUT_MB} MB stdout in {elapsed:.1f} s: manager RSS {before / 1024:.0f} MB -> peak '
          f'{peak[0] / 1024:.0f} MB (+{growth_mb:.1f} MB)')
    assert sizes == [expected] * 8
    assert growth_mb < RSS_GROWTH_BOUND_MB
    assert p99 < P99_BOUND_MS
