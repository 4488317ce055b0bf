"""
Result objects built from the manager's REST answers (``spec/rest.md`` section 3).

They are built with ``Class(**json_object)``, and like NNI's they reject unknown keys (``TypeError``)
except :class:`TrialJob`, which tolerates extra keys such as ``envId``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ['TrialHyperParameters', 'TrialJob', 'TrialMetricData', 'TrialResult']


@dataclass(init=False)
class TrialResult:
    """
    One record of ``GET /export-data``.

    Parameters
    ----------
    parameter
        The trial's hyper-parameters.
    value
        The final metric as a JSON string (e.g. ``'0.93'``); it is decoded once.
    trialJobId
        Trial id.

    Attributes
    ----------
    parameter
        The trial's hyper-parameters.
    value
        The final metric (number or dict).
    trialJobId
        Trial id.
    """

    parameter: dict[str, Any]
    value: Any
    trialJobId: str

    def __init__(self, parameter: dict[str, Any], value: str, trialJobId: str) -> None:
        self.parameter = parameter
        self.value = json.loads(value)
        self.trialJobId = trialJobId


@dataclass(init=False)
class TrialMetricData:
    """
    One metric record (``GET /metric-data``, ``finalMetricData``).

    Parameters
    ----------
    timestamp
        ms when the manager stored it.
    trialJobId
        Trial id.
    parameterId
        Parameter id as the manager returns it (a string such as ``'0'``, or ``None``).
    type
        ``'PERIODICAL'`` or ``'FINAL'``.
    sequence
        Per-trial counter of that kind of report.
    data
        The metric, JSON-encoded twice; it is decoded twice.

    Attributes
    ----------
    data
        The metric (number or dict).
    """

    timestamp: int
    trialJobId: str
    parameterId: str | None
    type: str
    sequence: int
    data: Any

    def __init__(
        self,
        timestamp: int,
        trialJobId: str,
        parameterId: str | None,
        type: str,  # noqa: A002 - the REST field name
        sequence: int,
        data: str,
    ) -> None:
        self.timestamp = timestamp
        self.trialJobId = trialJobId
        self.parameterId = parameterId
        self.type = type
        self.sequence = sequence
        self.data = json.loads(json.loads(data))


@dataclass
class TrialHyperParameters:
    """
    One hyper-parameter record of a trial (each element of ``hyperParameters``, once decoded).

    Attributes
    ----------
    parameter_id
        Id given by the tuner (``None`` for customized trials).
    parameter_source
        ``'algorithm'``, ``'customized'`` or ``'resumed'``.
    parameters
        The hyper-parameters.
    parameter_index
        Index for multi-phase trials (always 0 in NNI 3.0).
    placement_constraint
        Optional placement constraint.
    version_info
        Optional version information.
    """

    parameter_id: int | None
    parameter_source: str
    parameters: dict[str, Any]
    parameter_index: int
    placement_constraint: dict[str, Any] | None = None
    version_info: dict[str, Any] | None = None


@dataclass(init=False)
class TrialJob:
    """
    One trial as returned by ``GET /trial-jobs``.

    Parameters
    ----------
    trialJobId
        Trial id.
    status
        Trial status (``WAITING``, ``RUNNING``, ``SUCCEEDED``, ...).
    startTime
        ms epoch; required.
    sequenceId
        0-based submission order; required.
    logPath
        Trial folder (or ``host:path`` for remote trials).
    endTime
        ms epoch, ``-1`` while running.
    stderrPath
        Path of the stderr file (failed trials only).
    hyperParameters
        JSON strings, each decoded into :class:`TrialHyperParameters`.
    finalMetricData
        Metric records, each turned into :class:`TrialMetricData`.
    message
        Latest event message.
    **kwargs
        Other keys of the REST object (e.g. ``envId``) are accepted and ignored.
    """

    trialJobId: str
    status: str
    hyperParameters: list[TrialHyperParameters] = field(default_factory=list)
    logPath: str = ''
    startTime: int = 0
    endTime: int = -1
    stderrPath: str = ''
    finalMetricData: list[TrialMetricData] = field(default_factory=list)
    sequenceId: int = 0
    message: str = '--'

    def __init__(
        self,
        trialJobId: str,
        status: str,
        startTime: int,
        sequenceId: int,
        logPath: str = '',
        endTime: int = -1,
        stderrPath: str = '',
        hyperParameters: list[str] | None = None,
        finalMetricData: list[dict[str, Any]] | None = None,
        message: str = '--',
        **kwargs: Any,
    ) -> None:
        self.trialJobId = trialJobId
        self.status = status
        self.hyperParameters = [TrialHyperParameters(**json.loads(hp)) for hp in hyperParameters or []]
        self.logPath = logPath
        self.startTime = startTime
        self.endTime = endTime
        self.stderrPath = stderrPath
        self.finalMetricData = [TrialMetricData(**m) for m in finalMetricData or []]
        self.sequenceId = sequenceId
        self.message = message
