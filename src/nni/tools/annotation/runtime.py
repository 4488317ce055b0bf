"""
What annotated trial code calls once rewritten (see :mod:`nni.tools.annotation.rewriter`).

Imported by trials, so it uses the standard library only and imports :mod:`nni` lazily. The trial's
parameters are fetched once per process with :func:`nni.get_next_parameter` and shared by every rewritten
module. A parameter the tuner did not set (e.g. the code runs outside an experiment) falls back to the value
the original code assigned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ['choice', 'get_next_parameter', 'report_final_result', 'report_intermediate_result', 'variable']

_parameters: dict[str, Any] | None = None


def get_next_parameter() -> dict[str, Any]:
    """
    The trial's parameters (fetched on the first call, then cached).

    Returns
    -------
    dict
        Parameter name -> value; empty outside an experiment.
    """
    global _parameters
    if _parameters is None:
        import nni

        received = nni.get_next_parameter()
        _parameters = dict(received) if isinstance(received, Mapping) else {}
    return _parameters


def variable(name: str, default: Callable[[], Any]) -> Any:
    """
    Value of an ``@nni.variable`` parameter.

    Parameters
    ----------
    name
        Parameter name.
    default
        Computes the value the original code assigned; used when the tuner gave none.
    """
    parameters = get_next_parameter()
    return parameters[name] if name in parameters else default()


def choice(name: str, options: Mapping[str, Callable[[], Any]], default: Callable[[], Any]) -> Any:
    """
    Value of a choice among expressions (``@nni.function_choice``, or ``nni.choice`` of non-literals).

    Parameters
    ----------
    name
        Parameter name.
    options
        Source text of each option -> computes that option. The tuner chooses a source text.
    default
        Computes the original statement's value; used when the tuner gave none.

    Raises
    ------
    ValueError
        The tuner chose something that is not one of the options.
    """
    parameters = get_next_parameter()
    if name not in parameters:
        return default()
    chosen = parameters[name]
    if chosen not in options:
        raise ValueError(f'parameter {name!r} is {chosen!r}, which is not one of the annotated options '
                         f'{list(options)}')
    return options[chosen]()


def report_intermediate_result(metric: Any) -> None:
    """``@nni.report_intermediate_result``: the parameters are fetched first, as NNI requires."""
    import nni

    get_next_parameter()
    nni.report_intermediate_result(metric)


def report_final_result(metric: Any) -> None:
    """``@nni.report_final_result``: the parameters are fetched first, as NNI requires."""
    import nni

    get_next_parameter()
    nni.report_final_result(metric)
