"""``TrainingServiceConfig`` base class and the platform registry.

Every concrete training service class sets a class-level default for ``platform``; defining
the class registers it under that name. Built-in platforms are listed in
:data:`BUILTIN_PLATFORMS` with the module that defines them, imported on first use, so adding
a platform means writing its module and adding one line there.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from .base import ConfigBase
from .utils.internal import (
    Problems,
    checked,
    closest_name,
    is_bool,
    is_non_empty_str,
    is_non_negative_int,
    is_path,
    is_str,
    join_path,
    normalize_key,
    show,
)
from .utils.public import PathLike

__all__ = ['TrainingServiceConfig', 'BUILTIN_PLATFORMS', 'known_platforms', 'training_service_config_class']

#: Built-in platform name -> module defining its config class (NNI's seven v2 platforms).
#: Every one validates completely; which ones can run is the manager's business.
BUILTIN_PLATFORMS: dict[str, str] = {
    'local': 'nni.experiment.config.training_services.local',
    'remote': 'nni.experiment.config.training_services.remote',
    'openpai': 'nni.experiment.config.training_services.openpai',
    'aml': 'nni.experiment.config.training_services.aml',
    'dlc': 'nni.experiment.config.training_services.dlc',
    'kubeflow': 'nni.experiment.config.training_services.kubeflow',
    'frameworkcontroller': 'nni.experiment.config.training_services.frameworkcontroller',
    # an addition of this implementation (docs/slurm.md)
    'slurm': 'nni.experiment.config.training_services.slurm',
}

# Platform names of the v1 YAML (or of NNI's docs) that are not v2 platform names, and why.
_OTHER_PLATFORM_NAMES: dict[str, str] = {
    'pai': 'the v1 name of openpai',
    'hybrid': 'hybrid mode is a list of training services, not a platform',
    'adl': 'AdaptDL is not supported by NNI 3.0 configs',
    'dlts': 'DLTS is not supported by NNI 3.0 configs',
}

_registry: dict[str, type[TrainingServiceConfig]] = {}

#: Fields of the experiment that a training service copies when it does not set them itself.
SHORTCUT_FIELDS = ('trial_command', 'trial_code_directory', 'trial_gpu_number', 'nni_manager_ip', 'debug')


def known_platforms() -> list[str]:
    """Names of every platform that has a config class (built-in first, then registered ones)."""
    names = list(BUILTIN_PLATFORMS)
    names.extend(name for name in _registry if name not in BUILTIN_PLATFORMS)
    return names


def training_service_config_class(platform: str) -> type[TrainingServiceConfig] | None:
    """The config class of ``platform``, importing a built-in one on first use; None if unknown.

    Parameters
    ----------
    platform
        Platform name as written in ``trainingService.platform`` (exact spelling, e.g. ``'local'``).

    Returns
    -------
    type[TrainingServiceConfig] | None
        The registered class, or None when no class claims that name.
    """
    if platform not in _registry and platform in BUILTIN_PLATFORMS:
        importlib.import_module(BUILTIN_PLATFORMS[platform])
    return _registry.get(platform)


def unknown_platform_message(platform: Any) -> str:
    """Message for a platform name that has no config class, with the likely intended one."""
    message = f'must be one of the known platforms ({", ".join(known_platforms())}), got {show(platform)}'
    if isinstance(platform, str):
        if platform.lower() in _OTHER_PLATFORM_NAMES:
            return f'{message} ({_OTHER_PLATFORM_NAMES[platform.lower()]})'
        suggestion = closest_name(platform, known_platforms())
        if suggestion is not None:
            return f'{message}, did you mean {suggestion}?'
    return message


class TrainingServiceConfig(ConfigBase):
    """Base class of the training service configs (``trainingService`` in YAML).

    The shortcut fields (``trial_command``, ``trial_code_directory``, ``trial_gpu_number``,
    ``nni_manager_ip``, ``debug``) are copied from the experiment when left None here, so in a
    list of training services (hybrid mode) each may override them.

    Parameters
    ----------
    platform
        Which training service; fixed by each subclass.
    trial_command
        Shell command that runs one trial.
    trial_code_directory
        Directory the trial runs in; must exist. Resolved to an absolute path.
    trial_gpu_number
        GPUs per trial; 0 hides every GPU, None leaves GPUs unscheduled.
    nni_manager_ip
        Address trials use to reach the manager.
    debug
        Debug mode of the training service.
    """

    _expect = 'a training service config such as {platform: local}'

    platform: str = checked('a platform name', is_str)
    trial_command: str | None = checked(
        'the shell command that runs one trial, such as "python3 trial.py"', is_non_empty_str, default=None, optional=False
    )
    trial_code_directory: PathLike | None = checked(
        'a path to the directory trials run in', is_path, default=None, optional=False
    )
    trial_gpu_number: int | None = checked('a non-negative integer', is_non_negative_int, default=None)
    nni_manager_ip: str | None = checked('an IP address or host name', is_non_empty_str, default=None)
    debug: bool | None = checked('true or false', is_bool, default=None, optional=False)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        platform = cls.__dataclass_fields__['platform'].default  # type: ignore[attr-defined]
        if isinstance(platform, str):
            _registry.setdefault(platform, cls)  # the first class claiming a name keeps it

    @classmethod
    def _class_for(cls, data: Any, path: str, problems: Problems) -> type[ConfigBase] | None:
        if cls is not TrainingServiceConfig:
            return cls
        platform = None
        for key, value in data.items():
            if isinstance(key, str) and normalize_key(key) == 'platform':
                platform = value
        platform_path = join_path(path, 'platform')
        if platform is None:
            problems.add(platform_path, f'not set, must be one of the known platforms ({", ".join(known_platforms())})')
            return None
        found = training_service_config_class(platform) if isinstance(platform, str) else None
        if found is None:
            problems.add(platform_path, unknown_platform_message(platform))
        return found

    def _field_path(self, name: str, path: str) -> str:
        # a value copied from the experiment is reported where the user wrote it
        if name in getattr(self, '_inherited', ()):
            return join_path(getattr(self, '_inherit_path', ''), super()._field_path(name, ''))
        return super()._field_path(name, path)

    def _prepare(self, parents: list[ConfigBase], problems: Problems) -> None:
        inherited: set[str] = set()
        if parents:
            parent = parents[0]
            parent_fields = parent._field_names()
            for name in SHORTCUT_FIELDS:
                if getattr(self, name) is None and name in parent_fields:
                    # None and unset are the same thing (json() drops None), so an explicit None
                    # inherits too; that keeps ExperimentConfig(**config.json()) equal to config
                    object.__setattr__(self, name, getattr(parent, name))
                    inherited.add(name)
            object.__setattr__(self, '_inherit_path', getattr(parent, '_config_path', ''))
        object.__setattr__(self, '_inherited', inherited)

    def _validate_extra(self, path: str, problems: Problems) -> None:
        platform = type(self).__dataclass_fields__['platform'].default  # type: ignore[attr-defined]
        if isinstance(platform, str) and self.platform != platform and not problems.has(join_path(path, 'platform')):
            problems.add(join_path(path, 'platform'), f'must be {platform!r} for {type(self).__name__}, got {show(self.platform)}')
        directory_path = self._field_path('trial_code_directory', path)
        directory = self.trial_code_directory
        if is_path(directory) and not problems.has(directory_path) and not os.path.isdir(directory):
            problems.add(directory_path, f'must be an existing directory, got {show(directory)}')
