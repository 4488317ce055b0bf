"""The one small interface every training service implements.

The engine never branches on the platform: it hands a :class:`TrialSpec` to ``submit``, asks
``kill`` to stop a trial, and learns about the end of a trial through the exit callback.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: a JSON-serialisable description of one running trial attempt (a local pid and its start
#: time, a remote machine and pid, a Slurm job id) that lets a later manager find it again
TrialHandle = dict[str, Any]

#: written by every platform's trial wrapper when the trial command ends, relative to the
#: trial directory: the exit code as decimal text, so a manager that was not watching when the
#: trial ended (crash, restart) still learns how it ended
EXIT_CODE_FILE = '.nni/exitcode'


def append_stderr_note(trial_dir: Path, text: str) -> None:
    """Append the manager's note on a trial (why it could not start, was lost, ...) to its stderr file."""
    try:
        trial_dir.mkdir(parents=True, exist_ok=True)
        with open(trial_dir / 'trial.stderr', 'a', encoding='utf-8') as stderr:
            stderr.write(text)
    except OSError:
        logging.getLogger('nni.manager').exception('cannot write to the stderr file in %s', trial_dir)


def read_exit_code(trial_dir: Path) -> int | None:
    """The exit code a trial wrapper left in ``trial_dir``; ``None`` when there is none (yet)."""
    try:
        text = (trial_dir / EXIT_CODE_FILE).read_text(encoding='ascii').strip()
    except (OSError, UnicodeDecodeError):
        return None
    try:
        return int(text)
    except ValueError:
        return None


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
    #: 0 for a trial's first run; a trial that must run again (its earlier attempt was lost)
    #: gets the next number, and its metrics never mix with the earlier attempt's
    attempt: int = 0


@dataclass(frozen=True)
class TrialExit:
    """How a trial ended, as the training service saw it."""

    trial_id: str
    #: the exit code, or ``None`` when the process died from a signal
    exit_code: int | None
    #: a short reason for trials that could not start or were lost
    message: str | None = None
    #: the attempt ended without a result of its own (stopped for want of a manager, vanished with
    #: its machine or supervisor): a resumed engine runs the trial again as a new attempt instead
    #: of counting this end. Only :meth:`TrainingService.reattach` sets it.
    lost: bool = False


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

    def set_status_callback(self, callback: Callable[[str, str, int], None]) -> None:  # noqa: B027
        """Be told ``(trial_id, 'WAITING' | 'RUNNING', time_ms)`` when a submitted trial waits in a
        platform's queue or starts running there (Slurm); platforms that start trials at once
        never call it."""

    def set_exit_callback(self, callback: ExitCallback) -> None:
        """Register the function called (on the event loop) once per ended trial."""
        self._on_exit = callback

    def _report_exit(self, trial_exit: TrialExit) -> None:
        if self._on_exit is not None:
            self._on_exit(trial_exit)

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Prepare the platform (detect GPUs, open connections)."""

    def expect_trials(self, command: str, code_dir: Path, env: dict[str, str]) -> None:  # noqa: B027
        """Optional hint: the command, code directory and environment (the part every trial shares) that
        the coming trials will have."""

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

    # ------------------------------------------------------------------ reattach contract
    #
    # A trial outlives a manager crash. Right after ``submit`` returns, the engine asks for the
    # attempt's handle and commits it to the store before it acknowledges the start; a resumed
    # manager gives every unfinished trial's handle back to ``reattach`` instead of running the
    # trial again under the same id.

    def trial_handle(self, trial_id: str) -> TrialHandle | None:
        """How a later manager can find the running trial ``trial_id`` again (``None``: it can't)."""
        return None

    async def reattach(self, spec: TrialSpec, handle: TrialHandle) -> TrialExit | None:
        """Take over a trial attempt that an earlier manager started.

        Returns ``None`` when the attempt is still running: the service owns it from now on
        (kill, stop and the exit callback work as for a trial it submitted itself). Returns a
        :class:`TrialExit` when the attempt ended while no manager watched it (the exit code
        from :data:`EXIT_CODE_FILE`, or ``None`` with a message when it is unknown).
        """
        code = read_exit_code(spec.trial_dir)
        return TrialExit(spec.trial_id, code, f'{self.platform} trials cannot be reattached after a manager restart',
                         lost=code is None)
