"""Fixtures and helpers of the fault campaigns: real managers, real trials, real SIGKILLs."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixture_helpers import isolated_nni_home, live_processes
from tests.polling import free_port, wait_for  # noqa: F401 - re-exported to the tests

TRIAL_CODE = Path(__file__).resolve().parent / 'trial_code'


@pytest.fixture(autouse=True)
def nni_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # trials must outlive every kill-to-resume gap of the campaigns, even on a loaded machine
    return isolated_nni_home(tmp_path, monkeypatch, NNI_TRIAL_ORPHAN_GRACE='120')


@pytest.fixture
def seeded_rng() -> random.Random:
    """A random generator whose seed is printed (``NNI_FAULT_SEED`` replays a run)."""
    seed = int(os.environ.get('NNI_FAULT_SEED') or time.time_ns() % 1_000_000)
    print(f'fault campaign seed: {seed} (replay with NNI_FAULT_SEED={seed})')
    return random.Random(seed)


def make_config(workdir: Path, *, trials: int, concurrency: int, command: str | None = None) -> Any:
    from nni.experiment import ExperimentConfig

    config = ExperimentConfig('local')
    config.experiment_working_directory = str(workdir)
    config.search_space = {'x': {'_type': 'randint', '_value': [0, 999]}}
    config.trial_command = command or f'{sys.executable} fault_trial.py'
    config.trial_code_directory = TRIAL_CODE
    config.trial_concurrency = concurrency
    config.max_trial_number = trials
    config.tuner.name = None
    config.tuner.class_name = 'journal_tuner.JournalTuner'
    config.tuner.code_directory = TRIAL_CODE
    return config


def processes_of_experiment(experiment_id: str) -> list[int]:
    """Live processes whose environment carries ``NNI_EXP_ID=<experiment_id>`` (trials and what they left)."""
    needle = f'NNI_EXP_ID={experiment_id}'.encode()
    return [pid for pid, environ in live_processes('environ') if needle in environ.split(b'\0')]


def open_store(workdir: Path, experiment_id: str) -> sqlite3.Connection:
    return sqlite3.connect(str(workdir / experiment_id / 'db' / 'nni.sqlite'))


def kill_tree_of_experiment(experiment_id: str) -> None:
    """Test cleanup: SIGKILL whatever still carries the experiment id (and its supervisor)."""
    for pid in processes_of_experiment(experiment_id):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture
def cleanup_experiments() -> Iterator[list[str]]:
    ids: list[str] = []
    yield ids
    for experiment_id in ids:
        kill_tree_of_experiment(experiment_id)


def start_detached(config: Any, experiment_id: str | None = None) -> Any:
    """Start a new experiment's manager detached from this process (so that a test can SIGKILL it)."""
    from nni.experiment import Experiment, RunMode

    experiment = Experiment(config, id=experiment_id) if experiment_id else Experiment(config)
    experiment.start(free_port(), run_mode=RunMode.Detach)
    return experiment


def resume_detached(experiment_id: str) -> Any:
    """Resume a stopped (or killed) experiment with a new detached manager."""
    from nni.experiment import Experiment, RunMode

    experiment = Experiment(None, id=experiment_id)
    experiment.load_checkpoint()
    experiment._action = 'resume'
    experiment.start(free_port(), run_mode=RunMode.Detach)
    return experiment


def process_alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (not gone, not a zombie)."""
    try:
        with open(f'/proc/{pid}/stat', 'rb') as handle:
            return handle.read().rsplit(b')', 1)[1].split()[0] != b'Z'
    except OSError:
        return False


def sigkill_manager(experiment: Any) -> None:
    """SIGKILL the experiment's manager and wait until it is gone; the experiment object forgets it."""
    pid = experiment._proc.pid
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not process_alive(pid), timeout=10)
    experiment._proc = None
    experiment.port = None
