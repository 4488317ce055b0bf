"""NNI's ``nni.tools.nnictl.command_utils``: kill a process and wait for it, read a log file, pip."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from .common_utils import print_error, print_warning

__all__ = ['check_output_command', 'kill_command', 'install_package_command', 'install_requirements_command',
           'call_pip_install', 'call_pip_uninstall']

_POLL_SECONDS = 0.05


def check_output_command(file_path: str, head: int | None = None, tail: int | None = None) -> str:
    """Return a file's text, or its first ``head`` / last ``tail`` lines; exit 1 if it is missing."""
    if not os.path.exists(file_path):
        print_error(f'{file_path} does not exist!')
        sys.exit(1)
    with open(file_path, encoding='utf-8', errors='replace') as file:
        lines = file.read().splitlines(keepends=True)
    if head:
        lines = lines[:head]
    elif tail:
        lines = lines[-tail:]
    return ''.join(lines)


def kill_command(pid: int, timeout: float = 60) -> None:
    """Send ``SIGTERM`` to ``pid`` and wait up to ``timeout`` seconds for it to end.

    A child of this process is reaped, so it does not linger as a zombie. If it is still there
    after the timeout, a warning says so (the process is left alone, as in NNI).
    """
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        print_warning(f'Tried to kill process (pid = {pid}), but the process does not exist.')
        return
    deadline = time.monotonic() + timeout
    while _check_pid_running(pid):
        if time.monotonic() >= deadline:
            print_warning(f'One subprocess (pid = {pid}) still exists {timeout} seconds after the kill signal; '
                          'you may have to kill it yourself.')
            return
        time.sleep(_POLL_SECONDS)


def _check_pid_running(pid: int) -> bool:
    """Whether ``pid`` still runs; a child that exited is reaped here."""
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        return reaped == 0
    except ChildProcessError:
        from nni.experiment.manifest import pid_alive

        return pid_alive(pid)


def _pip_install() -> list[str]:
    return [sys.executable, '-m', 'pip', 'install']


def install_package_command(package_name: str) -> int:
    """``pip install <package_name>`` with this interpreter; returns pip's exit code."""
    return subprocess.call([*_pip_install(), package_name])


def install_requirements_command(requirements_path: str) -> int:
    """``pip install -r <requirements_path>``; returns pip's exit code."""
    return subprocess.call([*_pip_install(), '-r', requirements_path])


def call_pip_install(source: str) -> int:
    """``pip install <source>``; returns pip's exit code."""
    return subprocess.call([*_pip_install(), source])


def call_pip_uninstall(module_name: str) -> int:
    """``pip uninstall <module_name>``; returns pip's exit code."""
    return subprocess.call([sys.executable, '-m', 'pip', 'uninstall', module_name])
