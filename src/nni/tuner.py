"""Base class of tuning algorithms (``nni.tuner.Tuner``).

Stdlib only. A tuner written for NNI subclasses :class:`Tuner` and runs here unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ._errors import NoMoreTrialError
from .recoverable import Recoverable

__all__ = ["Tuner"]

_logger = logging.getLogger("nni.tuner")

Parameters = Any
SearchSpace = dict[str, Any]
TrialRecord = dict[str, Any]
# Signature of the ``st_callback`` keyword argument of generate_multiple_parameters().
StCallback = Callable[[int, Parameters], None]


class Tuner(Recoverable):
    """Base class of tuners: algorithms that turn search spaces and results into parameter sets.

    A subclass must implement :meth:`update_search_space`, :meth:`receive_trial_result` and one of
    :meth:`generate_parameters` / :meth:`generate_multiple_parameters`.

    The dispatcher calls, in order: :meth:`update_search_space` with the experiment's space, then
    :meth:`generate_multiple_parameters` whenever trials are needed, :meth:`receive_trial_result` for
    every final metric and :meth:`trial_end` when a trial stops. :meth:`trial_end` may be called from a
    different thread than the other methods, and possibly before the trial's final result.

    Examples
    --------
    >>> import random
    >>> class MyTuner(Tuner):
    ...     def update_search_space(self, search_space):
    ...         self.space = search_space
    ...     def generate_parameters(self, parameter_id, **kwargs):
    ...         return {name: random.choice(spec['_value']) for name, spec in self.space.items()}
    ...     def receive_trial_result(self, parameter_id, parameters, value, **kwargs):
    ...         pass
    >>> tuner = MyTuner()
    >>> tuner.update_search_space({'x': {'_type': 'choice', '_value': [1]}})
    >>> tuner.generate_multiple_parameters([0, 1])
    [{'x': 1}, {'x': 1}]
    """

    # Set by _accept_customized_trials(); read by the dispatcher.
    _accept_customized: bool = False

    def generate_parameters(self, parameter_id: int, **kwargs: Any) -> Parameters:
        """Return the parameters of one new trial.

        Parameters
        ----------
        parameter_id
            Unique id of this parameter set; results for it come back with the same id.
        **kwargs
            ``st_callback`` (when called through :meth:`generate_multiple_parameters`) and
            ``trial_job_id`` (multi-phase), both optional.

        Returns
        -------
        Any
            A JSON-serialisable object, usually a dict in the user's (nested) format.

        Raises
        ------
        nni.NoMoreTrialError
            When no parameters can be given now (or ever).
        """
        raise NotImplementedError("Tuner: generate_parameters not implemented")

    def generate_multiple_parameters(self, parameter_id_list: list[int], **kwargs: Any) -> list[Parameters]:
        """Return parameters for several trials at once.

        The default calls :meth:`generate_parameters` once per id and stops at the first
        :class:`nni.NoMoreTrialError`, returning what it has so far.

        Parameters
        ----------
        parameter_id_list
            Ids of the requested parameter sets, in order.
        **kwargs
            Passed to every :meth:`generate_parameters` call. ``st_callback(parameter_id, parameters)``
            lets a tuner send a parameter set to the manager by itself at any time.

        Returns
        -------
        list
            One parameter set per id, in order; shorter (possibly empty) when the tuner ran out.
        """
        result: list[Parameters] = []
        for parameter_id in parameter_id_list:
            try:
                _logger.debug("generating param for %s", parameter_id)
                result.append(self.generate_parameters(parameter_id, **kwargs))
            except NoMoreTrialError:
                break
        return result

    def receive_trial_result(
        self, parameter_id: int, parameters: Parameters, value: Any, **kwargs: Any
    ) -> None:
        """Take the final result of a trial.

        Parameters
        ----------
        parameter_id
            Id given to :meth:`generate_parameters`.
        parameters
            The parameters that trial ran with.
        value
            The final metric as the trial reported it: a number, or a dict whose ``"default"`` entry is
            the number. Use :func:`nni.utils.extract_scalar_reward` to get the number.
        **kwargs
            ``customized`` (bool) and ``trial_job_id`` (str).
        """
        raise NotImplementedError("Tuner: receive_trial_result not implemented")

    def _accept_customized_trials(self, accept: bool = True) -> None:
        # Opt in to results of trials the user added by hand ("customized" trials).
        self._accept_customized = accept

    def trial_end(self, parameter_id: int, success: bool, **kwargs: Any) -> None:
        """Be told that a trial stopped; does nothing by default.

        Parameters
        ----------
        parameter_id
            Id of the trial's parameters (``None`` for customized trials).
        success
            ``True`` if the trial succeeded, ``False`` if it failed or was killed.
        """

    def update_search_space(self, search_space: SearchSpace) -> None:
        """Take the experiment's search space; called first and again on every update.

        Parameters
        ----------
        search_space
            The search space exactly as the user wrote it (parsed JSON/YAML).
        """
        raise NotImplementedError("Tuner: update_search_space not implemented")

    def load_checkpoint(self) -> None:
        """Load the tuner's state when the experiment resumes; ignored by default."""
        _logger.info("Load checkpoint ignored by tuner, checkpoint path: %s", self.get_checkpoint_path())

    def save_checkpoint(self) -> None:
        """Save the tuner's state; ignored by default."""
        _logger.info("Save checkpoint ignored by tuner, checkpoint path: %s", self.get_checkpoint_path())

    def import_data(self, data: list[TrialRecord]) -> None:
        """Take results of earlier trials (``nnictl experiment import`` and resume); ignored by default.

        Parameters
        ----------
        data
            Records ``{"parameter": <parameters>, "value": <final metric>}``, maybe with ``trialJobId``.
        """

    def _on_exit(self) -> None:
        # Hook: the dispatcher is shutting down normally.
        pass

    def _on_error(self) -> None:
        # Hook: the dispatcher is shutting down because of an error.
        pass
