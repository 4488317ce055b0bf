"""A small ASGI server for the manager: asyncio streams + h11, HTTP/1.1 with keep-alive.

The manager serves one experiment to a handful of clients (the launching script, nnictl, a
browser, its own trials on loopback). A general-purpose server such as uvicorn brings its CLI,
logging configuration and reload machinery along, which costs a large share of the manager's
start-up; ``Experiment.start()`` has a 0.3 s budget. This module speaks exactly what the
manager needs: HTTP/1.1 requests (``h11`` does the protocol), the ASGI ``http`` scope, streamed
responses (server-sent events included), and a graceful shutdown.

It also survives bad clients (limits in :class:`~.server_edges.ServerLimits`, documented in
docs/internals.md, "Server edges"):

* a connection cap: at the cap, a new connection evicts the connection that has waited longest
  without a request being answered (idle ones first, then ones still sending a request); when
  every connection is being answered, the newcomer gets a 503 at once;
* timeouts for a request's head, its body, an idle keep-alive connection, and a client that
  does not read its answer;
* 431 for an oversized head, 413 for an oversized body (checked on ``Content-Length`` before a
  byte of it is read), 400 for malformed HTTP; bodies are read whole before the application
  runs, so an application only ever waits on its own work.
"""

from __future__ import annotations

import asyncio
import http
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

import h11

from .server_edges import FD_RESERVE, ServerLimits, raise_open_file_limit

_logger = logging.getLogger('nni.manager.http')

ASGIApp = Callable[[dict[str, Any], Callable[[], Awaitable[dict[str, Any]]],
                    Callable[[dict[str, Any]], Awaitable[None]]], Awaitable[None]]

_READ_CHUNK = 65536
_HEAD_READ_CHUNK = 8192
#: after refusing a request whose body is still coming, keep reading (and dropping) it this long
#: so the client, busy sending, gets to read the answer instead of a connection reset
_LINGER_S = 2.0
_CAP_WARNING_INTERVAL_S = 60.0

_IDLE = 'idle'            # no byte of the next request yet
_RECEIVING = 'receiving'  # head or body under way
_HANDLING = 'handling'    # the application answers


class _Refusal(Exception):
    """A request the server answers itself with ``status`` and closes."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Connection:
    """One connection's state; idle and receiving ones also sit in their state's queue, oldest first."""

    __slots__ = ('task', 'writer', 'state', 'since', '_queues')

    def __init__(self, task: asyncio.Task[None], writer: asyncio.StreamWriter,
                 queues: dict[str, OrderedDict[asyncio.Task[None], _Connection]]) -> None:
        self.task = task
        self.writer = writer
        self._queues = queues
        self.state = ''
        self.since = 0.0
        self.enter(_IDLE)

    def enter(self, state: str) -> None:
        self.leave()
        self.state = state
        self.since = time.monotonic()
        queue = self._queues.get(state)
        if queue is not None:
            queue[self.task] = self

    def leave(self) -> None:
        queue = self._queues.get(self.state)
        if queue is not None:
            queue.pop(self.task, None)


def _raw_response(status: int, message: str) -> bytes:
    body = json.dumps({'error': message}).encode()
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = 'Error'
    head = (f'HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n'
            f'content-length: {len(body)}\r\nconnection: close\r\n\r\n')
    return head.encode('latin-1') + body


class HttpServer:
    """Serve an ASGI application on one address.

    Parameters
    ----------
    app
        The ASGI application (``http`` scopes only; no lifespan, no websockets).
    host, port
        Where to listen.
    limits
        What bad clients are allowed; defaults from :meth:`ServerLimits.from_env`.
    """

    def __init__(self, app: ASGIApp, host: str, port: int, limits: ServerLimits | None = None) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.limits = limits if limits is not None else ServerLimits.from_env()
        self.max_connections = self.limits.max_connections
        self._server: asyncio.base_events.Server | None = None
        self._connections: dict[asyncio.Task[None], _Connection] = {}
        # eviction candidates in the order they started waiting: O(1) to pick one at the cap
        self._waiting: dict[str, OrderedDict[asyncio.Task[None], _Connection]] = {
            _IDLE: OrderedDict(), _RECEIVING: OrderedDict()}
        self._buffered_body_bytes = 0
        self._closing = False
        self._last_cap_warning = 0.0
        #: connections closed to make room, and connections refused (every slot answering)
        self.evicted = 0
        self.refused = 0

    async def start(self) -> None:
        """Bind and start accepting connections; raises ``OSError`` if the port is taken."""
        soft = raise_open_file_limit()
        self.max_connections = max(16, min(self.limits.max_connections, soft - FD_RESERVE))
        self._server = await asyncio.start_server(self._serve_connection, self.host, self.port,
                                                  reuse_address=True, backlog=1024)

    @property
    def connection_count(self) -> int:
        """Connections open now."""
        return len(self._connections)

    async def close(self, grace_s: float = 5.0) -> None:
        """Stop accepting, let requests in flight finish for up to ``grace_s``, then drop the rest."""
        self._closing = True
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections.values()):
            if connection.state != _HANDLING:
                connection.task.cancel()
        if self._connections:
            _, pending = await asyncio.wait(list(self._connections), timeout=grace_s)
            for task in pending:
                task.cancel()

    # ------------------------------------------------------------------ admission

    def _admit(self) -> bool:
        if len(self._connections) < self.max_connections:
            return True
        # idle ones first, then the longest-waiting sender (a slowloris): a real client's request
        # is never the oldest one still sending
        queue = self._waiting[_IDLE] or self._waiting[_RECEIVING]
        if not queue:
            self.refused += 1
            self._warn_cap('every connection has a request being answered: refused a new one')
            return False
        _, victim = queue.popitem(last=False)
        victim.state = ''
        self._connections.pop(victim.task, None)
        victim.task.cancel()
        self.evicted += 1
        self._warn_cap('closed connections that had no request under way to make room')
        return True

    def _warn_cap(self, what: str) -> None:
        # one line a minute at most: a flood of connections must not flood the log too
        now = time.monotonic()
        if now - self._last_cap_warning >= _CAP_WARNING_INTERVAL_S:
            self._last_cap_warning = now
            _logger.warning('connection cap (%d, NNI_MANAGER_MAX_CONNECTIONS) reached: %s '
                            '(%d evicted, %d refused so far)', self.max_connections, what, self.evicted, self.refused)

    # ------------------------------------------------------------------ one connection

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if self._closing or not self._admit():
            await self._refuse(writer, 503, 'the manager has too many connections being answered; retry later')
            return
        connection = _Connection(task, writer, self._waiting)
        self._connections[task] = connection
        protocol = h11.Connection(h11.SERVER, max_incomplete_event_size=self.limits.max_header_bytes)
        peer = writer.get_extra_info('peername')
        local = writer.get_extra_info('sockname')
        try:
            while not self._closing:
                request = await self._read_head(protocol, reader, connection)
                if request is None:
                    break
                body = await self._read_body(protocol, request, reader, writer, connection)
                if body is None:
                    break
                connection.enter(_HANDLING)
                keep_going = await self._handle(protocol, request, body, writer, peer, local)
                if not keep_going or protocol.our_state is h11.MUST_CLOSE:
                    break
                try:
                    protocol.start_next_cycle()
                except h11.LocalProtocolError:
                    break
        except _Refusal as refusal:
            await self._refuse(writer, refusal.status, str(refusal), reader)
        except h11.RemoteProtocolError as error:
            if protocol.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                await self._refuse(writer, error.error_status_hint or 400, f'bad HTTP request: {error}')
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            connection.leave()
            self._connections.pop(task, None)
            writer.close()

    async def _refuse(self, writer: asyncio.StreamWriter, status: int, message: str,
                      reader: asyncio.StreamReader | None = None) -> None:
        try:
            writer.write(_raw_response(status, message))
            async with asyncio.timeout(1.0):
                await writer.drain()
            if reader is not None:
                # drop what the client is still sending for a moment, so it reads the answer
                if writer.can_write_eof():
                    writer.write_eof()
                async with asyncio.timeout(_LINGER_S):
                    while await reader.read(_READ_CHUNK):
                        pass
        except (ConnectionError, TimeoutError, OSError):
            pass
        finally:
            writer.close()

    async def _read_head(self, protocol: h11.Connection, reader: asyncio.StreamReader,
                         connection: _Connection) -> h11.Request | None:
        loop = asyncio.get_running_loop()
        started = bool(protocol.trailing_data[0])  # a pipelined request already buffered
        connection.enter(_RECEIVING if started else _IDLE)
        head_bytes = len(protocol.trailing_data[0]) if started else 0
        # one timer for the whole head, moved once when its first byte arrives: a slowloris
        # trickling bytes costs a read each, not a timer each
        first_wait = self.limits.header_timeout_s if started else self.limits.idle_timeout_s
        try:
            async with asyncio.timeout_at(loop.time() + first_wait) as timer:
                while True:
                    event = protocol.next_event()
                    if isinstance(event, h11.Request):
                        return event
                    if event is not h11.NEED_DATA or protocol.their_state is h11.CLOSED:
                        return None  # ConnectionClosed (or a stray event): the peer is done
                    if not started and protocol.trailing_data[0]:
                        started = True
                        connection.enter(_RECEIVING)
                        timer.reschedule(loop.time() + self.limits.header_timeout_s)
                    if head_bytes > self.limits.max_header_bytes:
                        raise _Refusal(431, f'the request head is over the limit of '
                                            f'{self.limits.max_header_bytes} bytes (NNI_MANAGER_MAX_HEADER_KB)')
                    # small reads: the head's size is checked between reads, so it overshoots the
                    # limit by one read at most before the 431
                    data = await reader.read(_HEAD_READ_CHUNK)
                    protocol.receive_data(data)
                    head_bytes += len(data)
        except TimeoutError:
            if started:
                raise _Refusal(408, f'the request head did not arrive within {self.limits.header_timeout_s:g} s '
                                    '(NNI_MANAGER_HEADER_TIMEOUT)') from None
            return None  # an idle keep-alive connection: close it quietly

    async def _read_body(self, protocol: h11.Connection, request: h11.Request, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter, connection: _Connection) -> bytes | None:
        limit = self.limits.max_body_bytes
        declared: int | None = None
        for name, value in request.headers:
            if name == b'content-length':
                declared = int(value)  # h11 has validated it
        if declared is not None and declared > limit:
            raise _Refusal(413, f'request body of {declared} bytes is over the limit of {limit} bytes '
                                f'(NNI_MANAGER_MAX_BODY_MB)')
        if protocol.their_state is h11.DONE:
            return b''
        reserved = declared or 0
        if self._buffered_body_bytes + reserved > self.limits.max_buffered_body_bytes:
            raise _Refusal(503, 'the manager is receiving too many large request bodies; retry later')
        self._buffered_body_bytes += reserved
        connection.enter(_RECEIVING)
        if protocol.they_are_waiting_for_100_continue:
            writer.write(protocol.send(h11.InformationalResponse(status_code=100, headers=[])))
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.limits.body_timeout_s):
                while True:
                    event = protocol.next_event()
                    if event is h11.NEED_DATA:
                        protocol.receive_data(await reader.read(_READ_CHUNK))
                        continue
                    if isinstance(event, h11.Data):
                        size += len(event.data)
                        if size > limit:
                            raise _Refusal(413, f'request body is over the limit of {limit} bytes '
                                                f'(NNI_MANAGER_MAX_BODY_MB)')
                        if size > reserved:  # chunked: account as it comes
                            self._buffered_body_bytes += size - reserved
                            reserved = size
                            if self._buffered_body_bytes > self.limits.max_buffered_body_bytes:
                                raise _Refusal(503, 'the manager is receiving too many large request bodies; '
                                                    'retry later')
                        chunks.append(bytes(event.data))
                        continue
                    if isinstance(event, h11.EndOfMessage):
                        return b''.join(chunks)
                    return None  # the peer went away mid-body
        except TimeoutError:
            raise _Refusal(408, f'the request body did not arrive within {self.limits.body_timeout_s:g} s '
                                '(NNI_MANAGER_BODY_TIMEOUT)') from None
        finally:
            self._buffered_body_bytes -= reserved

    async def _drain(self, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(self.limits.write_timeout_s):
                await writer.drain()
        except TimeoutError:
            writer.transport.abort()
            raise ConnectionResetError('the client stopped reading its answer') from None

    async def _handle(self, protocol: h11.Connection, request: h11.Request, body: bytes,
                      writer: asyncio.StreamWriter, peer: Any, local: Any) -> bool:
        raw_path, _, query = request.target.partition(b'?')
        headers = [(name.lower(), value) for name, value in request.headers]
        scope = {
            'type': 'http', 'asgi': {'version': '3.0', 'spec_version': '2.3'},
            'http_version': request.http_version.decode(), 'method': request.method.decode('latin-1'),
            'scheme': 'http', 'path': unquote(raw_path.decode('latin-1'), errors='replace'), 'raw_path': raw_path,
            'query_string': query, 'root_path': '', 'headers': headers,
            'client': (peer[0], peer[1]) if isinstance(peer, tuple) else None,
            # the address this connection arrived on (not the wildcard bind address)
            'server': (local[0], local[1]) if isinstance(local, tuple) else (self.host, self.port),
        }
        body_given = False
        response_started = False
        response_done = False

        async def receive() -> dict[str, Any]:
            nonlocal body_given
            if not body_given:
                body_given = True
                return {'type': 'http.request', 'body': body, 'more_body': False}
            # nothing more to read: wait until the response is over (what ASGI servers do for a
            # handler that listens for a disconnect while streaming)
            while not response_done and not self._closing and not writer.is_closing():
                await asyncio.sleep(0.5)
            return {'type': 'http.disconnect'}

        async def send(message: dict[str, Any]) -> None:
            nonlocal response_started, response_done
            kind = message['type']
            if kind == 'http.response.start':
                response_headers = list(message.get('headers', []))
                names = {name.lower() for name, _ in response_headers}
                if b'content-length' not in names and b'transfer-encoding' not in names:
                    response_headers.append((b'transfer-encoding', b'chunked'))
                if self._closing:
                    response_headers.append((b'connection', b'close'))
                response_started = True
                writer.write(protocol.send(h11.Response(status_code=message['status'], headers=response_headers)))
            elif kind == 'http.response.body':
                if response_done:
                    return
                chunk = message.get('body', b'')
                if chunk:
                    writer.write(protocol.send(h11.Data(data=chunk)))
                if not message.get('more_body', False):
                    writer.write(protocol.send(h11.EndOfMessage()))
                    response_done = True
                await self._drain(writer)

        try:
            await self.app(scope, receive, send)
        except (ConnectionError, asyncio.CancelledError):
            return False
        except Exception:  # noqa: BLE001 - an application bug answers 500, the server lives on
            _logger.exception('unhandled error in %s %s', scope['method'], scope['path'])
            if not response_started:
                error_body = b'{"error": "internal server error"}'
                writer.write(protocol.send(h11.Response(status_code=500, headers=[
                    (b'content-type', b'application/json'),
                    (b'content-length', str(len(error_body)).encode())])))
                writer.write(protocol.send(h11.Data(data=error_body)))
                writer.write(protocol.send(h11.EndOfMessage()))
                await self._drain(writer)
                response_done = True
            else:
                return False
        return response_done and protocol.their_state is h11.DONE
