"""``RemoteConfig``: trials run on other machines reached over SSH (``platform: remote``)."""

from __future__ import annotations

import dataclasses
import os
import warnings
from typing import Any

from ..base import ConfigBase
from ..training_service import TrainingServiceConfig
from ..utils.internal import (
    ConfigListCheck,
    GpuIndicesCheck,
    Problems,
    canonical_gpu_indices,
    checked,
    is_bool,
    is_int,
    is_non_empty_str,
    is_non_negative_int,
    is_path,
    is_port,
    is_positive_int,
    join_path,
    show,
)
from ..utils.public import PathLike

__all__ = ['RemoteConfig', 'RemoteMachineConfig']

_MACHINE = 'a remote machine config such as {host: 10.0.0.2, user: alice, sshKeyFile: ~/.ssh/id_rsa}'



def check_ssh_login(login: Any, path: str, problems: Problems) -> None:
    """Check an SSH login section (a remote machine, a Slurm login host): a key file that exists
    when no password is set; a warning that a password is kept in plain text."""
    key_path = join_path(path, 'sshKeyFile')
    if login.password is None:
        key = login.ssh_key_file
        if is_path(key) and not problems.has(key_path) and not os.path.isfile(key):
            problems.add(
                key_path,
                f'must be an existing private key file when no password is set (set password to log in with '
                f'one), got {show(key)}',
            )
    elif isinstance(login.password, str) and not problems.has(join_path(path, 'password')):
        warnings.warn(
            f'The SSH password of {login.host} is kept in plain text in the experiment config and shown by the '
            'web portal; an SSH key file (sshKeyFile) is safer.',
            UserWarning,
            stacklevel=3,
        )


class RemoteMachineConfig(ConfigBase):
    """One machine of a remote experiment (an item of ``machineList``).

    Log-in uses ``password`` when it is set, otherwise the private key ``ssh_key_file``.

    Parameters
    ----------
    host
        IP address or host name of the machine.
    port
        SSH port, 1 to 65535.
    user
        User name to log in as.
    password
        Password of ``user``. When set, ``ssh_key_file`` is ignored (dropped from the canonical
        form). It is stored in the experiment's config in plain text, so a key file is safer.
    ssh_key_file
        Private key (identity file) used when no password is given; must be an existing local
        file then. Resolved to an absolute path.
    ssh_passphrase
        Passphrase of the private key, if it has one.
    use_active_gpu
        Whether GPUs already busy with other processes may be used (true for a machine with a
        graphical desktop, which keeps a GPU busy).
    max_trial_number_per_gpu
        How many trials may share one GPU of this machine (only with ``trialGpuNumber`` > 0).
    gpu_indices
        GPUs of this machine that trials may use: a list of ints, an int, or a string like
        ``'0,1'``; canonical form is a list of ints. None means every GPU.
    python_path
        Folder put first on ``PATH`` for the trials (the ``bin`` folder of a Python
        environment, for example). A path on the remote machine: kept as written.

    Examples
    --------
    >>> machine = RemoteMachineConfig(host='10.0.0.2', user='alice', password='secret', gpu_indices='0,1')
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter('ignore')  # the plain-text password warning
    ...     machine.json()
    {'host': '10.0.0.2', 'port': 22, 'user': 'alice', 'password': 'secret', 'useActiveGpu': False, \
'maxTrialNumberPerGpu': 1, 'gpuIndices': [0, 1]}
    """

    _expect = _MACHINE
    # v1 machineList keys, so that a half-converted machine says what to write instead
    _legacy_fields = {
        'ip': 'host',
        'username': 'user',
        'passwd': 'password',
        'sshkeypath': 'sshKeyFile',
        'passphrase': 'sshPassphrase',
        'maxtrialnumpergpu': 'maxTrialNumberPerGpu',
    }

    host: str = checked('an IP address or host name', is_non_empty_str)
    port: int = checked('a port number between 1 and 65535', is_port, default=22)
    user: str = checked('a user name', is_non_empty_str)
    password: str | None = checked('a string', lambda value: isinstance(value, str), default=None)
    ssh_key_file: PathLike | None = checked(
        'a path to a private key file', is_path, default='~/.ssh/id_rsa', optional=True
    )
    ssh_passphrase: str | None = checked('a string', lambda value: isinstance(value, str), default=None)
    use_active_gpu: bool = checked('true or false', is_bool, default=False)
    max_trial_number_per_gpu: int = checked('a positive integer', is_positive_int, default=1)
    gpu_indices: list[int] | int | str | None = dataclasses.field(default=None, metadata={'check': GpuIndicesCheck()})
    python_path: str | None = checked('a string (a folder on the remote machine)', is_non_empty_str, default=None)

    def _prepare(self, parents: list[ConfigBase], problems: Problems) -> None:
        if self.password is not None:
            self.ssh_key_file = None  # a password wins; the key file would only mislead
        try:
            self.gpu_indices = canonical_gpu_indices(self.gpu_indices)
        except ValueError:
            pass  # the string stays; validation says what is allowed

    def _validate_extra(self, path: str, problems: Problems) -> None:
        check_ssh_login(self, path, problems)


class RemoteConfig(TrainingServiceConfig):
    """Run trials on remote machines over SSH.

    Parameters
    ----------
    platform
        ``'remote'``.
    machine_list
        The machines (at least one). Starts as an empty list, so that template mode
        (``ExperimentConfig('remote')``) can ``append`` to it.
    reuse_mode
        Run trials in long-lived environments on the machines (NNI's "reuse" mode).

    Examples
    --------
    >>> config = RemoteConfig()
    >>> config.machine_list.append(RemoteMachineConfig(host='10.0.0.2', user='alice'))
    >>> config.machine_list[0].port
    22
    """

    _legacy_fields = {'reuse': 'reuseMode'}

    platform: str = 'remote'
    machine_list: list[RemoteMachineConfig] = dataclasses.field(
        default_factory=list,
        metadata={'check': ConfigListCheck('a non-empty list of machines', _MACHINE, lambda v: isinstance(v, RemoteMachineConfig))},
    )
    reuse_mode: bool = checked('true or false', is_bool, default=False)

    def _validate_extra(self, path: str, problems: Problems) -> None:
        super()._validate_extra(path, problems)
        gpu_number_path = self._field_path('trial_gpu_number', path)
        gpu_number_given = self.trial_gpu_number
        if problems.has(gpu_number_path) or (gpu_number_given is not None and not is_non_negative_int(gpu_number_given)):
            return  # the rules below depend on a valid trialGpuNumber (None counts as 0)
        gpu_number = gpu_number_given or 0
        machines = self.machine_list if isinstance(self.machine_list, list) else []
        for index, machine in enumerate(machines):
            if not isinstance(machine, RemoteMachineConfig):
                continue
            machine_path = f'{join_path(path, "machineList")}[{index}]'
            per_gpu_path = join_path(machine_path, 'maxTrialNumberPerGpu')
            per_gpu = machine.max_trial_number_per_gpu
            if not gpu_number and is_int(per_gpu) and per_gpu != 1 and not problems.has(per_gpu_path):
                problems.add(
                    per_gpu_path, f'must be 1 unless trialGpuNumber > 0 (trials without GPUs share none), got {show(per_gpu)}'
                )
            indices_path = join_path(machine_path, 'gpuIndices')
            indices = machine.gpu_indices
            if gpu_number and isinstance(indices, list) and not problems.has(indices_path) and len(indices) < gpu_number:
                problems.add(
                    indices_path,
                    f'must list at least trialGpuNumber ({gpu_number}) GPUs or no trial can run on this machine, '
                    f'got {show(indices)}',
                )
