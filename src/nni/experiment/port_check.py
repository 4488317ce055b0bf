"""
A busy port explained: who holds it and what to do, for ``Experiment.run(port)`` as for ``nnictl create``.

The message starts with ``Port N is not idle`` (NNI's words, which scripts may match) and goes on with the
holder when it can be told (an experiment of the manifest, else the process listening on it, found through
``/proc`` on Linux) and the fix: another port that is free now, in both the Python and the nnictl spelling.
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

__all__ = ['PortBusyError', 'port_busy', 'port_busy_message', 'port_holder']


class PortBusyError(RuntimeError):
    """The port asked for is in use; the message names the holder and the fix."""

    def __init__(self, port: int, message: str) -> None:
        super().__init__(message)
        self.port = port


def port_busy(port: int) -> bool:
    """Whether something accepts connections on ``127.0.0.1:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(('127.0.0.1', port)) == 0


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ('/proc/net/tcp', '/proc/net/tcp6'):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[3] != '0A':  # 0A: LISTEN
                continue
            with contextlib.suppress(ValueError, IndexError):
                if int(fields[1].rsplit(':', 1)[1], 16) == port:
                    inodes.add(fields[9])
    return inodes


def _process_with_socket(inodes: set[str]) -> tuple[int, str] | None:
    targets = {f'socket:[{inode}]' for inode in inodes}
    for entry in os.scandir('/proc'):
        if not entry.name.isdigit():
            continue
        try:
            fds = os.scandir(f'/proc/{entry.name}/fd')
        except OSError:
            continue  # another user's process: not ours to look into
        with fds:
            for fd in fds:
                try:
                    if os.readlink(fd.path) in targets:
                        cmdline = Path(f'/proc/{entry.name}/cmdline').read_bytes()
                        return int(entry.name), cmdline.replace(b'\0', b' ').decode(errors='replace').strip()
                except OSError:
                    continue
    return None


def port_holder(port: int) -> str | None:
    """
    Who listens on ``port``: ``'experiment <id> (stop it: nnictl stop <id>)'``, ``'process <pid> (<command>)'``,
    or ``None`` when it cannot be told.
    """
    with contextlib.suppress(Exception):  # best effort: the message is still clear without a holder
        from .manifest import Experiments

        for exp_id, entry in Experiments().get_all_experiments().items():
            if isinstance(entry, dict) and entry.get('port') == port and entry.get('status') not in ('STOPPED',):
                return f'experiment {exp_id} (stop it: nnictl stop {exp_id})'
    with contextlib.suppress(Exception):
        inodes = _listening_inodes(port)
        found = _process_with_socket(inodes) if inodes else None
        if found is not None:
            pid, command = found
            if len(command) > 80:
                command = command[:77] + '...'
            return f'process {pid} ({command})'
    return None


def _free_port_near(port: int) -> int | None:
    for candidate in range(port + 1, min(port + 50, 65536)):
        if not port_busy(candidate):
            return candidate
    return None


def port_busy_message(port: int, detail: str | None = None) -> str:
    """
    ``Port N is not idle``, then who holds it and how to pick another port.

    Parameters
    ----------
    port
        The busy port.
    detail
        A note of the caller's (kept in parentheses after the first words).
    """
    text = f'Port {port} is not idle' + (f' ({detail})' if detail else '')
    holder = port_holder(port)
    text += f': it is used by {holder}.' if holder else ': another program uses it.'
    other = _free_port_near(port) or port + 1
    text += (f' Use another port: experiment.run({other}) in Python, or nnictl create --port {other}.')
    return text
