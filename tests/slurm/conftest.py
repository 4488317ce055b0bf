"""A real single-node Slurm cluster (slurmctld + slurmd + munge) for the Slurm training service tests.

The session fixture starts one with ``scripts/test-slurm.sh`` (root needed: slurmd runs jobs as
the submitting user, munged as user munge) on free ports in a temporary folder, and stops it at
the end. A cluster already named by ``SLURM_CONF`` (and answering) is used as it is.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fixture_helpers import environ_set, fill_config, set_fields, shared_nni_home, stop_experiments
from tests.polling import free_port, wait_for  # noqa: F401 - re-exported to the tests
from tests.service_scripts import SSHD_SCRIPT, script_values, start_test_sshd

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / 'scripts' / 'test-slurm.sh'
TRIAL_CODE = Path(__file__).resolve().parent / 'trial_code'


@dataclass
class SlurmCluster:
    """Where the test cluster is."""

    conf: str
    partition: str
    folder: Path
    #: GPUs (GRES gpu) of the node: fake ones in the cluster started here
    gpus: int = 0


def _answers(conf: str) -> bool:
    try:
        result = subprocess.run(['scontrol', 'ping'], env=dict(os.environ, SLURM_CONF=conf), capture_output=True,
                                text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0 and 'UP' in result.stdout


def _free_port_pair() -> int:
    for _ in range(50):
        port = free_port()
        with socket.socket() as sock:
            try:
                sock.bind(('127.0.0.1', port + 1))
            except OSError:
                continue
        if port + 1 < 65536:
            return port
    raise RuntimeError('no two consecutive free ports')


def _node_gpus(conf: str) -> int:
    out = subprocess.run(['scontrol', '-o', 'show', 'node'], env=dict(os.environ, SLURM_CONF=conf),
                         capture_output=True, text=True, timeout=20).stdout
    for item in out.split():
        if item.startswith('Gres=gpu:'):
            return int(item.rsplit(':', 1)[1].split('(')[0])
    return 0


def _default_partition(conf: str) -> str:
    out = subprocess.run(['scontrol', '-o', 'show', 'partition'], env=dict(os.environ, SLURM_CONF=conf),
                         capture_output=True, text=True, timeout=20).stdout
    for line in out.splitlines():
        fields = dict(item.split('=', 1) for item in line.split() if '=' in item)
        if fields.get('Default') == 'YES':
            return fields['PartitionName']
    return out.split('PartitionName=')[1].split()[0]


@pytest.fixture(scope='session')
def slurm_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlurmCluster]:
    provided = os.environ.get('SLURM_CONF')
    if provided and _answers(provided):
        yield SlurmCluster(provided, _default_partition(provided), Path(provided).parent, _node_gpus(provided))
        return
    if os.geteuid() != 0:
        pytest.skip('the Slurm tests start slurmctld, slurmd and munged, which needs root (slurmd runs jobs as the '
                    'submitting user); run them as root or give SLURM_CONF of a running cluster')
    # not under pytest's temporary folder: that is 0700, and munged (user munge) keeps files here
    folder = Path(tempfile.mkdtemp(prefix='nni-test-slurm-'))
    # 4 CPUs on 2 cores (trials here are light) and 2 fake GPUs (GRES device files aliasing /dev/null)
    env = dict(os.environ, SLURM_PORT=str(_free_port_pair()), SLURM_CPUS='4', SLURM_FAKE_GPUS='2')
    started = subprocess.run(['bash', str(SCRIPT), 'start', str(folder)], env=env, capture_output=True, text=True,
                             timeout=300)
    if started.returncode != 0:
        pytest.fail(f'scripts/test-slurm.sh could not start Slurm:\n{started.stdout}\n{started.stderr}')
    values = script_values(started.stdout)
    try:
        with environ_set('SLURM_CONF', values['SLURM_CONF']):  # the manager processes inherit it
            yield SlurmCluster(values['SLURM_CONF'], values['SLURM_PARTITION'], folder,
                               _node_gpus(values['SLURM_CONF']))
    finally:
        subprocess.run(['bash', str(SCRIPT), 'stop', str(folder)], env=env, capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope='session')
def slurm_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One NNI_HOME_DIR for every Slurm test (some experiments span several tests)."""
    with shared_nni_home(tmp_path_factory) as home:
        yield home


@pytest.fixture(scope='module')
def slurm_experiments(slurm_cluster: SlurmCluster, slurm_home: Path,
                      tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Any]]:
    """Make Slurm experiments (stopped at the end of the module)."""
    from nni.experiment import Experiment

    workdir = tmp_path_factory.mktemp('experiments')
    created: list[Any] = []

    def make(search_space: dict | None = None, service: dict | None = None, **fields: Any) -> Any:
        experiment = Experiment('slurm')
        config = experiment.config
        config.training_service.partition = slurm_cluster.partition
        config.training_service.poll_interval = 1
        set_fields(config.training_service, service or {})
        fill_config(config, workdir=workdir, search_space=search_space or {'x': {'_type': 'randint', '_value': [0, 100]}},
                    trial_command=f'{sys.executable} trial.py', code_directory=TRIAL_CODE, concurrency=2,
                    max_trials=2, fields=fields)
        created.append(experiment)
        return experiment

    yield make
    stop_experiments(created)


@pytest.fixture(scope='session')
def slurm_login_host(slurm_cluster: SlurmCluster) -> Iterator[dict[str, Any]]:
    """A real sshd on loopback acting as the cluster's login host (its sessions find the cluster's config)."""
    try:
        import asyncssh  # noqa: F401
    except ImportError:
        pytest.skip('the login host tests need asyncssh (pip install nni[remote])')
    if os.geteuid() != 0:
        pytest.skip('the login host tests start an sshd, which needs root here')
    folder = Path(tempfile.mkdtemp(prefix='nni-test-login-'))
    port = free_port()
    info = start_test_sshd(folder, port, '127.0.0.1')
    # a real login host has /etc/slurm/slurm.conf; this one gets the test cluster's config through
    # the environment of its sessions (sshd takes only its first SetEnv line: extend that one)
    config = folder / 'sshd_config'
    lines = [f'{line} SLURM_CONF={slurm_cluster.conf}' if line.startswith('SetEnv ') else line
             for line in config.read_text().splitlines()]
    config.write_text('\n'.join(lines) + '\n')
    os.kill(int(info['SSH_PID']), signal.SIGHUP)  # sshd re-executes itself with the new config
    login = {'host': '127.0.0.1', 'port': port, 'user': info['SSH_USER'], 'sshKeyFile': info['SSH_KEY']}

    def sees_slurm() -> bool:
        result = subprocess.run(['ssh', '-p', str(port), '-i', info['SSH_KEY'], '-o', 'BatchMode=yes',
                                 '-o', f'UserKnownHostsFile={info["SSH_KNOWN_HOSTS"]}', '-o', 'IdentitiesOnly=yes',
                                 f'{info["SSH_USER"]}@127.0.0.1', 'scontrol ping'], capture_output=True, text=True,
                                timeout=30)
        return result.returncode == 0 and 'UP' in result.stdout

    try:
        wait_for(sees_slurm, timeout=30, interval=0.2)
        yield login
    finally:
        subprocess.run(['bash', str(SSHD_SCRIPT), 'stop', str(folder)], capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)
