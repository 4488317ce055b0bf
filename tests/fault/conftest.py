"""Fixtures and helpers of the fault campaigns: real managers, real trials, real SIGKILLs."""

from __future__ import annotations

import os
import random
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.polling import free_port, wait_for  # noqa: F401 - re-exported to the tests

TRIAL_CODE = Path(__file__).resolve().parent / 'trial_code'


@pytest.fixture(autouse=True)
def nni_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / 'nni-home'
    home.mkdir()
    monkeypatch.setenv('NNI_HOME_DIR', str(home))
    # trials must outlive every kill-to-resume gap of the campaigns, even on a loaded machine
    monkeypatch.setenv('NNI_TRIAL_ORPHAN_GRACE', '120')
    return home


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / 'experiments'
    path.mkdir()
    return path


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
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat', 'rb') as handle:
                if handle.read().rsplit(b')', 1)[1].split()[0] == b'Z':
                    continue
            with open(f'/proc/{entry}/environ', 'rb') as handle:
                environ = handle.read().split(b'\0')
        except OSError:
            continue
        if needle in environ:
            found.append(int(entry))
    return found


def open_store(workdir: Path, experiment_id: str) -> sqlite3.Connection:
    return sqlite3.connect(str(workdir / experiment_id / 'db' / 'nni.sqlite'))


def kill_tree_of_experiment(experiment_id: str) -> None:
    """Test cleanup: SIGKILL whatever still carries the experiment id (and its supervisor)."""
    import signal

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
