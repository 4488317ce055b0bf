"""Config classes of the training service platforms, one module per platform.

Each module's class registers its platform name when imported (see
``nni.experiment.config.training_service.BUILTIN_PLATFORMS``).
"""

from __future__ import annotations

from .local import LocalConfig

__all__ = ['LocalConfig']
