"""Validation and encoding of trial metrics.

A metric is what ``nni.report_intermediate_result`` / ``nni.report_final_result`` receive: a number,
or a dict whose ``'default'`` key holds a number (other keys are extra information shown in the
web portal). Checking this in the trial, where the user can see the traceback, beats NNI's
behaviour of accepting anything and failing later inside the tuner.

NumPy (and similar) scalars are accepted without importing NumPy: anything with ``__index__`` is an
integer, anything else with ``__float__`` is a float.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ['MAX_METRIC_BYTES', 'normalize_metric', 'encode_value', 'encode_envelope']

#: The legacy metrics file frames each record with a 6-digit length, so a record (envelope JSON plus
#: newline) must stay below one million bytes. The limit applies to every channel, so that a metric
#: accepted over HTTP can always be written to the fallback file too.
MAX_METRIC_BYTES = 999_999

_ALLOWED = (
    "a metric must be a number (int or float; NumPy scalars are fine) "
    "or a dict whose 'default' key holds such a number (other keys are extra information)"
)


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + '...'
    return f'{text} (type {type(value).__module__}.{type(value).__qualname__})'.replace('builtins.', '')


def _as_number(value: Any) -> int | float | None:
    """Return ``value`` as a plain ``int``/``float``, or ``None`` if it is not a number."""
    if isinstance(value, bool):
        # JSON ``true`` would reach tuners as a bool; 1/0 is what they can rank.
        return int(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (str, bytes, bytearray, complex)):
        return None
    cls = type(value)
    if cls.__module__ == 'numpy' and cls.__name__ in ('bool', 'bool_'):
        return int(bool(value))
    if getattr(cls, '__index__', None) is not None:
        try:
            return int(cls.__index__(value))
        except TypeError:
            pass  # e.g. a float 0-d array: has __index__ but refuses it; try __float__ below
    if getattr(cls, '__float__', None) is not None:
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    return None


def _json_ready(value: Any, where: str, api: str) -> Any:
    """Convert an extra-information value to plain JSON types, or raise ``TypeError``."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if isinstance(key, bool) or not isinstance(key, (str, int, float)):
                raise TypeError(
                    f'{api}() got a metric with key {key!r} at {where}; dict keys must be strings'
                )
            out[key if isinstance(key, str) else str(key)] = _json_ready(item, f'{where}[{key!r}]', api)
        return out
    if isinstance(value, (list, tuple)):
        return [_json_ready(item, f'{where}[{i}]', api) for i, item in enumerate(value)]
    number = _as_number(value)
    if number is not None:
        return number
    tolist = getattr(value, 'tolist', None)
    if callable(tolist):
        # NumPy arrays (and tensors) become nested lists, like the values a portal can show.
        return _json_ready(tolist(), where, api)
    raise TypeError(
        f'{api}() got a metric whose {where} is {_describe(value)}, which cannot be stored as JSON; '
        'extra values may be numbers, strings, booleans, None, lists or dicts'
    )


def normalize_metric(metric: Any, api: str = 'report_final_result') -> int | float | dict[str, Any]:
    """Check a metric and return it made of plain Python JSON types.

    Parameters
    ----------
    metric
        What the user reported.
    api
        Name of the reporting function, used in error messages.

    Returns
    -------
    int, float or dict
        The number (NumPy scalars converted), or a copy of the dict with every value converted.

    Raises
    ------
    TypeError
        The metric is neither a number nor a dict, its ``'default'`` is not a number, or an extra value
        cannot be represented in JSON.
    ValueError
        The metric is a dict without a ``'default'`` key.
    """
    if isinstance(metric, dict):
        if 'default' not in metric:
            keys = ', '.join(repr(key) for key in list(metric)[:10]) or 'none'
            raise ValueError(
                f"{api}() got a dict without a 'default' key (keys: {keys}); {_ALLOWED}"
            )
        default = _as_number(metric['default'])
        if default is None:
            raise TypeError(
                f"{api}() got a dict whose 'default' is {_describe(metric['default'])}; {_ALLOWED}"
            )
        out = _json_ready(metric, 'metric', api)
        out['default'] = default
        return out
    number = _as_number(metric)
    if number is None:
        raise TypeError(f'{api}() got {_describe(metric)}; {_ALLOWED}')
    return number


def encode_value(value: Any) -> str:
    """JSON text of a normalized metric; NaN and infinities become ``NaN``/``Infinity`` tokens."""
    from nni.runtime.lean_json import dumps

    return dumps(value)


def encode_envelope(
    type: str,
    parameter_id: Any,
    trial_job_id: str | None,
    sequence: int,
    value: Any,
) -> str:
    """JSON text of the metric envelope that the manager stores verbatim.

    Parameters
    ----------
    type
        ``'PERIODICAL'`` or ``'FINAL'``.
    parameter_id
        Id of the parameter record the metric belongs to (``None`` for customized trials).
    trial_job_id
        Trial id.
    sequence
        Index of an intermediate result (0, 1, 2, ...); 0 for the final result.
    value
        A normalized metric (see :func:`normalize_metric`); it is double-encoded as NNI does.

    Returns
    -------
    str
        The envelope JSON, e.g.
        ``{"parameter_id": 0, "trial_job_id": "Ab3xZ", "type": "FINAL", "sequence": 0, "value": "0.9"}``.

    Raises
    ------
    ValueError
        The encoded record would not fit the legacy metrics-file framing (see :data:`MAX_METRIC_BYTES`).
    """
    from nni.runtime.lean_json import dumps

    envelope = dumps(
        {
            'parameter_id': parameter_id,
            'trial_job_id': trial_job_id,
            'type': type,
            'sequence': sequence,
            'value': encode_value(value),
        }
    )
    size = len(envelope.encode('utf-8')) + 1  # + the newline of the file framing
    if size > MAX_METRIC_BYTES:
        raise ValueError(
            f'metric too large: its record takes {size} bytes, the limit is {MAX_METRIC_BYTES} bytes; '
            'report the main number and a few extra values, and save bulky data to a file in NNI_OUTPUT_DIR'
        )
    return envelope
