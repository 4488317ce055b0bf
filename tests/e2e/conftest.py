"""Fixtures for end-to-end tests: real manager processes, real trial processes."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
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
    return home


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / 'experiments'
    path.mkdir()
    return path


XY_SPACE = {
    'x': {'_type': 'randint', '_value': [0, 10]},
    'y': {'_type': 'choice', '_value': [0, 1, 2, 3]},
}


@pytest.fixture
def make_experiment(workdir: Path) -> Iterator[Callable[..., Any]]:
    from nni.experiment import Experiment

    created: list[Any] = []

    def make(search_space: dict | None = None, **fields: Any) -> Any:
        experiment = Experiment('local')
        config = experiment.config
        config.experiment_working_directory = str(workdir)
        config.search_space = search_space if search_space is not None else XY_SPACE
        config.trial_command = f'{sys.executable} trial.py'
        config.trial_code_directory = TRIAL_CODE
        config.trial_concurrency = 2
        config.max_trial_number = 4
        config.tuner.name = 'Random'
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


def processes_with_tag(tag: str) -> list[int]:
    """PIDs of live processes whose command line contains ``tag``."""
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/cmdline', 'rb') as handle:
                cmdline = handle.read().replace(b'\0', b' ').decode(errors='replace')
            with open(f'/proc/{entry}/stat') as handle:
                state = handle.read().rsplit(')', 1)[1].split()[0]
        except OSError:
            continue
        if tag in cmdline and state != 'Z' and int(entry) != os.getpid():
            found.append(int(entry))
    return found
