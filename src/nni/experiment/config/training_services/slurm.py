"""``SlurmConfig``: each trial is one batch job of a Slurm cluster (``platform: slurm``).

Not one of NNI 3.0's platforms: an addition of this implementation (docs/slurm.md).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..base import ConfigBase
from ..training_service import TrainingServiceConfig
from ..utils.internal import (
    MEMORY_SIZE,
    Check,
    Problems,
    canonical_memory_size,
    checked,
    is_int,
    is_memory_size,
    is_non_empty_str,
    is_non_negative_int,
    is_path,
    is_port,
    is_positive_int,
    join_path,
    resolve_path,
    show,
)
from ..utils.public import PathLike, parse_time
from .remote import check_ssh_login

__all__ = ['SlurmConfig', 'SlurmLoginHostConfig']

_DURATION = "a positive duration: seconds as an integer, or a number with unit s, m, h or d such as '30m' or '1.5h'"
_LOGIN = 'a login host config such as {host: login.cluster.example, user: alice, sshKeyFile: ~/.ssh/id_rsa}'
#: how trials send their metrics to the manager
METRICS_CHANNELS = ('http', 'file')


def is_positive_duration(value: Any) -> bool:
    """A positive int (seconds) or a string :func:`~..utils.public.parse_time` reads as positive."""
    if is_int(value):
        return value > 0
    if isinstance(value, str):
        try:
            return parse_time(value) > 0
        except ValueError:
            return False
    return False


class _OptionListCheck(Check):
    """Rule of ``sbatchOptions``: a list of strings, each an option starting with ``-``."""

    def __init__(self) -> None:
        super().__init__("a list of sbatch options such as ['--constraint=a100', '--exclusive']",
                         lambda value: isinstance(value, list), optional=False)

    def run(self, value: Any, path: str, problems: Problems) -> None:
        if not isinstance(value, list):
            problems.add(path, f'must be {self.expect}, got {show(value)}')
            return
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.startswith('-'):
                problems.add(f'{path}[{index}]', f'must be an sbatch option starting with "-", got {show(item)}')


def _is_prologue(value: Any) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_login_host(value: Any) -> bool:
    return isinstance(value, SlurmLoginHostConfig)


class SlurmLoginHostConfig(ConfigBase):
    """The cluster's login host, reached over SSH when the manager runs outside the cluster.

    Log-in uses ``password`` when it is set, otherwise the private key ``ssh_key_file``.

    Parameters
    ----------
    host
        IP address or host name of the login host (where ``sbatch`` works).
    port
        SSH port, 1 to 65535.
    user
        User name to log in as; the jobs run as this user.
    password
        Password of ``user``. When set, ``ssh_key_file`` is ignored. Kept in the experiment's
        config in plain text, so a key file is safer.
    ssh_key_file
        Private key used when no password is given; must be an existing local file then.
    ssh_passphrase
        Passphrase of the private key, if it has one.
    """

    _expect = _LOGIN

    host: str = checked('an IP address or host name', is_non_empty_str)
    port: int = checked('a port number between 1 and 65535', is_port, default=22)
    user: str = checked('a user name', is_non_empty_str)
    password: str | None = checked('a string', lambda value: isinstance(value, str), default=None)
    ssh_key_file: PathLike | None = checked(
        'a path to a private key file', is_path, default='~/.ssh/id_rsa', optional=True
    )
    ssh_passphrase: str | None = checked('a string', lambda value: isinstance(value, str), default=None)

    def _prepare(self, parents: list[ConfigBase], problems: Problems) -> None:
        if self.password is not None:
            self.ssh_key_file = None  # a password wins; the key file would only mislead

    def _validate_extra(self, path: str, problems: Problems) -> None:
        check_ssh_login(self, path, problems)


class SlurmConfig(TrainingServiceConfig):
    """Run each trial as one batch job (``sbatch``) of a Slurm cluster.

    Parameters
    ----------
    platform
        ``'slurm'``.
    partition
        Partition the jobs go to (``--partition``); None: the cluster's default partition.
    account
        Account charged for the jobs (``--account``).
    qos
        Quality of service of the jobs (``--qos``).
    time_limit
        Wall-clock limit of each trial's job (``--time``; Slurm counts whole minutes, rounding
        up): seconds as an integer, or a number with unit s, m, h or d such as ``'2h'``. A job
        that hits it ends FAILED with the reason in its stderr. None: the partition's limit.
    cpus_per_trial
        CPUs of each trial's job (``--cpus-per-task``).
    memory_per_trial
        Memory of each trial's job (``--mem``): megabytes as an integer, or a string with a unit
        such as ``'8gb'``.
    gpus_per_trial
        GPUs of each trial's job (``--gres=gpu:N``); None: ``trialGpuNumber``. Slurm sets
        ``CUDA_VISIBLE_DEVICES`` in the job.
    sbatch_options
        More ``sbatch`` options, one per item, such as ``['--constraint=a100', '--exclusive']``.
    prologue
        Shell lines run in the job before the trial command (``module load ...``,
        ``conda activate ...``): a list of lines or one multi-line string.
    shared_directory
        Folder where trial folders live, on a file system that the compute nodes and the manager
        both see: ``<sharedDirectory>/<experiment id>/trials/<trial id>``. None: the experiment's
        own folder (right on a single node, or when the experiment working directory is on a
        shared file system). With ``login_host`` it is a path on the cluster and must be set.
    python_path
        Folder put first on ``PATH`` in the jobs (the ``bin`` folder of the Python environment
        that has ``nni`` on the compute nodes). A path on the cluster: kept as written.
    metrics_channel
        How trials send metrics: ``'http'`` to the manager at ``nniManagerIp`` (compute nodes
        must reach it; a metric that cannot be sent goes to the file instead), ``'file'``
        through ``.nni/metrics`` in the trial folder on the shared directory (read when the
        trial ends). None: ``'file'`` with a ``login_host`` and no ``nniManagerIp``, else
        ``'http'``.
    poll_interval
        Time between two looks at the queue (one ``squeue`` for all the experiment's jobs):
        seconds as an integer or a string such as ``'5s'``.
    login_host
        The login host reached over SSH, when the manager runs outside the cluster; None when
        the manager runs on a machine of the cluster (where ``sbatch`` works).

    Examples
    --------
    >>> config = SlurmConfig(partition='gpu', time_limit='2h', gpus_per_trial=1, prologue=['module load cuda'])
    >>> config.time_limit
    '2h'
    """

    platform: str = 'slurm'
    partition: str | None = checked('a partition name', is_non_empty_str, default=None)
    account: str | None = checked('an account name', is_non_empty_str, default=None)
    qos: str | None = checked('a quality of service name', is_non_empty_str, default=None)
    time_limit: str | int | None = checked(_DURATION, is_positive_duration, default=None)
    cpus_per_trial: int | None = checked('a positive integer', is_positive_int, default=None)
    memory_per_trial: str | int | None = checked(MEMORY_SIZE, is_memory_size, default=None)
    gpus_per_trial: int | None = checked('a non-negative integer', is_non_negative_int, default=None)
    sbatch_options: list[str] = dataclasses.field(default_factory=list, metadata={'check': _OptionListCheck()})
    prologue: list[str] | str | None = checked(
        'shell lines: a list of strings or one multi-line string', _is_prologue, default=None
    )
    shared_directory: str | None = checked('a path to a folder', lambda v: is_path(v) and str(v) != '', default=None)
    python_path: str | None = checked('a folder (on the cluster)', is_non_empty_str, default=None)
    metrics_channel: str | None = checked(
        'one of ' + ', '.join(repr(name) for name in METRICS_CHANNELS), lambda v: v in METRICS_CHANNELS, default=None
    )
    poll_interval: str | int = checked(_DURATION, is_positive_duration, default=2)
    login_host: SlurmLoginHostConfig | None = checked(_LOGIN, _is_login_host, default=None)

    def _prepare(self, parents: list[ConfigBase], problems: Problems) -> None:
        super()._prepare(parents, problems)
        self.memory_per_trial = canonical_memory_size(self.memory_per_trial)
        if isinstance(self.prologue, str):
            self.prologue = self.prologue.splitlines()
        if self.login_host is None and is_path(self.shared_directory) and str(self.shared_directory):
            # a folder of this machine: absolute, like every local path of the config
            try:
                self.shared_directory = resolve_path(self.shared_directory, getattr(self, '_base_path', None))
            except (OSError, ValueError):
                pass

    def _validate_extra(self, path: str, problems: Problems) -> None:
        super()._validate_extra(path, problems)
        shared_path = join_path(path, 'sharedDirectory')
        if self.login_host is not None and self.shared_directory is None and not problems.has(shared_path):
            problems.add(
                shared_path,
                'not set, must be a folder on the cluster (seen by the login host and the compute nodes) '
                'when loginHost is set',
            )
