"""A blocking WebSocket client that sends and receives JSON commands (NNI's ``WsChannelClient``).

It needs the ``websockets`` package (``pip install websockets``, part of our ``dev`` extra); it is
imported when a channel connects, so importing this module costs nothing.
"""

from __future__ import annotations

import json
import logging
from typing import Any

__all__ = ['WsChannelClient']

_logger = logging.getLogger(__name__)


class WsChannelClient:
    """One WebSocket connection carrying JSON commands, one text message each.

    Parameters
    ----------
    url
        ``ws://host:port/path``.
    """

    def __init__(self, url: str) -> None:
        self._url = url
        self._connection: Any = None

    def connect(self) -> None:
        """Open the connection (blocks until the server accepted it).

        Raises
        ------
        ImportError
            ``websockets`` is not installed.
        OSError
            The server cannot be reached.
        """
        try:
            from websockets.sync.client import connect
        except ImportError as error:
            raise ImportError('WsChannelClient needs the websockets package (>= 11): pip install websockets') from error
        connection = connect(self._url, max_size=None)
        # entered as a context manager, which recent websockets versions expect; left in disconnect()
        self._connection = connection.__enter__()
        _logger.debug('command channel connected to %s', self._url)

    def disconnect(self) -> None:
        """Close the connection; a closed or never opened channel is left as it is."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.__exit__(None, None, None)

    def send(self, command: Any) -> None:
        """Send one command (any JSON value, usually a dict with a ``type``)."""
        self.send_text(json.dumps(command, ensure_ascii=False))

    def receive(self) -> Any:
        """Wait for the next command; ``None`` once the server closed the connection."""
        text = self.receive_text()
        return None if text is None else json.loads(text)

    def send_text(self, text: str) -> None:
        """Send one text message as it is."""
        if self._connection is None:
            raise RuntimeError(f'command channel to {self._url} is not connected')
        self._connection.send(text)

    def receive_text(self) -> str | None:
        """Wait for the next text message; ``None`` once the server closed the connection."""
        if self._connection is None:
            return None
        from websockets.exceptions import ConnectionClosed

        try:
            message = self._connection.recv()
        except ConnectionClosed:
            return None
        return message if isinstance(message, str) else message.decode('utf8')
