"""The little web toolkit the manager's routes are written in: requests, responses, routing.

An ASGI application (``http`` scopes; ``lifespan`` is acknowledged) served by :mod:`.http_server`. It does what the REST
API and the portal need and nothing more: path patterns with ``{name}`` (one segment) and
``{name:path}`` (the rest) parameters, prefixes (:class:`Mount`), 404/405 answers, ``HEAD`` for
every ``GET`` route, buffered request bodies, byte/text/file responses and a task run after the
answer is sent. A general framework (Starlette) cost a sixth of the manager's start-up in
imports; this module imports only the standard library.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

__all__ = ["FileResponse", "Mount", "PlainTextResponse", "Request", "Response", "Route", "Router"]

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Endpoint = Callable[["Request"], Awaitable["Response"]]

_FILE_CHUNK = 128 * 1024


class Address(NamedTuple):
    """The peer of a connection."""

    host: str
    port: int


class URL(NamedTuple):
    """The parts of the request target that handlers read."""

    path: str
    query: str


class Headers(Mapping[str, str]):
    """Request headers, looked up case-insensitively (the last one wins for repeated names)."""

    def __init__(self, raw: Sequence[tuple[bytes, bytes]]) -> None:
        self._values = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in raw}

    def __getitem__(self, name: str) -> str:
        return self._values[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class QueryParams(Mapping[str, str]):
    """Query-string parameters; for a repeated name the last value wins, blank values are kept."""

    def __init__(self, query: str) -> None:
        self._values = dict(parse_qsl(query, keep_blank_values=True))

    def __getitem__(self, name: str) -> str:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class Request:
    """One HTTP request, as the handlers see it."""

    def __init__(self, scope: Scope, receive: Receive, path_params: dict[str, str] | None = None) -> None:
        self.scope = scope
        self._receive = receive
        self._body: bytes | None = None
        self.method: str = scope["method"]
        self.path_params: dict[str, str] = path_params or {}
        query = scope.get("query_string", b"").decode("latin-1")
        self.url = URL(scope["path"], query)
        self.query_params = QueryParams(query)
        self.headers = Headers(scope.get("headers", []))
        client = scope.get("client")
        self.client = Address(client[0], client[1]) if client else None

    async def body(self) -> bytes:
        """The whole request body (read once, then kept)."""
        if self._body is None:
            chunks = []
            while True:
                message = await self._receive()
                if message["type"] != "http.request":
                    break
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            self._body = b"".join(chunks)
        return self._body


class Response:
    """An answer with its whole body in memory.

    Parameters
    ----------
    content
        The body; text is encoded as UTF-8.
    status_code
        HTTP status.
    headers
        Extra headers.
    media_type
        Content type; ``text/*`` ones get ``charset=utf-8`` unless they name a charset.
    background
        Called (no arguments) after the answer has been sent; awaited if it returns an awaitable.
    """

    def __init__(self, content: bytes | str = b"", status_code: int = 200, headers: Mapping[str, str] | None = None,
                 media_type: str | None = None, background: Callable[[], Any] | None = None) -> None:  # fmt: skip
        self.body = content.encode("utf-8") if isinstance(content, str) else content
        self.status_code = status_code
        self.headers: dict[str, str] = dict(headers or {})
        self.media_type = media_type
        self.background = background

    def _raw_headers(self, length: int | None) -> list[tuple[bytes, bytes]]:
        raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in self.headers.items()]
        names = {name for name, _ in raw}
        if self.media_type is not None and b"content-type" not in names:
            media_type = self.media_type
            if media_type.startswith("text/") and "charset=" not in media_type:
                media_type += "; charset=utf-8"
            raw.append((b"content-type", media_type.encode("latin-1")))
        if length is not None and b"content-length" not in names and self.status_code not in (204, 304):
            raw.append((b"content-length", str(length).encode()))
        return raw

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = self.body if self.status_code not in (204, 304) else b""
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self._raw_headers(len(body))})  # fmt: skip
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
        if self.background is not None:
            outcome = self.background()
            if hasattr(outcome, "__await__"):
                await outcome


class PlainTextResponse(Response):
    """A ``text/plain`` answer."""

    def __init__(self, content: str, status_code: int = 200, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(content, status_code, headers, media_type="text/plain")


class FileResponse(Response):
    """A file from disk, streamed in chunks read off the event loop (trial outputs can be large).

    At most one chunk per download is in memory at a time: the next one is read only after the
    previous one has been handed to the connection and drained to the client.

    Parameters
    ----------
    path
        The file.
    media_type
        Its content type.
    headers
        Extra headers.
    empty_text
        Sent (as the whole body) instead of an empty file, for NNI's "stdout is empty." answers.
    """

    def __init__(self, path: str | os.PathLike[str], media_type: str = "application/octet-stream",
                 headers: Mapping[str, str] | None = None, empty_text: str | None = None) -> None:  # fmt: skip
        super().__init__(b"", 200, headers, media_type=media_type)
        self.path = Path(path)
        self.empty_text = empty_text

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            handle = await asyncio.to_thread(self.path.open, "rb")
        except OSError:
            await PlainTextResponse("Not Found", 404)(scope, receive, send)
            return
        try:
            size = os.fstat(handle.fileno()).st_size
            if size == 0 and self.empty_text is not None:
                self.body = self.empty_text.encode("utf-8")
                await Response.__call__(self, scope, receive, send)
                return
            await send({"type": "http.response.start", "status": 200, "headers": self._raw_headers(size)})
            if scope["method"] == "HEAD":
                await send({"type": "http.response.body", "body": b""})
                return
            remaining = size
            while True:
                # Never more than the size announced: the file may grow while it is sent.
                chunk = await asyncio.to_thread(handle.read, min(_FILE_CHUNK, remaining)) if remaining > 0 else b""
                remaining -= len(chunk)
                last = not chunk or remaining <= 0
                if not chunk and remaining > 0:
                    # the file shrank while it was sent: the announced length cannot be honoured
                    raise ConnectionAbortedError(f"{self.path} shrank while it was sent")
                await send({"type": "http.response.body", "body": chunk, "more_body": not last})
                if last:
                    return
        finally:
            handle.close()


_PARAMETER = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(?::(path))?}")


def _compile(pattern: str, whole: bool) -> re.Pattern[str]:
    parts, position = [], 0
    for match in _PARAMETER.finditer(pattern):
        parts.append(re.escape(pattern[position:match.start()]))
        parts.append(f"(?P<{match.group(1)}>{'.*' if match.group(2) else '[^/]+'})")
        position = match.end()
    parts.append(re.escape(pattern[position:]))
    return re.compile("^" + "".join(parts) + ("$" if whole else "(?=/|$)"))


class Route:
    """``endpoint`` answers ``methods`` on paths matching ``path`` (``HEAD`` comes with ``GET``)."""

    def __init__(self, path: str, endpoint: Endpoint, methods: Sequence[str] = ("GET",)) -> None:
        self.path = path
        self.endpoint = endpoint
        self.methods = {method.upper() for method in methods}
        if "GET" in self.methods:
            self.methods.add("HEAD")
        self._pattern = _compile(path, whole=True)

    def match(self, path: str) -> dict[str, str] | None:
        found = self._pattern.match(path)
        return None if found is None else found.groupdict()


class Mount:
    """``routes`` under the prefix ``path`` (their patterns are relative to it).

    The mount owns every path under its prefix: one its routes do not match is answered 404 (or
    405), whatever routes come after the mount.
    """

    def __init__(self, path: str, routes: Sequence[Route | Mount]) -> None:
        self.path = path.rstrip("/")
        self.routes = list(routes)
        self._pattern = _compile(self.path, whole=False)

    def match(self, path: str) -> tuple[str, dict[str, str]] | None:
        found = self._pattern.match(path)
        if found is None:
            return None
        rest = path[found.end():] or "/"
        return rest, found.groupdict()


class Router:
    """The ASGI application: the first route whose path and method match answers.

    A path that matches only with other methods gets 405 with ``Allow``; no match at all, 404.
    """

    def __init__(self, routes: Sequence[Route | Mount]) -> None:
        self.routes = list(routes)

    def resolve(self, method: str, path: str) -> tuple[Route | None, dict[str, str], set[str]]:
        """The route for ``method`` on ``path``, its path parameters, and the methods the path allows."""
        allowed: set[str] = set()
        found = self._resolve(self.routes, method, path, {}, allowed)
        if found is None:
            return None, {}, allowed
        return found[0], found[1], allowed

    def _resolve(self, routes: Sequence[Route | Mount], method: str, path: str, params: dict[str, str],
                 allowed: set[str]) -> tuple[Route, dict[str, str]] | None:  # fmt: skip
        for route in routes:
            if isinstance(route, Mount):
                mounted = route.match(path)
                if mounted is not None:
                    # A mount owns its prefix: what its routes do not answer is not found, even
                    # if a later route (the portal's catch-all) would match the path.
                    rest, own = mounted
                    return self._resolve(route.routes, method, rest, {**params, **own}, allowed)
                continue
            matched = route.match(path)
            if matched is None:
                continue
            if method in route.methods:
                return route, {**params, **matched}
            allowed |= route.methods
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        route, params, allowed = self.resolve(scope["method"], scope["path"])
        if route is None:
            if allowed:
                response = PlainTextResponse("Method Not Allowed", 405, {"Allow": ", ".join(sorted(allowed))})
            else:
                response = PlainTextResponse("Not Found", 404)
            await response(scope, receive, send)
            return
        response = await route.endpoint(Request(scope, receive, params))
        await response(scope, receive, send)


async def _lifespan(receive: Receive, send: Send) -> None:
    # Nothing to set up or tear down; answering keeps ASGI hosts that ask (test clients) happy.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
