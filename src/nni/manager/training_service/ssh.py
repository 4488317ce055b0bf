"""One multiplexed SSH connection to one machine, for training services that reach machines over SSH.

Built on asyncssh (optional extra ``nni[remote]``), imported lazily so that the manager's start
does not pay for it unless a config asks for SSH. Every command and file transfer of a machine
shares one connection (SSH channels), so polling many trials costs one round trip, not one
login.

Example
-------
>>> async def hostname(machine: dict) -> str:  # doctest: +SKIP
...     async with SshConnection.from_config(machine) as ssh:
...         status, out, err = await ssh.run('hostname', check=True)
...         return out.strip()
"""

from __future__ import annotations

import asyncio
import logging
import os
import posixpath
import shlex
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

__all__ = ['SshConnection', 'SshError', 'SshMachine', 'SshShell', 'import_asyncssh']

#: seconds allowed for the TCP connect + key exchange + authentication of one login
CONNECT_TIMEOUT = 15.0
#: seconds between SSH keepalives; a peer that misses 3 of them is taken as gone
KEEPALIVE_INTERVAL = 5.0


class SshError(RuntimeError):
    """An SSH login, command or transfer failed; the message names the machine."""


def import_asyncssh() -> Any:
    """asyncssh, or an :class:`SshError` telling how to install it."""
    try:
        import asyncssh
    except ImportError as error:
        raise SshError('SSH training services need the asyncssh package: pip install nni[remote]') from error
    if not _quieted:
        # asyncssh logs every channel at INFO: that would drown the manager's log
        logging.getLogger('asyncssh').setLevel(logging.WARNING)
        _quieted.append(True)
    return asyncssh


_quieted: list[bool] = []


class SshMachine:
    """Where and how to log in: the SSH fields of a remote machine config.

    Parameters
    ----------
    host, port, user
        The machine's address, SSH port and login name.
    password
        Log in with this password (wins over the key, as in the config classes).
    ssh_key_file
        Private key file used when no password is given.
    ssh_passphrase
        Passphrase of that key.
    known_hosts
        A known_hosts file to check the host key against; ``None`` (the default, as NNI) accepts
        any host key.
    label
        How messages name the machine, e.g. ``trainingService.machineList[0] (alice@10.0.0.2:22)``.
    """

    def __init__(self, host: str, port: int = 22, user: str | None = None, *, password: str | None = None,
                 ssh_key_file: str | None = None, ssh_passphrase: str | None = None,
                 known_hosts: str | None = None, label: str | None = None) -> None:
        self.host = host
        self.port = int(port)
        self.user = user or os.environ.get('USER') or 'root'
        self.password = password
        self.ssh_key_file = ssh_key_file
        self.ssh_passphrase = ssh_passphrase
        self.known_hosts = known_hosts
        self.label = label or self.address

    @property
    def address(self) -> str:
        """``user@host:port``."""
        return f'{self.user}@{self.host}:{self.port}'

    @classmethod
    def from_config(cls, machine: dict[str, Any], label: str | None = None) -> SshMachine:
        """Build from a camelCase machine config (``host``, ``port``, ``user``, ``password``,
        ``sshKeyFile``, ``sshPassphrase``; optional ``knownHosts``)."""
        key = machine.get('sshKeyFile')
        return cls(str(machine['host']), int(machine.get('port') or 22), machine.get('user'),
                   password=machine.get('password'),
                   ssh_key_file=None if key is None else os.path.expanduser(str(key)),
                   ssh_passphrase=machine.get('sshPassphrase'), known_hosts=machine.get('knownHosts'),
                   label=label)


class SshConnection:
    """One SSH connection to one machine; commands and transfers are channels on it.

    Parameters
    ----------
    machine
        An :class:`SshMachine`, or a camelCase machine config dict.
    """

    def __init__(self, machine: SshMachine | dict[str, Any]) -> None:
        self.machine = machine if isinstance(machine, SshMachine) else SshMachine.from_config(machine)
        self._conn: Any = None
        self._sftp: Any = None
        self._lock = asyncio.Lock()

    @classmethod
    def from_config(cls, machine: dict[str, Any], label: str | None = None) -> SshConnection:
        return cls(SshMachine.from_config(machine, label))

    async def __aenter__(self) -> SshConnection:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        """Whether the connection is open (it may still turn out dead at the next command)."""
        conn = self._conn
        return conn is not None and not conn.is_closed()

    async def connect(self, timeout: float = CONNECT_TIMEOUT) -> None:
        """Log in; raise :class:`SshError` saying which machine and why not."""
        asyncssh = import_asyncssh()
        async with self._lock:
            if self.connected:
                return
            await self._drop()
            machine = self.machine
            options: dict[str, Any] = {
                'host': machine.host, 'port': machine.port, 'username': machine.user,
                'known_hosts': machine.known_hosts, 'keepalive_interval': KEEPALIVE_INTERVAL,
                'keepalive_count_max': 3, 'agent_path': None,
            }
            if machine.password is not None:
                options.update(password=machine.password, client_keys=None,
                               preferred_auth=['password', 'keyboard-interactive'])
            elif machine.ssh_key_file:
                options.update(client_keys=[machine.ssh_key_file], passphrase=machine.ssh_passphrase,
                               preferred_auth=['publickey'])
            try:
                self._conn = await asyncio.wait_for(asyncssh.connect(**options), timeout)
            except asyncio.TimeoutError:
                raise SshError(f'{machine.label}: cannot connect: no answer within {timeout:.0f} s') from None
            except asyncssh.PermissionDenied as error:
                how = 'password' if machine.password is not None else f'key {machine.ssh_key_file}'
                raise SshError(f'{machine.label}: login refused for user {machine.user!r} with {how} '
                               f'({error.reason})') from error
            except asyncssh.KeyImportError as error:
                raise SshError(f'{machine.label}: cannot read private key {machine.ssh_key_file}: {error}') from error
            except (OSError, asyncssh.Error) as error:
                raise SshError(f'{machine.label}: cannot connect: {_reason(error)}') from error

    async def _drop(self) -> None:
        conn, self._conn, self._sftp = self._conn, None, None
        if conn is not None:
            conn.close()
            try:
                await asyncio.wait_for(conn.wait_closed(), 5)
            except (asyncio.TimeoutError, OSError, Exception):  # noqa: BLE001 - closing a dead link
                pass

    def _require(self) -> Any:
        if not self.connected:
            raise SshError(f'{self.machine.label}: not connected')
        return self._conn

    async def run(self, command: str, *, check: bool = False, timeout: float | None = None,
                  input: str | bytes | None = None, binary: bool = False) -> tuple[int, Any, Any]:
        """Run ``command`` with the remote user's shell; return ``(exit_status, stdout, stderr)``.

        Output is text unless ``binary``. With ``check`` a non-zero exit raises :class:`SshError`.
        A lost connection or ``timeout`` raises :class:`SshError` too.
        """
        asyncssh = import_asyncssh()
        conn = self._require()
        # without input the remote stdin must still see EOF, or a command that reads it waits forever
        stdin: dict[str, Any] = {'input': input} if input else {'stdin': asyncssh.DEVNULL}
        try:
            result = await asyncio.wait_for(
                conn.run(command, check=False, encoding=None if binary else 'utf-8', errors='replace', **stdin),
                timeout)
        except asyncio.TimeoutError:
            raise SshError(f'{self.machine.label}: command timed out after {timeout} s: '
                           f'{_short(command)}') from None
        except (OSError, asyncssh.Error) as error:
            raise SshError(f'{self.machine.label}: connection lost: {_reason(error)}') from error
        status = result.exit_status if result.exit_status is not None else -1
        if check and status != 0:
            stderr = result.stderr.decode(errors='replace') if binary else result.stderr
            raise SshError(f'{self.machine.label}: command failed with exit status {status}: '
                           f'{_short(command)}: {(stderr or "").strip()[-500:]}')
        return status, result.stdout, result.stderr

    async def _sftp_client(self) -> Any:
        if self._sftp is None:
            self._sftp = await self._require().start_sftp_client()
        return self._sftp

    async def put_file(self, local: str | os.PathLike[str], remote: str) -> None:
        """Copy one local file to the path ``remote`` (its folder must exist)."""
        await self._transfer(lambda sftp: sftp.put(os.fspath(local), remote), f'upload {local}')

    async def write_file(self, remote: str, data: bytes | str) -> None:
        """Write ``data`` into the remote file ``remote`` (its folder must exist)."""
        payload = data.encode() if isinstance(data, str) else data

        async def write(sftp: Any) -> None:
            async with sftp.open(remote, 'wb') as handle:
                await handle.write(payload)

        await self._transfer(write, f'write {remote}')

    async def read_file(self, remote: str) -> bytes:
        """The contents of the remote file ``remote``."""
        async def read(sftp: Any) -> bytes:
            async with sftp.open(remote, 'rb') as handle:
                return await handle.read()

        return await self._transfer(read, f'read {remote}')

    async def put_tree(self, local_dir: str | os.PathLike[str], remote_dir: str,
                       ignore: Callable[[str], bool] | None = None) -> int:
        """Copy the folder ``local_dir`` into ``remote_dir`` (created); return the file count.

        ``ignore(relative_posix_path)`` leaves out a file or a whole folder. The files go as one
        tar stream over one command, which is much faster than a file-by-file SFTP copy.
        """
        import io
        import tarfile

        root = Path(local_dir)
        buffer = io.BytesIO()
        count = 0
        with tarfile.open(fileobj=buffer, mode='w') as tar:
            for relative in _walk(root, ignore):
                tar.add(root / relative, arcname=relative, recursive=False)
                count += 1
        quoted = shlex.quote(remote_dir)
        await self.run(f'mkdir -p {quoted} && tar -x -m --no-same-owner -C {quoted} -f -', check=True, input=buffer.getvalue(),
                       binary=True)
        return count

    async def get_tree(self, remote_dir: str, local_dir: str | os.PathLike[str], timeout: float | None = 60) -> None:
        """Copy the remote folder ``remote_dir`` into ``local_dir`` (one tar stream)."""
        import io
        import tarfile

        _, data, _ = await self.run(f'tar -c -C {shlex.quote(remote_dir)} -f - .', check=True, binary=True,
                                    timeout=timeout)
        target = Path(local_dir)
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(data), mode='r') as tar:
            tar.extractall(target, filter='data')

    async def _transfer(self, action: Callable[[Any], Any], what: str) -> Any:
        asyncssh = import_asyncssh()
        try:
            sftp = await self._sftp_client()
            return await action(sftp)
        except (OSError, asyncssh.Error) as error:
            raise SshError(f'{self.machine.label}: cannot {what}: {_reason(error)}') from error

    async def close(self) -> None:
        """Close the connection (idempotent)."""
        async with self._lock:
            await self._drop()


class SshShell:
    """A long-lived ``bash`` on the machine that runs short scripts one after another.

    An SSH command starts the user's login shell, which reads ``~/.bashrc`` (pyenv, conda: often
    0.1-0.5 s). This shell is started once per connection with ``--norc`` and then runs each script
    in a subshell, so frequent small commands (polls, launches, kills) cost one round trip only.
    Scripts get their arguments as ``$1...`` and their input on stdin; stderr is merged into the
    output. Text only: binary data goes through base64.

    Parameters
    ----------
    connection
        The machine's :class:`SshConnection`; the shell is (re)started on it when needed.
    """

    def __init__(self, connection: SshConnection) -> None:
        self.connection = connection
        self._process: Any = None
        self._lock = asyncio.Lock()

    async def _ensure(self) -> Any:
        process = self._process
        if process is not None and not process.stdout.at_eof() and self.connection.connected:
            return process
        await self._discard()
        conn = self.connection._require()
        try:
            self._process = await conn.create_process('exec bash --noprofile --norc', encoding='utf-8',
                                                      errors='replace')
        except Exception as error:  # noqa: BLE001 - asyncssh.Error or OSError: the link is gone
            raise SshError(f'{self.connection.machine.label}: cannot start a shell: {_reason(error)}') from error
        # whatever the login shell printed before `exec` (a chatty ~/.bashrc) is skipped up to a marker
        import secrets

        ready = 'NNI_READY_' + secrets.token_hex(8)
        self._process.stdin.write(f'exec 2>&1\necho {ready}\n')
        try:
            await asyncio.wait_for(self._process.stdout.readuntil(ready + '\n'), CONNECT_TIMEOUT)
        except Exception as error:  # noqa: BLE001 - asyncssh.Error, OSError, IncompleteRead, timeout
            await self._discard()
            raise SshError(f'{self.connection.machine.label}: the shell did not start: {_reason(error)}') from error
        return self._process

    async def _discard(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            try:
                process.close()
            except Exception:  # noqa: BLE001 - closing a dead channel
                pass

    async def run(self, script: str, *args: str, input: str | None = None,
                  timeout: float | None = None) -> tuple[int, str]:
        """Run ``script`` (bash) with ``args``; return ``(exit_status, output)``.

        Raises :class:`SshError` when the connection is lost or ``timeout`` passes (the shell is
        then dropped and a fresh one starts with the next call).
        """
        import secrets

        marker = 'NNI_' + secrets.token_hex(8)
        quoted_args = ' '.join(shlex.quote(arg) for arg in args)
        text = f'(\nset -- {quoted_args}\n{script}\n)'
        if input is None:
            text += ' < /dev/null\n'
        else:
            body = input if input.endswith('\n') or not input else input + '\n'
            text += f" <<'{marker}_IN'\n{body}{marker}_IN\n"
        text += f"printf '\\n%s %d\\n' {marker}_END $?\n"
        async with self._lock:
            try:
                process = await self._ensure()
                process.stdin.write(text)
                output = await asyncio.wait_for(process.stdout.readuntil(f'{marker}_END '), timeout)
                status_line = await asyncio.wait_for(process.stdout.readline(), timeout)
            except asyncio.TimeoutError:
                await self._discard()
                raise SshError(f'{self.connection.machine.label}: command timed out after {timeout} s: '
                               f'{_short(script)}') from None
            except SshError:
                raise
            except Exception as error:  # noqa: BLE001 - asyncssh.Error, OSError, IncompleteRead: link lost
                await self._discard()
                raise SshError(f'{self.connection.machine.label}: connection lost: {_reason(error)}') from error
        output = output[:-len(f'{marker}_END ')]
        if output.endswith('\n'):
            output = output[:-1]
        try:
            status = int(status_line.strip())
        except ValueError:
            status = -1
        return status, output

    async def close(self) -> None:
        """Stop the shell (the connection stays open)."""
        async with self._lock:
            await self._discard()


def _walk(root: Path, ignore: Callable[[str], bool] | None) -> Iterable[str]:
    """Relative posix paths under ``root`` (folders before their contents), minus ignored ones."""
    for folder, dirs, files in os.walk(root):
        relative_folder = os.path.relpath(folder, root)
        prefix = '' if relative_folder == '.' else relative_folder.replace(os.sep, '/')
        kept = []
        for name in sorted(dirs):
            relative = posixpath.join(prefix, name) if prefix else name
            if ignore is None or not ignore(relative + '/'):
                kept.append(name)
                yield relative
        dirs[:] = kept
        for name in sorted(files):
            relative = posixpath.join(prefix, name) if prefix else name
            if ignore is None or not ignore(relative):
                yield relative


def _short(command: str) -> str:
    line = command.strip().splitlines()[0] if command.strip() else ''
    return line if len(line) <= 120 else line[:117] + '...'


def _reason(error: BaseException) -> str:
    return str(getattr(error, 'reason', '') or error) or type(error).__name__
