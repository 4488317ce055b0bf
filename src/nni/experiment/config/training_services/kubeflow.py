"""``KubeflowConfig``: each trial is a Kubeflow job on Kubernetes (``platform: kubeflow``)."""

from __future__ import annotations

from ..base import ConfigBase
from ..training_service import TrainingServiceConfig
from ..utils.internal import (
    MEMORY_SIZE,
    Problems,
    canonical_memory_size,
    checked,
    is_bool,
    is_memory_size,
    is_non_empty_str,
    is_non_negative_int,
    is_positive_int,
    is_str,
    join_path,
)
from .k8s_storage import K8sStorageConfig, is_k8s_storage

__all__ = ['KubeflowConfig', 'KubeflowRoleConfig']

DEFAULT_DOCKER_IMAGE = 'msranni/nni:latest'

#: Operator -> (roles it needs, roles it does not have), as the two operators define them.
OPERATOR_ROLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    'tf-operator': (('worker',), ('master',)),
    'pytorch-operator': (('master',), ('ps',)),
}

# v1 role keys and their v2 names
_ROLE_LEGACY_FIELDS: dict[str, str | None] = {
    'gpunum': 'gpuNumber',
    'cpunum': 'cpuNumber',
    'memorymb': 'memorySize',
    'image': 'dockerImage',
    'privateregistryauthpath': None,
}

_ROLE = 'a role config such as {replicas: 1, command: python3 train.py, cpuNumber: 1, memorySize: 4gb, codeDirectory: .}'


class KubeflowRoleConfig(ConfigBase):
    """One role (``worker``, ``ps`` or ``master``) of the Kubeflow job of a trial.

    Parameters
    ----------
    replicas
        Number of pods of this role.
    command
        Shell command each pod of this role runs.
    gpu_number
        GPUs of each pod.
    cpu_number
        CPUs of each pod.
    memory_size
        Memory of each pod: megabytes as an int or a string with a unit such as ``'4gb'``; kept
        as written, except that a one-letter unit gets its ``b`` (``'4g'`` -> ``'4gb'``).
    docker_image
        Image the pods run.
    code_directory
        Directory of the trial code for this role; kept as written (NNI does not resolve it).
    """

    _expect = _ROLE
    _legacy_fields = _ROLE_LEGACY_FIELDS

    replicas: int = checked('a positive integer', is_positive_int)
    command: str = checked('the shell command the pods run', is_non_empty_str)
    gpu_number: int | None = checked('a non-negative integer', is_non_negative_int, default=0)
    cpu_number: int = checked('a positive integer', is_positive_int)
    memory_size: str | int = checked(MEMORY_SIZE, is_memory_size)
    docker_image: str = checked('a docker image name such as msranni/nni:latest', is_non_empty_str, default=DEFAULT_DOCKER_IMAGE)
    code_directory: str = checked('a path (the trial code directory of this role)', is_non_empty_str)

    def _prepare(self, parents: list[ConfigBase], problems: Problems) -> None:
        self.memory_size = canonical_memory_size(self.memory_size)


#: The spelling of NNI's Kubeflow guide (a typo there); the same class.
KubeflowRowConfig = KubeflowRoleConfig


def _is_role(value: object) -> bool:
    return isinstance(value, KubeflowRoleConfig)


class KubeflowConfig(TrainingServiceConfig):
    """Run each trial as a Kubeflow job (TFJob or PyTorchJob) on Kubernetes.

    The roles carry their own commands, so ``trial_command`` may stay unset (it becomes ``''``).

    Parameters
    ----------
    platform
        ``'kubeflow'``.
    trial_command
        Not used by Kubeflow (each role has a ``command``); ``''`` when unset.
    operator
        ``'tf-operator'`` (roles ``ps`` and ``worker``; ``worker`` required) or
        ``'pytorch-operator'`` (roles ``master`` and ``worker``; ``master`` required).
    api_version
        API version of the operator's custom resources, such as ``'v1'``.
    storage
        Where trial code and outputs are kept (NFS or Azure File), shared with the pods.
    worker
        The worker role.
    ps
        The parameter-server role (tf-operator only).
    master
        The master role (pytorch-operator only).
    reuse_mode
        Run trials in long-lived environments (NNI's "reuse" mode).
    namespace
        Kubernetes namespace of the jobs.

    Examples
    --------
    >>> role = KubeflowRoleConfig(replicas=2, command='python3 train.py', cpu_number=1, memory_size='4gb',
    ...                           code_directory='.')
    >>> role.json()
    {'replicas': 2, 'command': 'python3 train.py', 'gpuNumber': 0, 'cpuNumber': 1, 'memorySize': '4gb', \
'dockerImage': 'msranni/nni:latest', 'codeDirectory': '.'}
    """

    _legacy_fields = {'reuse': 'reuseMode'}

    platform: str = 'kubeflow'
    trial_command: str | None = checked(
        'a shell command (unused by Kubeflow: the roles have their own)', is_str, default=None, optional=False
    )
    operator: str = checked('one of ' + ', '.join(repr(o) for o in OPERATOR_ROLES), lambda v: v in OPERATOR_ROLES)
    api_version: str = checked('an API version such as v1', is_non_empty_str)
    storage: K8sStorageConfig = checked(K8sStorageConfig._expect, is_k8s_storage)
    worker: KubeflowRoleConfig | None = checked(_ROLE, _is_role, default=None)
    ps: KubeflowRoleConfig | None = checked(_ROLE, _is_role, default=None)
    master: KubeflowRoleConfig | None = checked(_ROLE, _is_role, default=None)
    reuse_mode: bool = checked('true or false', is_bool, default=True)
    namespace: str = checked('a Kubernetes namespace', is_non_empty_str, default='default')

    def _prepare(self, parents: list[ConfigBase], problems: Problems) -> None:
        super()._prepare(parents, problems)
        if self.trial_command is None:
            self.trial_command = ''  # what NNI sends: the roles carry the commands

    def _validate_extra(self, path: str, problems: Problems) -> None:
        super()._validate_extra(path, problems)
        operator = self.operator
        if not isinstance(operator, str) or operator not in OPERATOR_ROLES:
            return
        needed, foreign = OPERATOR_ROLES[operator]
        roles = ', '.join(name for name in ('worker', 'ps', 'master') if name not in foreign)
        for name in needed:
            role_path = join_path(path, name)
            if getattr(self, name) is None and not problems.has(role_path):
                problems.add(role_path, f'not set, {operator} jobs need a {name} role ({_ROLE})')
        for name in foreign:
            role_path = join_path(path, name)
            if getattr(self, name) is not None and not problems.has(role_path):
                problems.add(role_path, f'is not a role of {operator} (its roles are {roles}); remove it')
