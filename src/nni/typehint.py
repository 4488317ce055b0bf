"""Types for static checking of code written against NNI (``nni.typehint``).

Only the standard library's ``typing`` is used, so importing this module stays light.
"""

from __future__ import annotations

import sys
from typing import Any, Literal, Optional, TypedDict

if sys.version_info >= (3, 11):
    from typing import NotRequired
else:  # pragma: no cover - Python 3.10
    try:
        from typing_extensions import NotRequired
    except ImportError:
        NotRequired = Optional  # type: ignore[assignment,misc]

__all__ = ['Parameters', 'SearchSpace', 'TrialMetric', 'TrialRecord', 'ParameterRecord']

#: What :func:`nni.get_next_parameter` returns: for builtin tuners, one value per search-space key.
Parameters = dict[str, Any]


class _ParameterSearchSpace(TypedDict):
    _type: Literal['choice', 'randint', 'uniform', 'loguniform', 'quniform', 'qloguniform',
                   'normal', 'lognormal', 'qnormal', 'qlognormal']
    _value: list[Any]


#: Type of ``experiment.config.search_space``.
SearchSpace = dict[str, _ParameterSearchSpace]

#: What ``report_final_result``/``report_intermediate_result`` take: a number for builtin tuners.
TrialMetric = float


class TrialRecord(TypedDict):
    """One earlier result, as ``Tuner.import_data`` receives it."""

    parameter: Parameters
    value: TrialMetric


class ParameterRecord(TypedDict):
    """The packed parameters the dispatcher sends and a trial receives (``parameter.cfg``)."""

    parameter_id: int | None
    parameters: Parameters
    parameter_source: NotRequired[Literal['algorithm', 'customized', 'resumed']]
    parameter_index: NotRequired[int]
    trial_job_id: NotRequired[str]
    version_info: NotRequired[dict]
