"""Framing shared by the trial runner channels.

A command is its two-byte code, the byte length of its JSON payload in 14 decimal digits, the
payload, and a newline: ``GI00000000000010"command1"\\n``.
"""

from __future__ import annotations

import json
from typing import Any

from .commands import CommandType

__all__ = ['BaseChannel', 'CommandType', 'decode_command', 'encode_command']

_CODE_BYTES = 2
_LENGTH_DIGITS = 14


def encode_command(command: CommandType, data: Any) -> bytes:
    """One framed command; ``data`` is sent as JSON."""
    payload = json.dumps(data).encode('utf8')
    return command.value + b'%0*d' % (_LENGTH_DIGITS, len(payload)) + payload + b'\n'


def decode_command(buffer: bytes) -> tuple[tuple[CommandType, Any] | None, int]:
    """Decode the first complete command of ``buffer``.

    Returns
    -------
    tuple
        ``((command, data), bytes used)``, or ``(None, 0)`` when the buffer does not hold a
        whole command yet.

    Raises
    ------
    ValueError
        The buffer does not start with a valid frame.
    """
    header_size = _CODE_BYTES + _LENGTH_DIGITS
    if len(buffer) < header_size:
        return None, 0
    length = int(buffer[_CODE_BYTES:header_size])
    end = header_size + length
    if len(buffer) < end:
        return None, 0
    command = CommandType(bytes(buffer[:_CODE_BYTES]))
    data = json.loads(buffer[header_size:end].decode('utf8'))
    if buffer[end:end + 1] == b'\n':
        end += 1
    return (command, data), end


class BaseChannel:
    """A channel of framed commands; subclasses move the bytes (``_write`` / ``_read``)."""

    def __init__(self, args: Any) -> None:
        self.args = args
        self.node_id = getattr(args, 'node_id', None)
        self._pending = b''

    def open(self) -> None:
        """Prepare the channel (nothing by default)."""

    def close(self) -> None:
        """Release what the channel holds (nothing by default)."""

    def send(self, command: CommandType, data: Any) -> None:
        """Send one command with a JSON-able payload."""
        self._write(encode_command(command, data))

    def receive(self) -> tuple[CommandType, Any] | tuple[None, None]:
        """The next command received, or ``(None, None)`` when none is waiting."""
        self._pending += self._read()
        decoded, used = decode_command(self._pending)
        if decoded is None:
            return None, None
        self._pending = self._pending[used:]
        return decoded

    def _write(self, message: bytes) -> None:
        raise NotImplementedError

    def _read(self) -> bytes:
        raise NotImplementedError
