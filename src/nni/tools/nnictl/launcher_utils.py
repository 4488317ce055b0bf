"""NNI's ``nni.tools.nnictl.launcher_utils.validate_all_content``: check a config file's content.

The check is ours (``ExperimentConfig``, legacy v1 keys converted); a bad config raises
``schema.SchemaError`` when the ``schema`` package is installed, as NNI's did, else
:class:`~nni.experiment.config.ConfigError`. Either is a ``ValueError``-style error whose message
lists every problem.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ['validate_all_content']


def _schema_error() -> type[Exception] | None:
    try:
        from schema import SchemaError
    except ImportError:
        return None
    return SchemaError


def validate_all_content(experiment_config: dict[str, Any], config_path: str) -> None:
    """Validate a config loaded from ``config_path`` (relative paths are relative to its folder).

    Raises
    ------
    schema.SchemaError or ConfigError
        Listing every problem of the config.
    """
    from nni.experiment.config import ConfigError, ExperimentConfig
    from nni.experiment.config.convert import convert_with_origins, is_v1_config
    from nni.experiment.config.utils.internal import config_base_path

    data = dict(experiment_config)
    try:
        if is_v1_config(data):
            data, _ = convert_with_origins(data)
        with config_base_path(os.path.dirname(os.path.abspath(config_path))):
            ExperimentConfig(**data).validate()
    except (ConfigError, TypeError, ValueError, AttributeError) as error:
        schema_error = _schema_error()
        if schema_error is not None:
            raise schema_error(str(error)) from error
        if isinstance(error, ConfigError):
            raise
        raise ConfigError(str(error)) from error
