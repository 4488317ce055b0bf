"""WsChannelClient and TunerCommandChannel against a real WebSocket server (the websockets package)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator

import pytest

websockets = pytest.importorskip('websockets')

from nni.runtime.command_channel.websocket import WsChannelClient  # noqa: E402
from nni.runtime.tuner_command_channel import CommandType, TunerCommandChannel  # noqa: E402


class EchoServer:
    """Echoes every message back, upper-cased when it is plain text (not JSON)."""

    def __init__(self) -> None:
        self.port = 0
        self.received: list[str] = []
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _handler(self, ws) -> None:  # type: ignore[no-untyped-def]
        async for message in ws:
            self.received.append(message)
            try:
                json.loads(message)
                await ws.send(message)
            except ValueError:
                await ws.send(message.upper())

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def main() -> None:
            async with websockets.serve(self._handler, '127.0.0.1', 0) as server:
                self.port = server.sockets[0].getsockname()[1]
                self._stop = asyncio.Event()
                self._ready.set()
                await self._stop.wait()

        self._loop.run_until_complete(main())

    def start(self) -> None:
        self._thread.start()
        assert self._ready.wait(10)

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


@pytest.fixture
def server() -> Iterator[EchoServer]:
    echo = EchoServer()
    echo.start()
    yield echo
    echo.stop()


def test_commands_go_out_as_json_and_come_back(server: EchoServer) -> None:
    client = WsChannelClient(f'ws://127.0.0.1:{server.port}')
    client.connect()
    client.send({'type': 'metric', 'value': '你好'})
    assert client.receive() == {'type': 'metric', 'value': '你好'}
    assert json.loads(server.received[0]) == {'type': 'metric', 'value': '你好'}
    client.disconnect()
    assert client.receive() is None  # closed: nothing more to read
    client.disconnect()  # twice is fine


def test_send_before_connect_says_so() -> None:
    with pytest.raises(RuntimeError, match='not connected'):
        WsChannelClient('ws://127.0.0.1:1').send({'type': 'x'})


def test_tuner_channel_frames_code_and_payload(server: EchoServer) -> None:
    channel = TunerCommandChannel(f'ws://127.0.0.1:{server.port}')
    channel.connect()
    channel._send(CommandType.NewTrialJob, 'tr')
    # the echo comes back upper-cased: code 'TR', payload 'TR'
    assert channel._receive() == (CommandType.NewTrialJob, 'TR')
    assert server.received == ['TRtr']
    channel.disconnect()
    assert channel._receive() == (None, None)
