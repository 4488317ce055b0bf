"""Base class of tuners and assessors that can be resumed.

Stdlib only: this module is imported by :mod:`nni.tuner` and :mod:`nni.assessor`, which user
algorithm code imports.
"""

from __future__ import annotations

import json
import os
from typing import Any

__all__ = ["Recoverable"]


class Recoverable:
    """Resume support shared by :class:`nni.tuner.Tuner` and :class:`nni.assessor.Assessor`.

    When an experiment is resumed the dispatcher hands the parameters of the previous run's trials to
    :meth:`recover_parameter_id`; results that later arrive for those ids are treated as "from the
    previous run".

    Attributes
    ----------
    recovered_max_param_id : int
        Largest integer parameter id seen by :meth:`recover_parameter_id`; ``-1`` before any resume.
    recovered_trial_params : dict
        Parameter id to the parameters that id was generated with in the previous run.
    """

    # Class-level defaults so that subclasses which never call ``super().__init__()`` still work.
    recovered_max_param_id: int = -1
    # Shared empty default; recover_parameter_id() assigns a fresh dict per instance, never mutates it.
    recovered_trial_params: dict[Any, Any] = {}

    def load_checkpoint(self) -> None:
        """Load the algorithm's state from :meth:`get_checkpoint_path`; does nothing by default."""

    def save_checkpoint(self) -> None:
        """Save the algorithm's state to :meth:`get_checkpoint_path`; does nothing by default."""

    def get_checkpoint_path(self) -> str | None:
        """Return the checkpoint directory of this experiment.

        Returns
        -------
        str or None
            ``NNI_CHECKPOINT_DIRECTORY`` when it is set and names an existing directory, else ``None``.
        """
        path = os.environ.get("NNI_CHECKPOINT_DIRECTORY")
        if path and os.path.isdir(path):
            return path
        return None

    def recover_parameter_id(self, data: Any) -> int:
        """Record the parameters of the previous run's trials.

        Parameters
        ----------
        data
            One packed parameter record or a list of them. A record is a dict (or its JSON string)
            with ``parameter_id`` and ``parameters``, as written to a trial's ``parameter.cfg``.

        Returns
        -------
        int
            The largest integer parameter id found, and at least 0. Non-integer ids (for example
            Hyperband's ``"0-4_0_12"``) are recorded but do not count.
        """
        records = data if isinstance(data, list) else [data]
        recovered = dict(self.recovered_trial_params)
        max_id = 0
        for record in records:
            if isinstance(record, (str, bytes)):
                record = json.loads(record)
            if not isinstance(record, dict):
                continue
            param_id = record.get("parameter_id")
            recovered[_hashable(param_id)] = record.get("parameters")
            # bool is an int subclass but never a real parameter id.
            if isinstance(param_id, int) and not isinstance(param_id, bool):
                max_id = max(max_id, param_id)
        self.recovered_trial_params = recovered
        self.recovered_max_param_id = max_id
        return max_id

    def is_created_in_previous_exp(self, param_id: Any) -> bool:
        """Tell whether ``param_id`` was generated before the experiment was resumed.

        Parameters
        ----------
        param_id
            A parameter id; ``None`` for customized trials.

        Returns
        -------
        bool
            ``True`` if ``param_id <= recovered_max_param_id``. Unlike NNI this never raises for
            non-integer ids (advisors use string ids); those count as previous only when
            :meth:`recover_parameter_id` recorded them.
        """
        if param_id is None:
            return False
        if isinstance(param_id, int) and not isinstance(param_id, bool):
            return param_id <= self.recovered_max_param_id
        try:
            return _hashable(param_id) in self.recovered_trial_params
        except TypeError:
            return False

    def get_previous_param(self, param_id: Any) -> Any:
        """Return the parameters that ``param_id`` had in the previous run.

        Raises
        ------
        KeyError
            If the id was not recovered.
        """
        return self.recovered_trial_params[_hashable(param_id)]


def _hashable(value: Any) -> Any:
    # Ids come from JSON; a list id would not be hashable, and a JSON text of it is a stable stand-in.
    try:
        hash(value)
    except TypeError:
        return json.dumps(value, sort_keys=True, default=str)
    return value
