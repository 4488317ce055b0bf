"""Config classes of the training service platforms, one module per platform.

Each module's class registers its platform name when imported (see
``nni.experiment.config.training_service.BUILTIN_PLATFORMS``). ``k8s_storage`` holds the
storage configs shared by the two Kubernetes platforms.
"""

from __future__ import annotations

from .aml import AmlConfig
from .dlc import DlcConfig
from .frameworkcontroller import (
    FrameworkAttemptCompletionPolicy,
    FrameworkControllerConfig,
    FrameworkControllerRoleConfig,
)
from .k8s_storage import K8sAzureStorageConfig, K8sNfsConfig, K8sStorageConfig
from .kubeflow import KubeflowConfig, KubeflowRoleConfig
from .local import LocalConfig
from .openpai import OpenpaiConfig
from .remote import RemoteConfig, RemoteMachineConfig
from .slurm import SlurmConfig, SlurmLoginHostConfig

__all__ = [
    'AmlConfig',
    'DlcConfig',
    'FrameworkAttemptCompletionPolicy',
    'FrameworkControllerConfig',
    'FrameworkControllerRoleConfig',
    'K8sAzureStorageConfig',
    'K8sNfsConfig',
    'K8sStorageConfig',
    'KubeflowConfig',
    'KubeflowRoleConfig',
    'LocalConfig',
    'OpenpaiConfig',
    'RemoteConfig',
    'RemoteMachineConfig',
    'SlurmConfig',
    'SlurmLoginHostConfig',
]
