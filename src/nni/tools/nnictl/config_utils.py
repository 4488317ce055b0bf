"""NNI's ``nni.tools.nnictl.config_utils``: the experiment manifest and a stored experiment's config.

``Experiments`` is our manifest class (``nni.experiment.manifest``); ``Config`` reads the newest
config revision from an experiment's database through our nnictl's store reader.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from nni.experiment.manifest import Experiments

from .experiment_db import latest_profile

__all__ = ['Config', 'Experiments']


class Config:
    """The config an experiment was stored with.

    Parameters
    ----------
    experiment_id
        The experiment.
    log_dir
        Folder holding the experiment's folder (``<log_dir>/<id>/db/nni.sqlite``).
    """

    def __init__(self, experiment_id: str, log_dir: str | os.PathLike[str]) -> None:
        self.experiment_id = experiment_id
        self._db_path = Path(log_dir) / experiment_id / 'db' / 'nni.sqlite'
        self.config: Any = None
        self.refresh_config()

    def refresh_config(self) -> None:
        """Re-read the newest stored revision."""
        profile = latest_profile(self._db_path)
        self.config = profile['params'] if profile is not None else None

    def get_config(self) -> Any:
        """The config as stored (camelCase JSON)."""
        return self.config
