"""``OpenpaiConfig``: trials run as jobs of an OpenPAI cluster (``platform: openpai``)."""

from __future__ import annotations

import os
from typing import Any

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
    is_path,
    is_positive_int,
    is_str_key_dict,
    join_path,
    show,
)
from ..utils.public import PathLike

__all__ = ['OpenpaiConfig']

DEFAULT_DOCKER_IMAGE = 'msranni/nni:latest'

# Job settings that an embedded or referenced OpenPAI job config may provide instead.
_JOB_SETTINGS = {
    'trial_cpu_number': 'a positive integer',
    'trial_memory_size': MEMORY_SIZE,
    'storage_config_name': 'a string (the name of a storage config of the cluster)',
}


class OpenpaiConfig(TrainingServiceConfig):
    """Run trials as OpenPAI jobs.

    The trial code is copied to a storage of the cluster that is also mounted on this machine
    (``local_storage_mount_point`` here, ``container_storage_mount_point`` in the job's container).

    Parameters
    ----------
    platform
        ``'openpai'``.
    host
        Address of the OpenPAI cluster, such as ``'10.10.5.1'`` or ``'http://pai.example.com'``;
        ``https://`` is prepended when no scheme is given.
    username
        OpenPAI user name.
    token
        OpenPAI access token (from the user settings page of OpenPAI's web portal).
    trial_cpu_number
        CPUs of each trial's container. Required unless ``openpai_config`` or
        ``openpai_config_file`` describes the job.
    trial_memory_size
        Memory of each trial's container: megabytes as an int or a string with a unit such as
        ``'8gb'``; kept as written, except that a one-letter unit gets its ``b`` (``'8g'`` ->
        ``'8gb'``). Required unless a job config is given.
    storage_config_name
        Name of the cluster's storage config that holds the trial code. Required unless a job
        config is given.
    docker_image
        Image the trial containers run.
    virtual_cluster
        Virtual cluster to submit to; None means OpenPAI's default one.
    local_storage_mount_point
        Where the cluster storage is mounted on this machine; must be an existing directory.
        Resolved to an absolute path.
    container_storage_mount_point
        Where the same storage is mounted in the trial containers (an absolute path there).
    reuse_mode
        Run trials in long-lived jobs (NNI's "reuse" mode).
    openpai_config
        An OpenPAI job config embedded in the experiment config; its keys are never renamed.
    openpai_config_file
        Path of an OpenPAI job config file (YAML); must exist. Resolved to an absolute path.
        Only one of ``openpai_config`` and ``openpai_config_file`` may be set.
    """

    platform: str = 'openpai'
    host: str = checked('an address such as 10.10.5.1 or https://pai.example.com', is_non_empty_str)
    username: str = checked('a user name', is_non_empty_str)
    token: str = checked('an OpenPAI access token', is_non_empty_str)
    trial_cpu_number: int | None = checked(_JOB_SETTINGS['trial_cpu_number'], is_positive_int, default=None)
    trial_memory_size: str | int | None = checked(MEMORY_SIZE, is_memory_size, default=None)
    storage_config_name: str | None = checked(_JOB_SETTINGS['storage_config_name'], is_non_empty_str, default=None)
    docker_image: str = checked('a docker image name such as msranni/nni:latest', is_non_empty_str, default=DEFAULT_DOCKER_IMAGE)
    virtual_cluster: str | None = checked('a virtual cluster name', is_non_empty_str, default=None)
    local_storage_mount_point: PathLike = checked('a path to the directory where the storage is mounted here', is_path)
    container_storage_mount_point: str = checked(
        'an absolute path in the container such as /mnt/data', lambda v: isinstance(v, str) and v.startswith('/')
    )
    reuse_mode: bool = checked('true or false', is_bool, default=True)
    openpai_config: dict[str, Any] | None = checked('a mapping (an OpenPAI job config)', is_str_key_dict, default=None)
    openpai_config_file: PathLike | None = checked('a path to an OpenPAI job config file', is_path, default=None)

    def _prepare(self, parents: list[ConfigBase], problems: Problems) -> None:
        super()._prepare(parents, problems)
        self.trial_memory_size = canonical_memory_size(self.trial_memory_size)
        if isinstance(self.host, str) and self.host.strip() and '://' not in self.host:
            self.host = 'https://' + self.host  # OpenPAI is served over HTTPS unless told otherwise

    def _validate_extra(self, path: str, problems: Problems) -> None:
        super()._validate_extra(path, problems)
        has_job_config = self.openpai_config is not None or self.openpai_config_file is not None
        if not has_job_config:
            for name, expect in _JOB_SETTINGS.items():
                field_path = self._field_path(name, path)
                if getattr(self, name) is None and not problems.has(field_path):
                    problems.add(field_path, f'not set, must be {expect} (or give openpaiConfig or openpaiConfigFile)')
            gpu_path = self._field_path('trial_gpu_number', path)
            if self.trial_gpu_number is None and not problems.has(gpu_path):
                problems.add(
                    gpu_path,
                    'not set, must be a non-negative integer: OpenPAI needs the number of GPUs of each trial '
                    '(or give openpaiConfig or openpaiConfigFile)',
                )
        mount_path = join_path(path, 'localStorageMountPoint')
        mount = self.local_storage_mount_point
        if is_path(mount) and not problems.has(mount_path) and not os.path.isdir(mount):
            problems.add(mount_path, f'must be an existing directory (the cluster storage mounted here), got {show(mount)}')
        file_path = join_path(path, 'openpaiConfigFile')
        file = self.openpai_config_file
        if file is None or problems.has(file_path):
            return
        if self.openpai_config is not None:
            problems.add(file_path, 'cannot be set together with openpaiConfig; keep one of them')
        elif is_path(file) and not os.path.isfile(file):
            problems.add(file_path, f'must be an existing file, got {show(file)}')
