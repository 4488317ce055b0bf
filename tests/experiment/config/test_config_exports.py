"""NNI's import paths are a contract; the docstring examples run."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

import nni.experiment.config as config_package

TRAINING_SERVICES = {
    'local': ['LocalConfig'],
    'remote': ['RemoteConfig', 'RemoteMachineConfig'],
    'openpai': ['OpenpaiConfig'],
    'aml': ['AmlConfig'],
    'dlc': ['DlcConfig'],
    'kubeflow': ['KubeflowConfig', 'KubeflowRoleConfig'],
    'frameworkcontroller': ['FrameworkControllerConfig', 'FrameworkControllerRoleConfig', 'FrameworkAttemptCompletionPolicy'],
    'k8s_storage': ['K8sStorageConfig', 'K8sNfsConfig', 'K8sAzureStorageConfig'],
    'slurm': ['SlurmConfig', 'SlurmLoginHostConfig'],
}
ALL_SERVICE_CLASSES = [name for names in TRAINING_SERVICES.values() for name in names]

PUBLIC = {
    'nni.experiment.config': [
        'ExperimentConfig', 'AlgorithmConfig', 'CustomAlgorithmConfig', 'TrainingServiceConfig',
        'SharedStorageConfig', 'NfsConfig', 'AzureBlobConfig', 'ConfigError', 'UnknownFieldError', 'ConfigBase',
        'parse_time', 'parse_memory_size', 'PathLike', *ALL_SERVICE_CLASSES,
    ],
    'nni.experiment.config.experiment_config': ['ExperimentConfig'],
    'nni.experiment.config.algorithm': ['AlgorithmConfig', 'CustomAlgorithmConfig'],
    'nni.experiment.config.training_service': ['TrainingServiceConfig'],
    'nni.experiment.config.training_services': ALL_SERVICE_CLASSES,
    **{f'nni.experiment.config.training_services.{module}': names for module, names in TRAINING_SERVICES.items()},
    'nni.experiment.config.shared_storage': ['SharedStorageConfig', 'NfsConfig', 'AzureBlobConfig'],
    'nni.experiment.config.convert': ['to_v2', 'convert_algo', 'is_v1_config'],
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
    import nni.experiment.config as config
    from nni.experiment.config.training_service import known_platforms, training_service_config_class

    assert known_platforms() == ['local', 'remote', 'openpai', 'aml', 'dlc', 'kubeflow', 'frameworkcontroller',
                                 'slurm']
    classes = [config.LocalConfig, config.RemoteConfig, config.OpenpaiConfig, config.AmlConfig, config.DlcConfig,
               config.KubeflowConfig, config.FrameworkControllerConfig, config.SlurmConfig]
    for platform, cls in zip(known_platforms(), classes, strict=True):
        assert training_service_config_class(platform) is cls
        assert cls().platform == platform
    assert training_service_config_class('nope') is None
    assert training_service_config_class('pai') is None  # the v1 name is not a v2 platform


def test_nni_experiment_reexports_every_config_class() -> None:
    import nni.experiment

    for name in PUBLIC['nni.experiment.config']:
        assert getattr(nni.experiment, name) is getattr(config_package, name)
    # the misspelt import of NNI's Kubeflow guide works too
    assert nni.experiment.KubeflowRowConfig is config_package.KubeflowRoleConfig


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
    'nni.experiment.config.training_services.remote',
    'nni.experiment.config.training_services.aml',
    'nni.experiment.config.training_services.kubeflow',
    'nni.experiment.config.training_services.frameworkcontroller',
    'nni.experiment.config.training_services.k8s_storage',
    'nni.experiment.config.shared_storage',
    'nni.experiment.config.experiment_config',
    'nni.experiment.config.convert',
]


@pytest.mark.parametrize('module', MODULES_WITH_EXAMPLES)
def test_docstring_examples(module: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = doctest.testmod(importlib.import_module(module), raise_on_error=False)
    assert result.attempted > 0
    assert result.failed == 0
