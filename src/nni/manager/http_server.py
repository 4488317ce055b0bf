"""A small ASGI server for the manager: asyncio streams + h11, HTTP/1.1 with keep-alive.

The manager serves one experiment to a handful of clients (the launching script, nnictl, a
browser, its own trials on loopback). A general-purpose server such as uvicorn brings its CLI,
logging configuration and reload machinery along, which costs a large share of the manager's
start-up; ``Experiment.start()`` has a 0.3 s budget. This module speaks exactly what the
manager needs: HTTP/1.1 requests (``h11`` does the protocol), the ASGI ``http`` scope, streamed
responses (server-sent events included), and a graceful shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

import h11

_logger = logging.getLogger('nni.manager.http')

ASGIApp = Callable[[dict[str, Any], Callable[[], Awaitable[dict[str, Any]]],
                    Callable[[dict[str, Any]], Awaitable[None]]], Awaitable[None]]

#: largest request body accepted (trial metrics are limited to 1 MB; configs are small)
MAX_BODY_BYTES = 16 * 1024 * 1024
_READ_CHUNK = 65536


class HttpServer:
    """Serve an ASGI application on one address.

    Parameters
    ----------
    app
        The ASGI application (``http`` scopes only; no lifespan, no websockets).
    host, port
        Where to listen.
    """

    def __init__(self, app: ASGIApp, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server: asyncio.base_events.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        # connections waiting for their next request: safe to drop at once on shutdown
        self._idle: set[asyncio.Task[None]] = set()
        self._closing = False

    async def start(self) -> None:
        """Bind and start accepting connections; raises ``OSError`` if the port is taken."""
        self._server = await asyncio.start_server(self._serve_connection, self.host, self.port,
                                                  reuse_address=True, backlog=256)

    async def close(self, grace_s: float = 5.0) -> None:
        """Stop accepting, let requests in flight finish for up to ``grace_s``, then drop the rest."""
        self._closing = True
        if self._server is not None:
            self._server.close()
        for task in list(self._idle):
            task.cancel()
        if self._connections:
            _, pending = await asyncio.wait(list(self._connections), timeout=grace_s)
            for task in pending:
                task.cancel()

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=64 * 1024)
        peer = writer.get_extra_info('peername')
        try:
            while not self._closing:
                self._idle.add(task)
                try:
                    request = await self._next_event(connection, reader)
                finally:
                    self._idle.discard(task)
                if not isinstance(request, h11.Request):
                    break
                keep_going = await self._handle(connection, request, reader, writer, peer)
                if not keep_going or connection.our_state is h11.MUST_CLOSE:
                    break
                try:
                    connection.start_next_cycle()
                except h11.LocalProtocolError:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, h11.RemoteProtocolError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self._connections.discard(task)
            self._idle.discard(task)
            writer.close()

    @staticmethod
    async def _next_event(connection: h11.Connection, reader: asyncio.StreamReader) -> Any:
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(_READ_CHUNK)
                connection.receive_data(data)
                if not data and connection.their_state is not h11.SEND_BODY:
                    # the peer closed between requests
                    event = connection.next_event()
                    return event if event is not h11.NEED_DATA else h11.ConnectionClosed()
                continue
            return event

    async def _handle(self, connection: h11.Connection, request: h11.Request, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter, peer: Any) -> bool:
        raw_path, _, query = request.target.partition(b'?')
        headers = [(name.lower(), value) for name, value in request.headers]
        scope = {
            'type': 'http', 'asgi': {'version': '3.0', 'spec_version': '2.3'},
            'http_version': request.http_version.decode(), 'method': request.method.decode(),
            'scheme': 'http', 'path': unquote(raw_path.decode('latin-1')), 'raw_path': raw_path,
            'query_string': query, 'root_path': '', 'headers': headers,
            'client': (peer[0], peer[1]) if isinstance(peer, tuple) else None,
            'server': (self.host, self.port),
        }
        body_done = False
        body_size = 0
        response_started = False
        response_done = False
        disconnected = False

        async def receive() -> dict[str, Any]:
            nonlocal body_done, body_size, disconnected
            if body_done or disconnected:
                # nothing more to read: wait until the response is over (what ASGI servers do
                # for a handler that listens for a disconnect while streaming)
                while not response_done and not self._closing:
                    await asyncio.sleep(0.5)
                return {'type': 'http.disconnect'}
            event = await self._next_event(connection, reader)
            if isinstance(event, h11.Data):
                body_size += len(event.data)
                if body_size > MAX_BODY_BYTES:
                    raise ValueError('request body too large')
                return {'type': 'http.request', 'body': bytes(event.data), 'more_body': True}
            if isinstance(event, h11.EndOfMessage):
                body_done = True
                return {'type': 'http.request', 'body': b'', 'more_body': False}
            disconnected = True
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
                writer.write(connection.send(h11.Response(status_code=message['status'],
                                                          headers=response_headers)))
            elif kind == 'http.response.body':
                if response_done:
                    return
                body = message.get('body', b'')
                if body:
                    writer.write(connection.send(h11.Data(data=body)))
                if not message.get('more_body', False):
                    writer.write(connection.send(h11.EndOfMessage()))
                    response_done = True
                await writer.drain()

        try:
            await self.app(scope, receive, send)
        except Exception:  # noqa: BLE001 - an application bug answers 500, the server lives on
            _logger.exception('unhandled error in %s %s', scope['method'], scope['path'])
            if not response_started:
                body = b'{"error": "internal server error"}'
                writer.write(connection.send(h11.Response(status_code=500, headers=[
                    (b'content-type', b'application/json'), (b'content-length', str(len(body)).encode())])))
                writer.write(connection.send(h11.Data(data=body)))
                writer.write(connection.send(h11.EndOfMessage()))
                await writer.drain()
                response_done = True
            else:
                return False
        if not response_done:
            return False
        # read what is left of a request body the handler did not consume, so keep-alive works
        while connection.their_state is h11.SEND_BODY:
            event = await self._next_event(connection, reader)
            if isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                break
        return connection.their_state is h11.DONE
