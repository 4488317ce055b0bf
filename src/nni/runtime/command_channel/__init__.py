"""Command channels of NNI's Python API (``nni.runtime.command_channel``).

Our manager talks to its tuner in-process and to trials over plain HTTP (see
``docs/internals.md``); this package keeps NNI's client for a WebSocket command channel, which
code written against NNI (and NNI's own tests) import: :class:`.websocket.WsChannelClient`.
"""

from __future__ import annotations

__all__: list[str] = []
