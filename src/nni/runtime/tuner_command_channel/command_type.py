"""NNI's two-letter dispatcher command codes as an ``Enum`` (``CommandType.RequestTrialJobs.value == 'GE'``)."""

from __future__ import annotations

from enum import Enum

__all__ = ['CommandType']


class CommandType(Enum):
    """Commands between the manager and a tuner/assessor/advisor (the wire codes of spec/dispatcher.md)."""

    # manager -> algorithms
    Initialize = 'IN'
    RequestTrialJobs = 'GE'
    ReportMetricData = 'ME'
    UpdateSearchSpace = 'SS'
    ImportData = 'FD'
    AddCustomizedTrialJob = 'AD'
    TrialEnd = 'EN'
    Terminate = 'TE'
    Ping = 'PI'

    # algorithms -> manager
    Initialized = 'ID'
    NewTrialJob = 'TR'
    SendTrialJobParameter = 'SP'
    NoMoreTrialJobs = 'NO'
    KillTrialJob = 'KI'
    Error = 'ER'
