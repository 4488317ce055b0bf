"""Where the Slurm service runs Slurm's commands and writes trial files.

:class:`LocalSlurmShell`: the manager runs on a machine of the cluster (``sbatch`` works here, the
shared directory is mounted here). :class:`LoginHostSlurmShell`: the manager runs outside the
cluster and reaches its login host over SSH (one multiplexed connection, see :mod:`.ssh`).
"""

from __future__ import annotations

import abc
import asyncio
import io
import os
import shlex
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

#: seconds a Slurm command may take before it counts as failed (a busy controller can be slow)
COMMAND_TIMEOUT = 60.0
#: the files of a trial's folder that a manager outside the cluster copies back when it ends
TRIAL_RESULT_FILES = ('trial.stdout', 'trial.stderr', '.nni')


class SlurmShell(abc.ABC):
    """Runs commands where Slurm's client works and handles files where trials run."""

    #: how messages name the place (``this machine``, ``login host alice@login:22``)
    label: str = 'this machine'
    #: whether trial folders are on another machine (and copied back when trials end)
    remote: bool = False

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Connect (login host)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Disconnect (login host)."""

    @abc.abstractmethod
    async def run(self, argv: list[str], timeout: float = COMMAND_TIMEOUT) -> tuple[int, str, str]:
        """Run one command; return ``(exit status, stdout, stderr)``; 127 when it is not installed."""

    @abc.abstractmethod
    async def missing_commands(self, names: list[str]) -> list[str]:
        """Those of ``names`` that are not on the ``PATH``."""

    @abc.abstractmethod
    async def write_trial_files(self, trial_dir: str, files: dict[str, bytes]) -> None:
        """Create ``trial_dir`` (and its ``.nni``) and write ``files`` (relative name -> content) there."""

    async def read_exit_code_text(self, trial_dir: str) -> str | None:
        """The text of the exit code file, when it can be read cheaply (None: not there, or remote)."""
        return None

    async def fetch_trial_files(self, trial_dir: str, local_dir: Path) -> None:  # noqa: B027 - local: nothing to copy
        """Copy the trial's output and ``.nni`` folder from ``trial_dir`` to ``local_dir`` (remote only)."""

    async def upload_code(self, local_dir: Path, remote_dir: str) -> int:
        """Copy the trial code to ``remote_dir`` (remote only); return the file count."""
        return 0


class LocalSlurmShell(SlurmShell):
    """Slurm's client and the shared directory are on this machine."""

    label = 'this machine'
    remote = False

    async def run(self, argv: list[str], timeout: float = COMMAND_TIMEOUT) -> tuple[int, str, str]:
        try:
            process = await asyncio.create_subprocess_exec(
                *argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except FileNotFoundError:
            return 127, '', f'{argv[0]}: command not found'
        except OSError as error:
            return 126, '', f'{argv[0]}: {error}'
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()
            return 124, '', f'{argv[0]} did not answer within {timeout:.0f} s'
        return (process.returncode if process.returncode is not None else -1,
                stdout.decode(errors='replace'), stderr.decode(errors='replace'))

    async def missing_commands(self, names: list[str]) -> list[str]:
        return [name for name in names if shutil.which(name) is None]

    async def write_trial_files(self, trial_dir: str, files: dict[str, bytes]) -> None:
        folder = Path(trial_dir)
        (folder / '.nni').mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            path = folder / name
            # 0600: the batch script holds the trial token
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, 'wb') as handle:
                handle.write(data)

    async def read_exit_code_text(self, trial_dir: str) -> str | None:
        from .base import EXIT_CODE_FILE

        try:
            with open(os.path.join(trial_dir, EXIT_CODE_FILE), encoding='ascii') as handle:
                return handle.read()
        except (OSError, UnicodeDecodeError):
            return None


class LoginHostSlurmShell(SlurmShell):
    """Slurm's client runs on a login host reached over SSH; trial folders live on the cluster.

    Parameters
    ----------
    login_host
        The camelCase ``loginHost`` config (``host``, ``port``, ``user``, ``password``,
        ``sshKeyFile``, ``sshPassphrase``).
    """

    remote = True

    def __init__(self, login_host: dict[str, Any]) -> None:
        from .ssh import SshConnection

        self._ssh = SshConnection.from_config(login_host, label=f'trainingService.loginHost '
                                                               f'({login_host.get("user")}@{login_host.get("host")}:'
                                                               f'{login_host.get("port") or 22})')
        self.label = self._ssh.machine.label

    async def open(self) -> None:
        await self._ssh.connect()

    async def close(self) -> None:
        await self._ssh.close()

    async def run(self, argv: list[str], timeout: float = COMMAND_TIMEOUT) -> tuple[int, str, str]:
        from .ssh import SshError

        command = ' '.join(shlex.quote(part) for part in argv)
        try:
            if not self._ssh.connected:
                await self._ssh.connect()
            status, stdout, stderr = await self._ssh.run(command, timeout=timeout)
        except SshError as error:
            return 255, '', str(error)
        return status, stdout or '', stderr or ''

    async def missing_commands(self, names: list[str]) -> list[str]:
        missing = []
        for name in names:
            status, _, _ = await self.run(['sh', '-c', f'command -v {shlex.quote(name)}'])
            if status != 0:
                missing.append(name)
        return missing

    async def write_trial_files(self, trial_dir: str, files: dict[str, bytes]) -> None:
        # one tar stream through one command: the folder and every file in one round trip
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode='w') as tar:
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mode = 0o600
                tar.addfile(info, io.BytesIO(data))
        quoted = shlex.quote(trial_dir)
        if not self._ssh.connected:
            await self._ssh.connect()
        await self._ssh.run(f'mkdir -p {quoted}/.nni && tar -x -m --no-same-owner -C {quoted} -f -', check=True,
                            input=buffer.getvalue(), binary=True, timeout=COMMAND_TIMEOUT)

    async def fetch_trial_files(self, trial_dir: str, local_dir: Path) -> None:
        names = ' '.join(TRIAL_RESULT_FILES)
        command = f'cd {shlex.quote(trial_dir)} && tar -c -f - --ignore-failed-read {names} 2>/dev/null; true'
        if not self._ssh.connected:
            await self._ssh.connect()
        _, data, _ = await self._ssh.run(command, binary=True, timeout=COMMAND_TIMEOUT)
        if not data:
            return
        local_dir.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(data), mode='r') as tar:
            tar.extractall(local_dir, filter='data')

    async def upload_code(self, local_dir: Path, remote_dir: str) -> int:
        if not self._ssh.connected:
            await self._ssh.connect()
        return await self._ssh.put_tree(local_dir, remote_dir)


__all__ = ['COMMAND_TIMEOUT', 'LocalSlurmShell', 'LoginHostSlurmShell', 'SlurmShell']
