"""The manager's web toolkit (nni.manager.web), driven as an ASGI application in process."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from nni.manager.web import FileResponse, Mount, PlainTextResponse, Request, Response, Route, Router


def _call(app: Router, method: str, path: str, query: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None,
          body_chunks: list[bytes] | None = None) -> tuple[int, dict[bytes, bytes], bytes, int]:  # fmt: skip
    """Run one request; return status, headers, body and the number of body messages sent."""
    chunks = list(body_chunks or [b""])
    scope = {"type": "http", "method": method, "path": path, "query_string": query,
             "headers": headers or [], "client": ("127.0.0.1", 5000)}  # fmt: skip
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        body = chunks.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(chunks)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = sent[0]
    bodies = [message for message in sent[1:] if message["type"] == "http.response.body"]
    return start["status"], dict(start["headers"]), b"".join(m["body"] for m in bodies), len(bodies)


async def _echo(request: Request) -> Response:
    data = {"method": request.method, "params": request.path_params, "query": dict(request.query_params),
            "agent": request.headers.get("USER-AGENT"), "body": (await request.body()).decode(),
            "client": request.client.host if request.client else None}  # fmt: skip
    return Response(json.dumps(data), media_type="application/json")


def test_path_parameters_and_mounts() -> None:
    app = Router([
        Mount("/api/{version}", routes=[Route("/items/{item_id}", _echo, methods=["GET", "PUT"])]),
        Route("/files/{rest:path}", _echo),
    ])  # fmt: skip
    status, headers, body, _ = _call(app, "GET", "/api/v1/items/42", query=b"a=1&b=&a=3",
                                     headers=[(b"user-agent", b"probe")])  # fmt: skip
    assert status == 200 and headers[b"content-type"] == b"application/json"
    data = json.loads(body)
    assert data["params"] == {"version": "v1", "item_id": "42"}
    assert data["query"] == {"a": "3", "b": ""}
    assert data["agent"] == "probe" and data["client"] == "127.0.0.1"
    assert json.loads(_call(app, "GET", "/files/a/b/c.txt")[2])["params"] == {"rest": "a/b/c.txt"}
    # A parameter is one segment: nothing matches a nested id.
    assert _call(app, "GET", "/api/v1/items/4/2")[0] == 404


def test_a_mount_owns_its_prefix() -> None:
    # The catch-all after the mount must not answer a path under the mount's prefix (an API path
    # such as /api/trial-file/../../db would otherwise get the portal's page).
    app = Router([Mount("/api", routes=[Route("/files/{name}", _echo)]), Route("/{rest:path}", _echo)])
    assert _call(app, "GET", "/api/files/../../db")[0] == 404
    assert _call(app, "GET", "/apidocs")[0] == 200  # a prefix is whole path segments
    assert _call(app, "GET", "/other/page")[0] == 200


def test_body_is_read_across_messages() -> None:
    app = Router([Route("/x", _echo, methods=["POST"])])
    status, _, body, _ = _call(app, "POST", "/x", body_chunks=[b'{"a":', b" 1}"])
    assert status == 200 and json.loads(body)["body"] == '{"a": 1}'


def test_unknown_path_is_404_and_wrong_method_is_405_with_allow() -> None:
    app = Router([Route("/x", _echo, methods=["GET"]), Route("/x", _echo, methods=["DELETE"])])
    status, _, body, _ = _call(app, "GET", "/nothing")
    assert (status, body) == (404, b"Not Found")
    status, headers, _, _ = _call(app, "POST", "/x")
    assert status == 405 and headers[b"allow"] == b"DELETE, GET, HEAD"
    assert _call(app, "DELETE", "/x")[0] == 200


def test_head_answers_a_get_route_without_body() -> None:
    app = Router([Route("/x", _echo)])
    status, headers, body, _ = _call(app, "HEAD", "/x")
    assert status == 200 and body == b"" and int(headers[b"content-length"]) > 0


def test_text_gets_a_charset_and_304_no_length() -> None:
    async def text(request: Request) -> Response:
        return PlainTextResponse("héllo")

    async def not_modified(request: Request) -> Response:
        return Response(status_code=304, headers={"ETag": '"v1"'})

    app = Router([Route("/t", text), Route("/n", not_modified)])
    status, headers, body, _ = _call(app, "GET", "/t")
    assert headers[b"content-type"] == b"text/plain; charset=utf-8" and body == "héllo".encode()
    assert headers[b"content-length"] == str(len(body)).encode()
    status, headers, body, _ = _call(app, "GET", "/n")
    assert status == 304 and body == b"" and b"content-length" not in headers and headers[b"etag"] == b'"v1"'


def test_background_runs_after_the_answer_is_sent() -> None:
    events: list[str] = []

    async def stop(request: Request) -> Response:
        return Response(b"", background=lambda: events.append("background"))

    app = Router([Route("/stop", stop, methods=["DELETE"])])
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])
        events.append(message["type"])

    asyncio.run(app({"type": "http", "method": "DELETE", "path": "/stop", "headers": []}, receive, send))
    assert events == ["http.response.start", "http.response.body", "background"]

    async def later() -> None:
        events.append("awaited")

    async def stop_async(request: Request) -> Response:
        return Response(b"", background=later)

    events.clear()
    app = Router([Route("/stop", stop_async, methods=["DELETE"])])
    asyncio.run(app({"type": "http", "method": "DELETE", "path": "/stop", "headers": []}, receive, send))
    assert events == ["http.response.start", "http.response.body", "awaited"]


def test_file_response_streams_in_chunks(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    content = bytes(range(256)) * 1000  # 256 kB: several chunks
    path.write_bytes(content)

    async def serve(request: Request) -> Response:
        return FileResponse(path, media_type="text/plain")

    async def missing(request: Request) -> Response:
        return FileResponse(tmp_path / "gone.log")

    app = Router([Route("/f", serve), Route("/gone", missing)])
    status, headers, body, messages = _call(app, "GET", "/f")
    assert status == 200 and body == content and messages > 1
    assert headers[b"content-length"] == str(len(content)).encode()
    assert _call(app, "GET", "/gone")[0] == 404


def test_lifespan_is_acknowledged() -> None:
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    asyncio.run(Router([])({"type": "lifespan"}, receive, send))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
