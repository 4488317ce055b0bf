"""``FrameworkControllerConfig``: each trial is a FrameworkController framework on Kubernetes
(``platform: frameworkcontroller``)."""

from __future__ import annotations

import dataclasses

from ..base import ConfigBase
from ..training_service import TrainingServiceConfig
from ..utils.internal import (
    MEMORY_SIZE,
    ConfigListCheck,
    Problems,
    canonical_memory_size,
    checked,
    is_bool,
    is_int,
    is_memory_size,
    is_non_empty_str,
    is_non_negative_int,
    is_positive_int,
    is_str,
    join_path,
    show,
)
from .k8s_storage import K8sStorageConfig, is_k8s_storage

__all__ = ['FrameworkAttemptCompletionPolicy', 'FrameworkControllerConfig', 'FrameworkControllerRoleConfig']

DEFAULT_DOCKER_IMAGE = 'msranni/nni:latest'

_TASK_COUNT = 'a positive integer, or -1 for "never by this count"'
_POLICY = 'a completion policy such as {minFailedTaskCount: 1, minSucceedTaskCount: 1}'
_ROLE = 'a task role config such as {name: worker, taskNumber: 1, command: python3 train.py, ...}'


def _is_task_count(value: object) -> bool:
    return is_int(value) and (value == -1 or value > 0)  # type: ignore[operator]


class FrameworkAttemptCompletionPolicy(ConfigBase):
    """When an attempt of a trial's framework ends, judged by the tasks of one role.

    Parameters
    ----------
    min_failed_task_count
        The attempt fails as soon as this many tasks of the role failed (-1: never by this count).
    min_succeed_task_count
        The attempt succeeds as soon as this many tasks of the role succeeded (-1: never by this
        count). Spelled ``minSucceedTaskCount`` in v2 (v1 said ``minSucceededTaskCount``).

    Examples
    --------
    >>> FrameworkAttemptCompletionPolicy(min_failed_task_count=1, min_succeed_task_count=1).json()
    {'minFailedTaskCount': 1, 'minSucceedTaskCount': 1}
    """

    _expect = _POLICY
    _legacy_fields = {'minsucceededtaskcount': 'minSucceedTaskCount'}

    min_failed_task_count: int = checked(_TASK_COUNT, _is_task_count)
    min_succeed_task_count: int = checked(_TASK_COUNT, _is_task_count)


class FrameworkControllerRoleConfig(ConfigBase):
    """One task role of the framework that runs a trial.

    Parameters
    ----------
    name
        Role name, unique within the trial (such as ``'worker'``).
    docker_image
        Image the tasks run.
    task_number
        Number of tasks (pods) of this role.
    command
        Shell command each task runs.
    gpu_number
        GPUs of each task.
    cpu_number
        CPUs of each task.
    memory_size
        Memory of each task: megabytes as an int or a string with a unit such as ``'4gb'``; kept
        as written, except that a one-letter unit gets its ``b`` (``'4g'`` -> ``'4gb'``).
    framework_attempt_completion_policy
        When the attempt ends, judged by the tasks of this role.
    """

    _expect = _ROLE
    _legacy_fields = {
        'tasknum': 'taskNumber',
        'gpunum': 'gpuNumber',
        'cpunum': 'cpuNumber',
        'memorymb': 'memorySize',
        'image': 'dockerImage',
        'privateregistryauthpath': None,
    }

    name: str = checked('a role name such as worker', is_non_empty_str)
    docker_image: str = checked('a docker image name such as msranni/nni:latest', is_non_empty_str, default=DEFAULT_DOCKER_IMAGE)
    task_number: int = checked('a positive integer', is_positive_int)
    command: str = checked('the shell command the tasks run', is_non_empty_str)
    gpu_number: int = checked('a non-negative integer', is_non_negative_int)
    cpu_number: int = checked('a positive integer', is_positive_int)
    memory_size: str | int = checked(MEMORY_SIZE, is_memory_size)
    framework_attempt_completion_policy: FrameworkAttemptCompletionPolicy = checked(
        _POLICY, lambda v: isinstance(v, FrameworkAttemptCompletionPolicy)
    )

    def _prepare(self, parents: list[ConfigBase], problems: Problems) -> None:
        self.memory_size = canonical_memory_size(self.memory_size)

    def _validate_extra(self, path: str, problems: Problems) -> None:
        policy = self.framework_attempt_completion_policy
        tasks = self.task_number
        if not isinstance(policy, FrameworkAttemptCompletionPolicy) or not is_positive_int(tasks):
            return
        policy_path = join_path(path, 'frameworkAttemptCompletionPolicy')
        for name in ('min_failed_task_count', 'min_succeed_task_count'):
            count_path = policy._field_path(name, policy_path)
            count = getattr(policy, name)
            if _is_task_count(count) and count > tasks and not problems.has(count_path):
                problems.add(count_path, f'must be at most taskNumber ({tasks}) or -1, got {show(count)}')


class FrameworkControllerConfig(TrainingServiceConfig):
    """Run each trial as a FrameworkController framework on Kubernetes.

    The task roles carry their own commands, so ``trial_command`` may stay unset (it becomes
    ``''``).

    Parameters
    ----------
    platform
        ``'frameworkcontroller'``.
    trial_command
        Not used by FrameworkController (each task role has a ``command``); ``''`` when unset.
    storage
        Where trial code and outputs are kept (NFS or Azure File), shared with the pods.
    service_account_name
        Kubernetes service account of the frameworks, when the cluster enforces authorization.
    task_roles
        The task roles of each trial's framework (at least one, unique names).
    reuse_mode
        Run trials in long-lived environments (NNI's "reuse" mode).
    namespace
        Kubernetes namespace of the frameworks.
    """

    _legacy_fields = {'reuse': 'reuseMode', 'configpath': None}

    platform: str = 'frameworkcontroller'
    trial_command: str | None = checked(
        'a shell command (unused by FrameworkController: the task roles have their own)', is_str, default=None, optional=False
    )
    storage: K8sStorageConfig = checked(K8sStorageConfig._expect, is_k8s_storage)
    service_account_name: str | None = checked('a Kubernetes service account name', is_non_empty_str, default=None)
    task_roles: list[FrameworkControllerRoleConfig] = dataclasses.field(
        default_factory=list,
        metadata={
            'check': ConfigListCheck(
                'a non-empty list of task roles', _ROLE, lambda v: isinstance(v, FrameworkControllerRoleConfig)
            )
        },
    )
    reuse_mode: bool = checked('true or false', is_bool, default=True)
    namespace: str = checked('a Kubernetes namespace', is_non_empty_str, default='default')

    def _prepare(self, parents: list[ConfigBase], problems: Problems) -> None:
        super()._prepare(parents, problems)
        if self.trial_command is None:
            self.trial_command = ''  # what NNI sends: the task roles carry the commands

    def _validate_extra(self, path: str, problems: Problems) -> None:
        super()._validate_extra(path, problems)
        roles = self.task_roles if isinstance(self.task_roles, list) else []
        seen: set[str] = set()
        for index, role in enumerate(roles):
            if not isinstance(role, FrameworkControllerRoleConfig) or not isinstance(role.name, str):
                continue
            name_path = f'{join_path(path, "taskRoles")}[{index}].name'
            if role.name in seen and not problems.has(name_path):
                problems.add(name_path, f'duplicate task role name, each role needs its own name; got {show(role.name)}')
            seen.add(role.name)
