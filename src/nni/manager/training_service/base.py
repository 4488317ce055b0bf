"""The one small interface every training service implements.

The engine never branches on the platform: it hands a :class:`TrialSpec` to ``submit``, asks
``kill`` to stop a trial, and learns about the end of a trial through the exit callback.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class TrialSpec:
    """Everything a training service needs to start one trial."""

    trial_id: str
    sequence_id: int
    command: str
    code_dir: Path
    #: where the trial's files go (stdout/stderr, trial.log, parameter.cfg, user outputs)
    trial_dir: Path
    #: the packed parameter record, written to ``parameter.cfg`` before launch
    parameter_record: str
    #: variables added to the trial's environment (NNI_* and the channel)
    env: dict[str, str] = field(default_factory=dict)
    #: ``None`` when the config does not set ``trialGpuNumber``
    gpu_number: int | None = None


@dataclass(frozen=True)
class TrialExit:
    """How a trial ended, as the training service saw it."""

    trial_id: str
    #: the exit code, or ``None`` when the process died from a signal
    exit_code: int | None
    #: a short reason for trials that could not start or were lost
    message: str | None = None


class TrainingServiceError(RuntimeError):
    """A training service could not do what was asked (the message says why)."""


ExitCallback = Callable[[TrialExit], None]


class TrainingService(abc.ABC):
    """Start, watch and stop trials on some platform."""

    #: environment id reported in REST records and written into trial paths
    environment_id: str = 'local-env'
    platform: str = 'local'

    def __init__(self) -> None:
        self._on_exit: ExitCallback | None = None

    def set_exit_callback(self, callback: ExitCallback) -> None:
        """Register the function called (on the event loop) once per ended trial."""
        self._on_exit = callback

    def _report_exit(self, trial_exit: TrialExit) -> None:
        if self._on_exit is not None:
            self._on_exit(trial_exit)

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Prepare the platform (detect GPUs, open connections)."""

    @abc.abstractmethod
    def can_start(self, spec: TrialSpec) -> bool:
        """Whether the resources ``spec`` needs (GPUs) are free right now."""

    @abc.abstractmethod
    async def submit(self, spec: TrialSpec) -> int:
        """Start the trial; return its start time in ms. Raise :class:`TrainingServiceError`."""

    @abc.abstractmethod
    async def kill(self, trial_id: str) -> None:
        """Ask the trial to stop (SIGINT, then SIGKILL after a grace period)."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Kill every trial still running and wait until they are gone."""

    @abc.abstractmethod
    def log_path(self, spec: TrialSpec) -> str:
        """The trial's ``logPath`` as the REST API shows it."""
