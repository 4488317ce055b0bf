"""NNI's legacy pipe framing of dispatcher commands (``nni.runtime.tuner_command_channel.legacy``).

A command is written as its two-letter code, the UTF-8 length of its payload in 14 decimal
digits, then the payload. NNI 1.x dispatchers spoke it over file descriptors 3 and 4; NNI's unit
tests drive :class:`~nni.runtime.msg_dispatcher.MsgDispatcher` through it with in-memory buffers
(``_set_in_file`` / ``_set_out_file``). Our manager does not use it: its dispatcher runs in a
thread of the manager.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import IO, Any

from .command_type import CommandType

__all__ = ['CommandType', 'LegacyCommandChannel', 'send', 'receive', '_set_in_file', '_set_out_file', '_get_out_file']

_logger = logging.getLogger(__name__)

_HEADER_BYTES = 16  # 2 for the code, 14 for the length
_lock = threading.Lock()
_in_file: IO[bytes] | None = None
_out_file: IO[bytes] | None = None


def _open_pipes() -> None:
    """Open fds 3 and 4 as NNI's dispatcher process did, when a parent set them up for us."""
    global _in_file, _out_file
    if os.environ.get('NNI_PLATFORM') == 'unittest' or os.environ.get('NNI_LEGACY_PIPES') != '1':
        return  # only on request: fds 3 and 4 of an ordinary process belong to someone else
    try:
        _in_file = open(3, 'rb')  # noqa: SIM115 - lives as long as the process
        _out_file = open(4, 'wb')  # noqa: SIM115
    except OSError:
        _logger.debug('no legacy IPC pipes on fds 3/4')


_open_pipes()


def _set_in_file(in_file: IO[bytes]) -> None:
    """Read commands from ``in_file`` (tests)."""
    global _in_file
    _in_file = in_file


def _set_out_file(out_file: IO[bytes]) -> None:
    """Write commands to ``out_file`` (tests)."""
    global _out_file
    _out_file = out_file


def _get_out_file() -> IO[bytes] | None:
    return _out_file


def send(command: CommandType, data: str) -> None:
    """Write one command.

    Parameters
    ----------
    command
        The command.
    data
        Its payload (usually JSON text).
    """
    if _out_file is None:
        raise RuntimeError('legacy command channel: no output stream (set one with _set_out_file)')
    payload = data.encode('utf8')
    with _lock:
        _out_file.write(command.value.encode() + b'%014d' % len(payload) + payload)
        _out_file.flush()


def receive() -> tuple[CommandType, str] | tuple[None, None]:
    """Read one command; ``(None, None)`` at the end of the stream.

    Returns
    -------
    tuple
        ``(CommandType, payload)``.
    """
    if _in_file is None:
        return None, None
    header = _in_file.read(_HEADER_BYTES)
    if header is None or len(header) < _HEADER_BYTES:
        return None, None
    length = int(header[2:])
    payload = _in_file.read(length)
    return CommandType(header[:2].decode()), payload.decode('utf8')


class LegacyCommandChannel:
    """The channel object a dispatcher uses, over :func:`send` / :func:`receive`."""

    def connect(self) -> None:
        pass

    def disconnect(self) -> None:
        pass

    def _send(self, command: CommandType, data: str) -> None:
        send(command, data)

    def _receive(self) -> tuple[Any, Any]:
        return receive()
