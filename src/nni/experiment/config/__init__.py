"""Experiment configuration: config classes, validation, canonical form, YAML loading.

Modules keep NNI's import paths: ``experiment_config``, ``algorithm``, ``training_service``,
``training_services`` (one module per platform, e.g. ``training_services.local``),
``shared_storage`` and ``utils``. Errors are :class:`ConfigError` (every problem of a config
at once, one line each) and its subclass :class:`UnknownFieldError`.
"""

from __future__ import annotations

from .algorithm import AlgorithmConfig, CustomAlgorithmConfig
from .base import ConfigBase
from .errors import ConfigError, UnknownFieldError
from .experiment_config import ExperimentConfig
from .shared_storage import SharedStorageConfig
from .training_service import TrainingServiceConfig
from .training_services import LocalConfig
from .utils import PathLike, parse_memory_size, parse_time

__all__ = [
    'AlgorithmConfig',
    'ConfigBase',
    'ConfigError',
    'CustomAlgorithmConfig',
    'ExperimentConfig',
    'LocalConfig',
    'PathLike',
    'SharedStorageConfig',
    'TrainingServiceConfig',
    'UnknownFieldError',
    'parse_memory_size',
    'parse_time',
]
