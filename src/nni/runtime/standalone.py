"""Standalone mode: trial code run by hand, outside any experiment.

``get_next_parameter`` warns and returns ``{}``, as NNI does, unless ``NNI_STANDALONE_PARAMETERS``
supplies parameters to try (our extension): either a JSON object, or the path of a JSON file
holding one (a trial's ``parameter.cfg`` works too). Results are logged to the ``nni`` logger at
INFO; nothing is sent anywhere.
"""

from __future__ import annotations

from nni.runtime.trial_command_channel.base import TrialCommandChannel

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ['StandaloneTrialCommandChannel', 'standalone_parameters']

_WARNING = (
    'Running trial code without runtime. nni.get_next_parameter() returns {} because this process was '
    'not started by an NNI experiment; set NNI_STANDALONE_PARAMETERS to a JSON object (or a JSON file) '
    'to try specific parameters.'
)


def standalone_parameters() -> dict[str, Any] | None:
    """Parameters given by ``NNI_STANDALONE_PARAMETERS``, or ``None`` when it is unset.

    Returns
    -------
    dict or None
        The parameters. A parameter record (an object with ``"parameter_id"`` and ``"parameters"``,
        like a trial's ``parameter.cfg``) yields its ``"parameters"``.

    Raises
    ------
    ValueError
        The variable is set but does not lead to a JSON object.
    """
    import os

    from nni.runtime import env_vars

    raw = env_vars.get('NNI_STANDALONE_PARAMETERS')
    if raw is None:
        return None
    import json

    text = raw.strip()
    source = 'NNI_STANDALONE_PARAMETERS'
    if not text.startswith('{'):
        path = os.path.expanduser(text)
        source = f'NNI_STANDALONE_PARAMETERS file {path}'
        try:
            with open(path, encoding='utf-8') as file:
                text = file.read()
        except OSError as exc:
            raise ValueError(f'NNI_STANDALONE_PARAMETERS is neither a JSON object nor a readable file: {exc}') \
                from None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ValueError(f'{source} is not valid JSON: {exc}') from None
    if isinstance(value, dict) and 'parameters' in value and 'parameter_id' in value:
        value = value['parameters']
    if not isinstance(value, dict):
        raise ValueError(f'{source} must hold a JSON object of parameters, got {type(value).__name__}')
    return value


class StandaloneTrialCommandChannel(TrialCommandChannel):
    """Channel used when no experiment runs the trial: parameters from the user, results to the log."""

    def receive_parameter(self) -> dict[str, Any] | None:
        parameters = standalone_parameters()
        if parameters is None:
            import warnings

            # stacklevel 3 points at the user's call: receive_parameter <- nni.get_next_parameter <- user
            warnings.warn(_WARNING, RuntimeWarning, stacklevel=3)
            parameters = {}
        return {'parameter_id': None, 'parameters': parameters}

    def send_metric(self, type: str, parameter_id: Any, trial_job_id: str | None, sequence: int,
                    value: Any) -> None:
        import logging

        from nni.runtime import log

        log.setup_standalone_logging()
        logger = logging.getLogger(log.LOGGER_NAME)
        if type == 'PERIODICAL':
            logger.info('Intermediate result: %s  (Index %s)', value, sequence)
        else:
            logger.info('Final result: %s', value)
