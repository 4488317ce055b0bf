"""NNI's import paths are a contract; the docstring examples run."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

import nni.experiment.config as config_package

PUBLIC = {
    'nni.experiment.config': [
        'ExperimentConfig', 'AlgorithmConfig', 'CustomAlgorithmConfig', 'TrainingServiceConfig', 'LocalConfig',
        'SharedStorageConfig', 'ConfigError', 'UnknownFieldError', 'ConfigBase', 'parse_time', 'parse_memory_size',
        'PathLike',
    ],
    'nni.experiment.config.experiment_config': ['ExperimentConfig'],
    'nni.experiment.config.algorithm': ['AlgorithmConfig', 'CustomAlgorithmConfig'],
    'nni.experiment.config.training_service': ['TrainingServiceConfig'],
    'nni.experiment.config.training_services': ['LocalConfig'],
    'nni.experiment.config.training_services.local': ['LocalConfig'],
    'nni.experiment.config.shared_storage': ['SharedStorageConfig'],
    'nni.experiment.config.base': ['ConfigBase'],
    'nni.experiment.config.utils': ['parse_time', 'parse_memory_size', 'PathLike'],
    'nni.experiment.config.utils.public': ['parse_time', 'parse_memory_size', 'PathLike'],
}


@pytest.mark.parametrize('module', sorted(PUBLIC))
def test_import_paths(module: str) -> None:
    imported = importlib.import_module(module)
    for name in PUBLIC[module]:
        assert hasattr(imported, name), f'{module}.{name}'


def test_package_all_is_exact() -> None:
    assert sorted(config_package.__all__) == sorted(PUBLIC['nni.experiment.config'])
    for name in config_package.__all__:
        assert getattr(config_package, name) is not None


def test_same_objects_everywhere() -> None:
    from nni.experiment.config import ExperimentConfig, LocalConfig
    from nni.experiment.config.experiment_config import ExperimentConfig as Deep
    from nni.experiment.config.training_services.local import LocalConfig as DeepLocal

    assert ExperimentConfig is Deep
    assert LocalConfig is DeepLocal


def test_platform_registry() -> None:
    from nni.experiment.config import LocalConfig
    from nni.experiment.config.training_service import known_platforms, training_service_config_class

    assert known_platforms() == ['local']
    assert training_service_config_class('local') is LocalConfig
    assert training_service_config_class('nope') is None


def test_config_error_hierarchy() -> None:
    from nni.experiment.config import ConfigError, UnknownFieldError

    assert issubclass(ConfigError, ValueError)
    assert issubclass(UnknownFieldError, ConfigError)
    assert issubclass(UnknownFieldError, AttributeError)
    assert ConfigError('plain message').errors == ['plain message']


MODULES_WITH_EXAMPLES = [
    'nni.experiment.config.errors',
    'nni.experiment.config.utils.public',
    'nni.experiment.config.algorithm',
    'nni.experiment.config.training_services.local',
    'nni.experiment.config.experiment_config',
]


@pytest.mark.parametrize('module', MODULES_WITH_EXAMPLES)
def test_docstring_examples(module: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = doctest.testmod(importlib.import_module(module), raise_on_error=False)
    assert result.attempted > 0
    assert result.failed == 0
