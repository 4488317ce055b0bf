"""Dispatcher command channel of NNI's Python API (``nni.runtime.tuner_command_channel``).

:class:`CommandType` names the two-letter command codes; :class:`TunerCommandChannel` carries
them over a WebSocket (``code + payload`` per message) for a dispatcher running in its own
process, as NNI's did; :mod:`.legacy` is the older pipe framing. Our own manager runs its
dispatcher in a thread and uses none of them.
"""

from __future__ import annotations

from typing import Any

from .command_type import CommandType

__all__ = ['CommandType', 'TunerCommandChannel']


class TunerCommandChannel:
    """Dispatcher commands over a WebSocket (:class:`~nni.runtime.command_channel.websocket.WsChannelClient`).

    Parameters
    ----------
    url
        ``ws://...`` address of the manager's tuner endpoint.
    """

    def __init__(self, url: str) -> None:
        from nni.runtime.command_channel.websocket import WsChannelClient

        self._url = url
        self._client = WsChannelClient(url) if url else None

    def connect(self) -> None:
        if self._client is not None:
            self._client.connect()

    def disconnect(self) -> None:
        if self._client is not None:
            self._client.disconnect()

    def _send(self, command: CommandType, data: str) -> None:
        if self._client is None:
            raise RuntimeError('tuner command channel has no address')
        self._client.send_text(command.value + data)

    def _receive(self) -> tuple[Any, Any]:
        text = self._client.receive_text() if self._client is not None else None
        if text is None:
            return None, None
        return CommandType(text[:2]), text[2:]
