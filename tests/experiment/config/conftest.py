from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.experiment.config.sites import SPACE

from nni.experiment.config import experiment_config

SEARCH_SPACE = {
    'dropout_rate': {'_type': 'uniform', '_value': [0.5, 0.9]},
    'conv_size': {'_type': 'choice', '_value': [2, 3, 5, 7]},
    'learning_rate': {'_type': 'choice', '_value': [0.0001, 0.001, 0.01, 0.1]},
}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh current directory, so relative paths resolve somewhere known."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def site(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A current directory holding what the example configs point at, and a home with an SSH key."""
    home = workdir / 'home'
    (home / '.ssh').mkdir(parents=True)
    (home / '.ssh' / 'id_rsa').write_text('not really a key\n')
    monkeypatch.setenv('HOME', str(home))
    (workdir / 'search_space.json').write_text(json.dumps(SPACE))
    (workdir / 'pai_mount').mkdir()
    (workdir / 'pai_job.yml').write_text('protocolVersion: 2\ntaskRoles: {}\n')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)  # the plain-text SSH password warning
        yield workdir


@pytest.fixture
def no_validators(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend the search space and algorithm validators of other modules are not installed.

    Keeps the exact-message tests about this package's own checks independent of them.
    """
    monkeypatch.setattr(experiment_config, '_search_space_validator', lambda *tuner: None)
    monkeypatch.setattr(experiment_config, '_algorithm_validator', lambda: None)


@pytest.fixture
def minimal() -> Callable[..., dict[str, Any]]:
    """Factory of a valid local config dict (camelCase), with keys overridden or removed (None)."""

    def make(**overrides: Any) -> dict[str, Any]:
        config: dict[str, Any] = {
            'searchSpace': SEARCH_SPACE,
            'trialCommand': 'python3 trial.py',
            'trialConcurrency': 2,
            'tuner': {'name': 'TPE', 'classArgs': {'optimize_mode': 'maximize'}},
            'trainingService': {'platform': 'local'},
        }
        for key, value in overrides.items():
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value
        return config

    return make
