"""Command codes of the trial runner channel (two ASCII bytes each)."""

from __future__ import annotations

from enum import Enum

__all__ = ['CommandType']


class CommandType(Enum):
    """NNI's trial-runner commands; values are the bytes on the wire."""

    Initialize = b'IN'
    RequestTrialJobs = b'GE'
    ReportMetricData = b'ME'
    ReportGpuInfo = b'GI'
    UpdateSearchSpace = b'SS'
    ImportData = b'FD'
    AddCustomizedTrialJob = b'AD'
    TrialEnd = b'EN'
    Terminate = b'TE'
    Ping = b'PI'

    Initialized = b'ID'
    NewTrialJob = b'TR'
    SendTrialJobParameter = b'SP'
    NoMoreTrialJobs = b'NO'
    KillTrialJob = b'KI'
    StdOut = b'SO'
    VersionCheck = b'VC'
