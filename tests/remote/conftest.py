"""Fixtures for the remote training service tests: two real OpenSSH servers on loopback.

"Machine A" is an sshd on 127.0.0.2 where the current user logs in with a key; "machine B" is a
second sshd on 127.0.0.3 where the user ``nnitest`` logs in with a password. Each has its own
listener, so a test can cut one machine off (kill its sshd and its connections) and bring it
back. Trials on B run ``/usr/bin/python3`` with this checkout's ``src`` on ``PYTHONPATH`` (that
user cannot read the venv of root).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixture_helpers import fill_config, isolated_nni_home, stop_experiments
from tests.polling import free_port, wait_for
from tests.service_scripts import SSHD_SCRIPT, start_test_sshd

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / 'src'
#: a world-readable copy of this checkout's ``nni`` package (the checkout may sit in a folder that
#: machine B's user cannot read), made once per test run by :func:`shared_tmp`
READABLE_SRC_NAME = 'src'
PASSWORD_USER = 'nnitest'
PASSWORD = 'nni-test-password-7'

TRIAL = textwrap.dedent('''
    import os, socket, time
    import nni
    params = nni.get_next_parameter()
    time.sleep(float(os.environ.get('TRIAL_SLEEP', '0.2')) + params.get('x', 0) * 0.0)
    nni.report_intermediate_result(1)
    with open(os.path.join(os.environ['NNI_OUTPUT_DIR'], 'where.txt'), 'w') as f:
        f.write(os.environ.get('USER', '') + ' ' + os.getcwd() + ' ' + os.environ.get('CUDA_VISIBLE_DEVICES', '-'))
    print('trial ran as', os.getuid())
    nni.report_final_result(params.get('x', 0))
''')


def _require_sshd() -> None:
    if os.geteuid() != 0:
        pytest.skip('the ssh tests create a password user and need root')
    if not Path('/usr/sbin/sshd').exists() and shutil.which('apt-get') is None:
        pytest.skip('no /usr/sbin/sshd and no apt-get to install it')


class SshServer:
    """One test sshd (a "machine"), started and stopped with scripts/test-sshd.sh."""

    def __init__(self, directory: Path, host: str, port: int, env: dict[str, str]) -> None:
        self.directory = directory
        self.host = host
        self.port = port
        self.env = env
        self.info: dict[str, str] = {}

    def start(self) -> dict[str, str]:
        self.info = start_test_sshd(self.directory, self.port, self.host, **self.env)
        return self.info

    def cut_off(self) -> None:
        """Kill the listener and every connection process it forked (the machine goes away)."""
        pid = int((self.directory / 'sshd.pid').read_text())
        family = _descendants(pid)
        for member in [pid, *family]:
            try:
                os.kill(member, signal.SIGKILL)
            except ProcessLookupError:
                pass
        (self.directory / 'sshd.pid').unlink(missing_ok=True)

    def stop(self) -> None:
        subprocess.run(['bash', str(SSHD_SCRIPT), 'stop', str(self.directory)], check=False, timeout=30)


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f'/proc/{entry}/stat').read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(')', 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@pytest.fixture(scope='session')
def shared_tmp() -> Iterator[Path]:
    """A folder both "machines" (root and the password user) can read, holding a copy of ``nni``."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix='nni-remote-tests-', dir='/tmp'))
    folder.chmod(0o755)
    shutil.copytree(SRC / 'nni', folder / READABLE_SRC_NAME / 'nni',
                    ignore=shutil.ignore_patterns('__pycache__', 'webui'))
    for path in [folder, *folder.rglob('*')]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope='session')
def trial_pythonpath(shared_tmp: Path) -> str:
    return str(shared_tmp / READABLE_SRC_NAME)


@pytest.fixture(scope='session')
def machines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, SshServer]]:
    _require_sshd()
    base = tmp_path_factory.mktemp('sshd')
    a = SshServer(base / 'machine-a', '127.0.0.2', free_port(), {})
    b = SshServer(base / 'machine-b', '127.0.0.3', free_port(),
                  {'SSH_PASSWORD_USER': PASSWORD_USER, 'SSH_PASSWORD': PASSWORD})
    a.start()
    b.start()
    yield {'a': a, 'b': b}
    a.stop()
    b.stop()


def machine_a_config(machines: dict[str, SshServer]) -> dict[str, Any]:
    a = machines['a']
    return {'host': a.host, 'port': a.port, 'user': a.info['SSH_USER'], 'ssh_key_file': a.info['SSH_KEY'],
            'python_path': str(Path(sys.executable).parent)}


def machine_b_config(machines: dict[str, SshServer]) -> dict[str, Any]:
    b = machines['b']
    return {'host': b.host, 'port': b.port, 'user': PASSWORD_USER, 'password': PASSWORD, 'python_path': '/usr/bin'}


@pytest.fixture(autouse=True)
def nni_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolated_nni_home(tmp_path, monkeypatch, NNI_REMOTE_POLL_INTERVAL='0.2')


@pytest.fixture
def trial_code(tmp_path: Path) -> Path:
    code = tmp_path / 'trial_code'
    code.mkdir()
    (code / 'trial.py').write_text(TRIAL)
    # world-readable: machine B's user reads the code through its own upload, not here, but the
    # shared-storage stand-in is read in place
    os.chmod(tmp_path, 0o755)
    os.chmod(code, 0o755)
    return code


@pytest.fixture
def make_remote_experiment(tmp_path: Path, trial_code: Path, trial_pythonpath: str) -> Iterator[Callable[..., Any]]:
    from nni.experiment import Experiment
    from nni.experiment.config import RemoteConfig, RemoteMachineConfig

    created: list[Any] = []

    def make(machine_configs: list[dict[str, Any]], **fields: Any) -> Any:
        import warnings

        experiment = Experiment('remote')
        service = RemoteConfig()
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # the plain-text password warning
            for machine in machine_configs:
                service.machine_list.append(RemoteMachineConfig(**machine))
        experiment.config.training_service = service
        fill_config(experiment.config, workdir=tmp_path / 'experiments',
                    search_space={'x': {'_type': 'randint', '_value': [0, 100]}},
                    trial_command=f'PYTHONPATH={trial_pythonpath} python3 trial.py', code_directory=trial_code,
                    concurrency=4, max_trials=8, fields=fields)
        created.append(experiment)
        return experiment

    yield make
    stop_experiments(created)
    for experiment in created:
        remove_remote_folders(experiment.id)


def remove_remote_folders(experiment_id: str) -> None:
    """Remove what an experiment left in the "machines'" home folders (``~/nni-remote/<id>``)."""
    for home in (Path.home(), Path('/home') / PASSWORD_USER):
        shutil.rmtree(home / 'nni-remote' / experiment_id, ignore_errors=True)


def experiment_processes(experiment_id: str) -> list[int]:
    """PIDs of live processes whose environment names ``experiment_id`` (on any "machine")."""
    needle = f'NNI_EXP_ID={experiment_id}'.encode()
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f'/proc/{entry}/environ').read_bytes()
            state = Path(f'/proc/{entry}/stat').read_text().rsplit(')', 1)[1].split()[0]
        except OSError:
            continue
        if state != 'Z' and needle in environ.split(b'\0'):
            found.append(int(entry))
    return found


def wait_no_experiment_processes(experiment_id: str, timeout: float = 20) -> None:
    wait_for(lambda: not experiment_processes(experiment_id), timeout=timeout)


def poll_status(experiment: Any, wanted: set[str], timeout: float = 90) -> str:
    def check() -> str | None:
        status = experiment.get_status()
        return status if status in wanted else None
    return wait_for(check, timeout=timeout, interval=0.2)


__all__ = ['free_port', 'wait_for', 'time']
