"""The trial runner's file channel: commands to the manager are appended to
``commands/runner_commands[_<node>].txt``; commands from it are read from ``commands/manager_commands.txt``.
"""

from __future__ import annotations

import os
from typing import IO, Any

from .base_channel import BaseChannel, CommandType

__all__ = ['FileChannel', 'CommandType', 'command_path', 'runner_commands_file_name_prefix',
           'manager_commands_file_name']

command_path = './commands'
runner_commands_file_name_prefix = 'runner_commands'
manager_commands_file_name = 'manager_commands.txt'


class FileChannel(BaseChannel):
    """Framed commands through two files in :data:`command_path`.

    Parameters
    ----------
    args
        Needs ``node_id`` (``None`` for a single node; else the runner file gets the node's suffix).
    """

    def __init__(self, args: Any) -> None:
        super().__init__(args)
        self._out: IO[bytes] | None = None
        self._in: IO[bytes] | None = None

    def _runner_file(self) -> str:
        suffix = '' if self.node_id is None else f'_{self.node_id}'
        return os.path.join(command_path, f'{runner_commands_file_name_prefix}{suffix}.txt')

    def _write(self, message: bytes) -> None:
        if self._out is None:
            os.makedirs(command_path, exist_ok=True)
            self._out = open(self._runner_file(), 'ab')  # noqa: SIM115 - kept open until close()
        self._out.write(message)
        self._out.flush()

    def _read(self) -> bytes:
        if self._in is None:
            path = os.path.join(command_path, manager_commands_file_name)
            if not os.path.exists(path):
                return b''
            self._in = open(path, 'rb')  # noqa: SIM115 - kept open until close()
        return self._in.read() or b''

    def close(self) -> None:
        for handle in (self._out, self._in):
            if handle is not None:
                handle.close()
        self._out = self._in = None
