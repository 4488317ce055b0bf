"""A real single-node Slurm cluster (slurmctld + slurmd + munge) for the Slurm training service tests.

The session fixture starts one with ``scripts/test-slurm.sh`` (root needed: slurmd runs jobs as
the submitting user, munged as user munge) on free ports in a temporary folder, and stops it at
the end. A cluster already named by ``SLURM_CONF`` (and answering) is used as it is.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.polling import free_port, wait_for  # noqa: F401 - re-exported to the tests

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / 'scripts' / 'test-slurm.sh'
TRIAL_CODE = Path(__file__).resolve().parent / 'trial_code'


@dataclass
class SlurmCluster:
    """Where the test cluster is."""

    conf: str
    partition: str
    folder: Path


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
        yield SlurmCluster(provided, _default_partition(provided), Path(provided).parent)
        return
    if os.geteuid() != 0:
        pytest.skip('the Slurm tests start slurmctld, slurmd and munged, which needs root (slurmd runs jobs as the '
                    'submitting user); run them as root or give SLURM_CONF of a running cluster')
    # not under pytest's temporary folder: that is 0700, and munged (user munge) keeps files here
    folder = Path(tempfile.mkdtemp(prefix='nni-test-slurm-'))
    env = dict(os.environ, SLURM_PORT=str(_free_port_pair()), SLURM_CPUS='4')
    started = subprocess.run(['bash', str(SCRIPT), 'start', str(folder)], env=env, capture_output=True, text=True,
                             timeout=300)
    if started.returncode != 0:
        pytest.fail(f'scripts/test-slurm.sh could not start Slurm:\n{started.stdout}\n{started.stderr}')
    values = dict(line.split('=', 1) for line in started.stdout.splitlines() if '=' in line)
    saved = os.environ.get('SLURM_CONF')
    os.environ['SLURM_CONF'] = values['SLURM_CONF']  # the manager processes inherit it
    try:
        yield SlurmCluster(values['SLURM_CONF'], values['SLURM_PARTITION'], folder)
    finally:
        if saved is None:
            os.environ.pop('SLURM_CONF', None)
        else:
            os.environ['SLURM_CONF'] = saved
        subprocess.run(['bash', str(SCRIPT), 'stop', str(folder)], env=env, capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope='session')
def slurm_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One NNI_HOME_DIR for every Slurm test (some experiments span several tests)."""
    home = tmp_path_factory.mktemp('nni-home')
    saved = os.environ.get('NNI_HOME_DIR')
    os.environ['NNI_HOME_DIR'] = str(home)
    yield home
    if saved is None:
        os.environ.pop('NNI_HOME_DIR', None)
    else:
        os.environ['NNI_HOME_DIR'] = saved


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
        config.experiment_working_directory = str(workdir)
        config.search_space = search_space or {'x': {'_type': 'randint', '_value': [0, 100]}}
        config.trial_command = f'{sys.executable} trial.py'
        config.trial_code_directory = TRIAL_CODE
        config.trial_concurrency = 2
        config.max_trial_number = 2
        config.tuner.name = 'Random'
        config.training_service.partition = slurm_cluster.partition
        config.training_service.poll_interval = 1
        for key, value in (service or {}).items():
            setattr(config.training_service, key, value)
        for key, value in fields.items():
            setattr(config, key, value)
        created.append(experiment)
        return experiment

    yield make
    for experiment in created:
        try:
            experiment.stop()
        except Exception:  # noqa: BLE001 - best effort cleanup
            pass
