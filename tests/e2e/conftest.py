"""Fixtures for end-to-end tests: real manager processes, real trial processes."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixture_helpers import fill_config, isolated_nni_home, live_processes, stop_experiments
from tests.polling import free_port, wait_for  # noqa: F401 - re-exported to the tests

TRIAL_CODE = Path(__file__).resolve().parent / 'trial_code'


@pytest.fixture(autouse=True)
def nni_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return isolated_nni_home(tmp_path, monkeypatch)


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
        fill_config(experiment.config, workdir=workdir,
                    search_space=search_space if search_space is not None else XY_SPACE,
                    trial_command=f'{sys.executable} trial.py', code_directory=TRIAL_CODE, concurrency=2,
                    max_trials=4, fields=fields)
        created.append(experiment)
        return experiment

    yield make
    stop_experiments(created)


def processes_with_tag(tag: str) -> list[int]:
    """PIDs of live processes whose command line contains ``tag``."""
    return [pid for pid, cmdline in live_processes('cmdline')
            if tag in cmdline.replace(b'\0', b' ').decode(errors='replace') and pid != os.getpid()]
