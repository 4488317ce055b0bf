"""The trial API: how trial code gets its hyper-parameters and reports results.

Importing this module costs next to nothing: the channel to the manager, JSON, HTTP and logging are
loaded at the first call that needs them.
"""

from __future__ import annotations

import _thread

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    'get_next_parameter',
    'get_next_parameters',
    'get_parameters',
    'get_current_parameter',
    'report_intermediate_result',
    'report_final_result',
    'get_experiment_id',
    'get_trial_id',
    'get_sequence_id',
]

# The parameter record last received, and the index of the next intermediate result. A lock keeps
# sequence numbers unique when several threads report (e.g. a training loop and a validation thread).
_params: dict[str, Any] | None = None
_intermediate_seq = 0
_lock = _thread.allocate_lock()


def _channel() -> Any:
    from nni.runtime.trial_command_channel import get_default_trial_command_channel

    return get_default_trial_command_channel()


def get_next_parameter() -> Any:
    """Get the hyper-parameters the tuner chose for this trial.

    Under an experiment the first call returns the trial's parameters (read from the trial
    directory, no round trip to the manager) and later calls return ``None``. Outside an experiment
    it warns and returns ``{}``, or the parameters given in ``NNI_STANDALONE_PARAMETERS``.

    Returns
    -------
    dict or None
        The parameters, e.g. ``{"lr": 0.01, "batch_size": 64}``; ``None`` when no more parameters
        will come.

    Raises
    ------
    OSError
        The parameters had to be requested from the manager, which could not be reached.
    """
    global _params
    record = _channel().receive_parameter()
    if record is None:
        return None
    with _lock:
        _params = record
    return record['parameters']


#: Alias of :func:`get_next_parameter`.
get_next_parameters = get_next_parameter
#: Older alias of :func:`get_next_parameter`, from NNI 1.x documentation.
get_parameters = get_next_parameter


def get_current_parameter(tag: str | None = None) -> Any:
    """Return the parameters received by the last :func:`get_next_parameter` call.

    Parameters
    ----------
    tag
        A parameter name; when given, only that parameter's value is returned.

    Returns
    -------
    Any
        ``None`` if no parameters were received yet; else the whole parameters dict, or the value of
        ``tag``.

    Raises
    ------
    KeyError
        ``tag`` is not a parameter of this trial.
    """
    params = _params
    if params is None:
        return None
    if tag is None:
        return params['parameters']
    return params['parameters'][tag]


def _require_parameters(api: str) -> None:
    from nni.runtime import env_vars

    if _params is None and (env_vars.platform() is not None or env_vars.command_channel() is not None):
        # NNI's check, raised explicitly so that ``python -O`` keeps it.
        raise AssertionError(f'nni.get_next_parameter() needs to be called before {api}')


def report_intermediate_result(metric: Any) -> None:
    """Report an intermediate result (e.g. per-epoch accuracy), seen by assessors and the portal.

    Parameters
    ----------
    metric
        A number (int, float, NumPy scalar), or a dict whose ``'default'`` key holds the number and
        whose other keys are extra information. NaN and infinities are allowed.

    Raises
    ------
    TypeError, ValueError
        The metric is not of an accepted form (the message says what was given).
    AssertionError
        Under an experiment, :func:`get_next_parameter` was not called yet.
    OSError
        The metric could reach neither the manager nor the trial's metrics file.
    """
    global _intermediate_seq
    from nni.runtime.metric import normalize_metric

    _require_parameters('report_intermediate_result')
    value = normalize_metric(metric, 'nni.report_intermediate_result')
    from nni.runtime import env_vars

    channel = _channel()
    with _lock:
        params = _params
        channel.send_metric(
            type='PERIODICAL',
            parameter_id=params['parameter_id'] if params else None,
            trial_job_id=env_vars.trial_job_id(),
            sequence=_intermediate_seq,
            value=value,
        )
        _intermediate_seq += 1


def report_final_result(metric: Any) -> None:
    """Report the final result of this trial, the number the tuner optimizes.

    Parameters
    ----------
    metric
        A number (int, float, NumPy scalar), or a dict whose ``'default'`` key holds the number and
        whose other keys are extra information. NaN and infinities are allowed. As in NNI, a list
        or an array (anything with ``tolist()``) is accepted too, for custom tuners; it is sent
        as a JSON list.

    Raises
    ------
    TypeError, ValueError
        The metric is not of an accepted form (the message says what was given).
    AssertionError
        Under an experiment, :func:`get_next_parameter` was not called yet.
    OSError
        The metric could reach neither the manager nor the trial's metrics file.
    """
    _require_parameters('report_final_result')
    value = _final_value(metric)
    from nni.runtime import env_vars

    channel = _channel()
    with _lock:
        params = _params
        channel.send_metric(
            type='FINAL',
            parameter_id=params['parameter_id'] if params else None,
            trial_job_id=env_vars.trial_job_id(),
            sequence=0,
            value=value,
        )


def _final_value(metric: Any) -> Any:
    """A final metric made of plain JSON types: a number or dict as checked by ``normalize_metric``,
    or (NNI accepts them) a list, tuple or array, converted without importing numpy."""
    from nni.runtime.metric import _json_ready, normalize_metric

    api = 'nni.report_final_result'
    if isinstance(metric, (list, tuple)):
        return _json_ready(metric, 'metric', api)
    tolist = getattr(metric, 'tolist', None)
    if callable(tolist) and getattr(metric, 'ndim', 0):  # an array, not a NumPy scalar
        return _json_ready(tolist(), 'metric', api)
    return normalize_metric(metric, api)


def overwrite_intermediate_seq(value: int) -> None:
    """Set the sequence number the next intermediate result gets (NNI's test and resume hook).

    Parameters
    ----------
    value
        The next ``sequence`` of :func:`report_intermediate_result`.
    """
    global _intermediate_seq
    with _lock:
        _intermediate_seq = int(value)


def get_experiment_id() -> str:
    """Return the experiment id (``NNI_EXP_ID``), or ``'STANDALONE'`` outside an experiment."""
    from nni.runtime import env_vars

    return env_vars.experiment_id()


def get_trial_id() -> str:
    """Return this trial's id (``NNI_TRIAL_JOB_ID``), or ``'STANDALONE'`` outside an experiment."""
    from nni.runtime import env_vars

    return env_vars.trial_job_id()


def get_sequence_id() -> int:
    """Return this trial's sequence number in the experiment (``NNI_TRIAL_SEQ_ID``), ``0`` if unknown."""
    from nni.runtime import env_vars

    return env_vars.sequence_id()


def _reset() -> None:
    """Forget received parameters, the result counter and the channel (tests, embedding)."""
    global _params, _intermediate_seq
    import sys

    with _lock:
        _params = None
        _intermediate_seq = 0
    channels = sys.modules.get('nni.runtime.trial_command_channel')
    if channels is not None:
        channels.set_default_trial_command_channel(None)
    log = sys.modules.get('nni.runtime.log')
    if log is not None:
        log.teardown()
