"""The manager's HTTP server against bad clients, in process: limits, timeouts, cap, Host, token.

A real :class:`HttpServer` listens on an ephemeral loopback port inside the test's event loop;
the clients are raw sockets, so every byte a bad client would send is under the test's control.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from nni.manager.http_server import HttpServer
from nni.manager.server_edges import (
    BodyError,
    EdgeGuard,
    ServedNames,
    ServerLimits,
    cookie_value,
    host_name,
    is_loopback,
    parse_json_body,
)
from nni.manager.web import FileResponse, Request, Response, Route, Router

# ---------------------------------------------------------------------------- pure helpers


def test_limits_come_from_the_environment_and_bad_values_name_the_variable() -> None:
    limits = ServerLimits.from_env({'NNI_MANAGER_MAX_BODY_MB': '2', 'NNI_MANAGER_HEADER_TIMEOUT': '0.5',
                                    'NNI_MANAGER_MAX_CONNECTIONS': '30', 'NNI_MANAGER_ALLOWED_HOSTS': 'a.example, B'})
    assert limits.max_body_bytes == 2 * 1024 * 1024 and limits.header_timeout_s == 0.5
    assert limits.max_connections == 30 and limits.allowed_hosts == ('a.example', 'b')
    assert ServerLimits.from_env({}) == ServerLimits()
    for bad in ('0', '-3', 'lots', 'nan', 'inf'):
        with pytest.raises(ValueError, match='NNI_MANAGER_MAX_BODY_MB'):
            ServerLimits.from_env({'NNI_MANAGER_MAX_BODY_MB': bad})


def test_host_names_are_parsed_with_ports_and_brackets() -> None:
    assert host_name('LocalHost:8080') == 'localhost'
    assert host_name('[::1]:8080') == '::1' and host_name('[::1]') == '::1'
    assert host_name('10.0.0.5') == '10.0.0.5' and host_name('example.org.:80') == 'example.org'
    assert is_loopback('127.3.4.5') and is_loopback('::1') and is_loopback('localhost')
    assert not is_loopback('10.0.0.1') and not is_loopback('evil.example') and not is_loopback(None)


def test_served_names_on_loopback_and_beyond() -> None:
    loopback = ServedNames('127.0.0.1')
    assert not loopback.beyond_loopback
    for good in ('localhost', 'localhost:8080', '127.0.0.1:8080', '[::1]:8080', None):
        assert loopback.allows(good, '127.0.0.1'), good
    for bad in ('evil.example', 'evil.example:8080', '10.1.2.3', 'localhost.evil.example'):
        assert not loopback.allows(bad, '127.0.0.1'), bad
    wide = ServedNames('0.0.0.0', ['portal.example'])
    assert wide.beyond_loopback
    assert wide.allows('192.0.2.7:8080', '192.0.2.7')  # the address the connection arrived on
    assert not wide.allows('192.0.2.8:8080', '192.0.2.7')
    assert wide.allows('portal.example:8080', '192.0.2.7')
    assert not wide.allows('rebind.evil.example', '192.0.2.7')
    wide.manager_ips = ('10.9.8.7', 'head.cluster.example')
    assert wide.allows('10.9.8.7:8080', '192.0.2.7') and wide.allows('head.cluster.example', '192.0.2.7')
    assert ServedNames('127.0.0.1', ['*']).allows('anything.example', None)


def test_json_bodies_have_a_depth_limit() -> None:
    assert parse_json_body(b'', 10) is None and parse_json_body(b' {"a": [1, {"b": 2}]} ', 10) == {'a': [1, {'b': 2}]}
    for body in (b'[' * 100_000 + b']' * 100_000, b'[1,' * 100_000 + b']' * 100_000,
                 b'{"a":' * 50_000 + b'1' + b'}' * 50_000, b'[' * 11 + b']' * 11):
        with pytest.raises(BodyError, match='deeper than 10'):
            parse_json_body(body, 10)
    with pytest.raises(BodyError, match='not valid JSON'):
        parse_json_body(b'{"a": ', 10)
    with pytest.raises(BodyError, match='UTF-8'):
        parse_json_body(b'"\xff\xfe"', 10)


def test_cookie_values() -> None:
    assert cookie_value('a=1; nni-token-8080=abc; b=2', 'nni-token-8080') == 'abc'
    assert cookie_value('nni-token-8081=abc', 'nni-token-8080') is None and cookie_value(None, 'x') is None


# ---------------------------------------------------------------------------- a real server in process


async def _hello(request: Request) -> Response:
    return Response(json.dumps({'body': len(await request.body())}), media_type='application/json')


async def _slow(request: Request) -> Response:
    await asyncio.sleep(float(request.query_params.get('s', '1')))
    return Response(b'{}', media_type='application/json')


async def _boom(request: Request) -> Response:
    raise RuntimeError('a bug')


def _app() -> Router:
    return Router([Route('/hello', _hello, methods=['GET', 'POST']), Route('/slow', _slow), Route('/boom', _boom)])


async def _serve(limits: ServerLimits, body: Callable[[HttpServer], Awaitable[None]], app: Any = None) -> None:
    server = HttpServer(app or _app(), '127.0.0.1', 0, limits)
    await server.start()
    assert server._server is not None  # noqa: SLF001
    server.port = server._server.sockets[0].getsockname()[1]  # noqa: SLF001
    try:
        await body(server)
    finally:
        await server.close(grace_s=1)


async def _exchange(port: int, data: bytes, timeout: float = 10) -> bytes:
    """Send ``data``, then read until the server closes (or ``timeout``)."""
    reader, writer = await asyncio.open_connection('127.0.0.1', port)
    writer.write(data)
    await writer.drain()
    chunks = []
    try:
        async with asyncio.timeout(timeout):
            while chunk := await reader.read(65536):
                chunks.append(chunk)
    except (TimeoutError, ConnectionError):
        pass
    writer.close()
    return b''.join(chunks)


def _status(answer: bytes) -> int:
    return int(answer.split(b' ', 2)[1]) if answer.startswith(b'HTTP/1.1 ') else 0


GET_HELLO = b'GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'


def test_size_limits_and_malformed_requests_get_4xx() -> None:
    limits = ServerLimits(max_body_bytes=1000, max_header_bytes=4096)

    async def body(server: HttpServer) -> None:
        port = server.port
        assert _status(await _exchange(port, GET_HELLO)) == 200
        small = b'POST /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 10\r\n\r\n0123456789'
        answer = await _exchange(port, small)
        assert _status(answer) == 200 and answer.endswith(b'{"body": 10}')
        # declared too big: refused before a byte of the body is read
        big = b'POST /hello HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5000\r\n\r\n' + b'x' * 5000
        answer = await _exchange(port, big)
        assert _status(answer) == 413 and b'limit of 1000 bytes' in answer
        # chunked, so no length up front: refused when it grows past the limit
        chunked = (b'POST /hello HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n'
                   + b'200\r\n' + b'y' * 512 + b'\r\n' + b'200\r\n' + b'y' * 512 + b'\r\n0\r\n\r\n')
        assert _status(await _exchange(port, chunked)) == 413
        huge_head = b'GET /hello HTTP/1.1\r\nHost: localhost\r\nX-Big: ' + b'a' * 20_000 + b'\r\n\r\n'
        assert _status(await _exchange(port, huge_head)) == 431
        assert _status(await _exchange(port, b'NONSENSE\r\n\r\n')) == 400
        assert _status(await _exchange(port, b'GET /hello HTTP/1.1\r\nContent-Length: -4\r\n\r\n')) == 400
        # a bug in a handler answers 500 and the server keeps serving
        assert _status(await _exchange(port, GET_HELLO.replace(b'/hello', b'/boom'))) == 500
        assert _status(await _exchange(port, GET_HELLO)) == 200

    asyncio.run(_serve(limits, body))


def test_header_body_and_idle_timeouts_close_the_connection() -> None:
    limits = ServerLimits(header_timeout_s=0.3, body_timeout_s=0.3, idle_timeout_s=0.5)

    async def body(server: HttpServer) -> None:
        port = server.port
        answer = await _exchange(port, b'GET /hello HTTP/1.1\r\nHost: loc')
        assert _status(answer) == 408 and b'NNI_MANAGER_HEADER_TIMEOUT' in answer
        answer = await _exchange(port, b'POST /hello HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n01')
        assert _status(answer) == 408 and b'NNI_MANAGER_BODY_TIMEOUT' in answer
        # an idle connection (no byte sent) is closed quietly
        assert await _exchange(port, b'') == b''
        # keep-alive: two requests on one connection, then quiet close after the idle timeout
        two = GET_HELLO.replace(b'Connection: close', b'Connection: keep-alive') * 2
        answer = await _exchange(port, two)
        assert answer.count(b'HTTP/1.1 200') == 2
        assert server.connection_count == 0

    asyncio.run(_serve(limits, body))


def test_connection_cap_evicts_idle_and_half_sent_connections_first() -> None:
    limits = ServerLimits(max_connections=20)

    async def body(server: HttpServer) -> None:
        server.max_connections = 20  # start() keeps at least 16; the test wants exactly this
        port = server.port
        idle = [await asyncio.open_connection('127.0.0.1', port) for _ in range(15)]
        half = []
        for _ in range(15):
            reader, writer = await asyncio.open_connection('127.0.0.1', port)
            writer.write(b'GET /hello HTTP/1.1\r\nHost: local')
            await writer.drain()
            half.append((reader, writer))
        await asyncio.sleep(0.1)
        assert server.connection_count <= 20
        # a real client still gets through, at the cost of the oldest idle connections
        for _ in range(5):
            assert _status(await _exchange(port, GET_HELLO)) == 200
        assert server.evicted >= 10  # 30 connections on a cap of 20

        async def closed(reader: asyncio.StreamReader) -> bool:
            try:
                async with asyncio.timeout(0.5):
                    return await reader.read(1) == b''
            except (TimeoutError, ConnectionError):
                return False

        closed_idle = sum(await asyncio.gather(*(closed(reader) for reader, _ in idle)))
        for _, writer in idle:
            writer.close()
        assert closed_idle >= 10  # idle ones went first
        for _, writer in half:
            writer.close()

    asyncio.run(_serve(limits, body))


def test_connection_cap_refuses_when_every_slot_is_answering() -> None:
    limits = ServerLimits(max_connections=16)

    async def body(server: HttpServer) -> None:
        server.max_connections = 16
        port = server.port
        busy = [asyncio.create_task(_exchange(port, GET_HELLO.replace(b'/hello', b'/slow?s=1.5'))) for _ in range(16)]
        await asyncio.sleep(0.4)
        answer = await _exchange(port, GET_HELLO, timeout=2)
        assert _status(answer) == 503 and server.refused >= 1
        assert all(_status(answer) == 200 for answer in await asyncio.gather(*busy))
        assert _status(await _exchange(port, GET_HELLO)) == 200

    asyncio.run(_serve(limits, body))


def test_a_client_that_does_not_read_is_disconnected(tmp_path: Path) -> None:
    path = tmp_path / 'big.bin'
    path.write_bytes(os.urandom(1024) * 8 * 1024)  # 8 MB: more than the socket buffers hold

    async def download(request: Request) -> Response:
        return FileResponse(path)

    limits = ServerLimits(write_timeout_s=0.5)

    async def body(server: HttpServer) -> None:
        reader, writer = await asyncio.open_connection('127.0.0.1', server.port, limit=1024)
        writer.write(b'GET /f HTTP/1.1\r\nHost: localhost\r\n\r\n')
        await writer.drain()
        await asyncio.sleep(0.1)
        assert server.connection_count == 1
        for _ in range(50):  # the server gives up after the write timeout
            await asyncio.sleep(0.1)
            if server.connection_count == 0:
                break
        assert server.connection_count == 0
        writer.close()

    asyncio.run(_serve(limits, body, Router([Route('/f', download)])))


# ---------------------------------------------------------------------------- Host and token


def _call(app: Any, method: str, path: str, headers: dict[str, str], query: bytes = b'',
          client: str = '192.0.2.50', server: str = '192.0.2.7') -> tuple[int, dict[bytes, bytes], bytes]:
    raw = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    scope = {'type': 'http', 'method': method, 'path': path, 'raw_path': path.encode(), 'query_string': query,
             'headers': raw, 'client': (client, 5000), 'server': (server, 8080)}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {'type': 'http.request', 'body': b'', 'more_body': False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    headers_out: dict[bytes, bytes] = {}
    for name, value in sent[0]['headers']:
        headers_out[name] = value
    return sent[0]['status'], headers_out, b''.join(m.get('body', b'') for m in sent[1:])


async def _auth(request: Request) -> Response:
    return Response(json.dumps({'auth': request.scope.get('nni.auth')}), media_type='application/json')


def test_edge_guard_checks_host_and_hands_out_the_cookie() -> None:
    token = 'f' * 32
    wide = EdgeGuard(Router([Route('/', _auth), Route('/api/v1/nni/x', _auth)]), ServedNames('0.0.0.0'),
                     token=lambda: token, manager_ips=lambda: (), port=8080)
    status, _, body = _call(wide, 'GET', '/api/v1/nni/x', {'Host': 'rebind.evil.example:8080'})
    assert status == 421 and b'NNI_MANAGER_ALLOWED_HOSTS' in body
    status, headers, body = _call(wide, 'GET', '/api/v1/nni/x', {'Host': '192.0.2.7:8080', 'X-NNI-Token': token})
    assert status == 200 and json.loads(body) == {'auth': 'header'}
    cookie = headers[b'set-cookie'].decode()
    assert cookie.startswith(f'nni-token-8080={token};') and 'HttpOnly' in cookie and 'SameSite=Strict' in cookie
    status, headers, body = _call(wide, 'GET', '/api/v1/nni/x', {'Host': '192.0.2.7:8080',
                                                                'Cookie': f'nni-token-8080={token}'})
    assert json.loads(body) == {'auth': 'cookie'} and b'set-cookie' not in headers
    status, _, body = _call(wide, 'GET', '/api/v1/nni/x', {'Host': '192.0.2.7', 'X-NNI-Token': 'wrong'})
    assert json.loads(body) == {'auth': None}
    # the portal link with the token: cookie set, token removed from the address bar
    status, headers, _ = _call(wide, 'GET', '/', {'Host': '192.0.2.7:8080'}, query=f'token={token}&x=1'.encode())
    assert status == 303 and headers[b'location'] == b'/?x=1' and b'set-cookie' in headers
    loopback = EdgeGuard(Router([Route('/', _auth)]), ServedNames('127.0.0.1'), token=lambda: token,
                         manager_ips=lambda: (), port=8080)
    assert _call(loopback, 'GET', '/', {'Host': 'localhost:8080'}, server='127.0.0.1')[0] == 200
    assert _call(loopback, 'GET', '/', {'Host': 'evil.example'}, server='127.0.0.1')[0] == 421
