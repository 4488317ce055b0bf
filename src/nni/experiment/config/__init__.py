"""Experiment configuration: config classes, validation, canonical form, YAML loading.

Modules keep NNI's import paths: ``experiment_config``, ``algorithm``, ``training_service``,
``training_services`` (one module per platform, e.g. ``training_services.remote``),
``shared_storage``, ``convert`` (legacy v1 YAML) and ``utils``. Errors are :class:`ConfigError`
(every problem of a config at once, one line each) and its subclass :class:`UnknownFieldError`.
"""

from __future__ import annotations

from .algorithm import AlgorithmConfig, CustomAlgorithmConfig
from .base import ConfigBase
from .errors import ConfigError, UnknownFieldError
from .experiment_config import ExperimentConfig
from .shared_storage import AzureBlobConfig, NfsConfig, SharedStorageConfig
from .training_service import TrainingServiceConfig
from .training_services import (
    AmlConfig,
    DlcConfig,
    FrameworkAttemptCompletionPolicy,
    FrameworkControllerConfig,
    FrameworkControllerRoleConfig,
    K8sAzureStorageConfig,
    K8sNfsConfig,
    K8sStorageConfig,
    KubeflowConfig,
    KubeflowRoleConfig,
    LocalConfig,
    OpenpaiConfig,
    RemoteConfig,
    RemoteMachineConfig,
    SlurmConfig,
    SlurmLoginHostConfig,
)

# not in __all__: the misspelt name of NNI's Kubeflow guide (``from nni.experiment import KubeflowRowConfig``)
from .training_services.kubeflow import KubeflowRowConfig as KubeflowRowConfig
from .utils import PathLike, parse_memory_size, parse_time

__all__ = [
    'AlgorithmConfig',
    'AmlConfig',
    'AzureBlobConfig',
    'ConfigBase',
    'ConfigError',
    'CustomAlgorithmConfig',
    'DlcConfig',
    'ExperimentConfig',
    'FrameworkAttemptCompletionPolicy',
    'FrameworkControllerConfig',
    'FrameworkControllerRoleConfig',
    'K8sAzureStorageConfig',
    'K8sNfsConfig',
    'K8sStorageConfig',
    'KubeflowConfig',
    'KubeflowRoleConfig',
    'LocalConfig',
    'NfsConfig',
    'OpenpaiConfig',
    'PathLike',
    'RemoteConfig',
    'RemoteMachineConfig',
    'SharedStorageConfig',
    'SlurmConfig',
    'SlurmLoginHostConfig',
    'TrainingServiceConfig',
    'UnknownFieldError',
    'parse_memory_size',
    'parse_time',
]
