"""What the Slurm training service says to Slurm and how it reads the answers.

Pure functions, no I/O: the batch script of a trial, the ``sbatch`` options of a config, the
``squeue`` format and its parsing, and the meaning of Slurm's job states for NNI.
"""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass
from typing import Any

from .base import EXIT_CODE_FILE

#: the squeue output of one poll: job id, state, raw wait status, comment, reason
SQUEUE_FORMAT = 'JobID:|,State:|,exit_code:|,Comment:|,Reason:'

#: states of a job that waits for resources (NNI: WAITING)
WAITING_STATES = frozenset({
    'PENDING', 'CONFIGURING', 'REQUEUED', 'REQUEUE_FED', 'REQUEUE_HOLD', 'RESV_DEL_HOLD', 'RESIZING',
})
#: states of a job whose trial runs, or is being torn down (NNI: RUNNING)
RUNNING_STATES = frozenset({'RUNNING', 'COMPLETING', 'SUSPENDED', 'STOPPED', 'SIGNALING', 'STAGE_OUT'})
#: states of a job that ended and will not run again
FINAL_STATES = frozenset({
    'COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PREEMPTED', 'BOOT_FAIL',
    'DEADLINE', 'SPECIAL_EXIT', 'REVOKED',
})

#: why a job that ended in these states failed, whatever its exit code says
_FAILURE_REASONS = {
    'TIMEOUT': 'hit its time limit{limit} and was stopped by Slurm',
    'NODE_FAIL': 'was lost: its node failed',
    'OUT_OF_MEMORY': 'ran out of memory{memory} and was killed by Slurm',
    'PREEMPTED': 'was preempted by Slurm',
    'BOOT_FAIL': 'could not start: its node failed to boot',
    'DEADLINE': 'reached its deadline and was stopped by Slurm',
    'SPECIAL_EXIT': 'ended in a special exit state',
    'REVOKED': 'was revoked (federated cluster)',
}


def job_name(experiment_id: str) -> str:
    """The name every job of an experiment gets: one ``squeue --name`` finds them all."""
    return f'nni-{experiment_id}'


def job_comment(experiment_id: str, trial_id: str, attempt: int) -> str:
    """The comment of a trial's job, naming the trial (and attempt) the job runs."""
    return f'nni:{experiment_id}:{trial_id}:{attempt}'


def comment_trial(comment: str, experiment_id: str) -> tuple[str, int] | None:
    """``(trial_id, attempt)`` from a comment written by :func:`job_comment` for this experiment."""
    parts = comment.split(':')
    if len(parts) != 4 or parts[0] != 'nni' or parts[1] != experiment_id:
        return None
    try:
        return parts[2], int(parts[3])
    except ValueError:
        return None


def slurm_time(seconds: int) -> str:
    """``--time`` value: ``D-HH:MM:SS`` (Slurm keeps whole minutes and rounds up)."""
    minutes = max(1, math.ceil(seconds / 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    return f'{days}-{hours:02d}:{minutes:02d}:00'


def sbatch_options(config: dict[str, Any], gpu_number: int | None) -> list[str]:
    """The resource options of one trial's job, from the camelCase ``trainingService`` config."""
    from nni.experiment.config.utils.public import parse_memory_size, parse_time

    options: list[str] = []
    for key, option in (('partition', '--partition'), ('account', '--account'), ('qos', '--qos')):
        if config.get(key):
            options.append(f'{option}={config[key]}')
    if config.get('timeLimit') is not None:
        options.append(f'--time={slurm_time(parse_time(config["timeLimit"]))}')
    if config.get('cpusPerTrial'):
        options.append(f'--cpus-per-task={int(config["cpusPerTrial"])}')
    if config.get('memoryPerTrial') is not None:
        options.append(f'--mem={parse_memory_size(config["memoryPerTrial"])}M')
    gpus = config.get('gpusPerTrial')
    if gpus is None:
        gpus = gpu_number
    if gpus:
        options.append(f'--gres=gpu:{int(gpus)}')
    options.extend(str(option) for option in config.get('sbatchOptions') or [])
    return options


def batch_script(*, trial_id: str, attempt: int, experiment_id: str, trial_dir: str, code_dir: str,
                 command: str, env: dict[str, str], prologue: list[str], python_path: str | None,
                 unset: tuple[str, ...] = ()) -> str:
    """The batch script of one trial: prologue, environment, ``cd`` to the code, the trial, exit code.

    The trial command runs in its own ``bash -c`` so that whatever it does (``exit 3``, ``set -e``)
    the script still writes the exit code file, which tells a manager that was not watching how
    the trial ended. A ``TERM`` from Slurm (``scancel``, time limit) reaches the trial too; the
    script waits for it and records its exit code before Slurm's ``KILL``.
    """
    quote = shlex.quote
    exit_file = f'{trial_dir}/{EXIT_CODE_FILE}'
    lines = [
        '#!/bin/bash',
        f'# NNI trial {trial_id} (attempt {attempt}) of experiment {experiment_id}; written by nni, run by sbatch',
        f'nni_exit_file={quote(exit_file)}',
        'rm -f "$nni_exit_file"  # a requeued job starts again without the last run\'s ending',
        f'mkdir -p {quote(trial_dir + "/.nni")}',
        'trap \'nni_terminated=1\' TERM  # wait for the trial (it gets the TERM too) and record its end',
    ]
    if prologue:
        lines.append('# prologue (trainingService.prologue)')
        lines.extend(prologue)
    lines.append('# the trial\'s environment')
    for name in sorted(env):
        lines.append(f'export {name}={quote(env[name])}')
    for name in unset:
        lines.append(f'unset {name}')
    if python_path:
        lines.append(f'export PATH={quote(python_path)}:"$PATH"')
    lines += [
        f'if ! cd {quote(code_dir)}; then',
        f'  echo "nni: cannot enter the trial code directory {code_dir} on $(hostname)" >&2',
        '  echo 1 > "$nni_exit_file.tmp" && mv -f "$nni_exit_file.tmp" "$nni_exit_file"',
        '  exit 1',
        'fi',
        f'/bin/bash -c {quote(command)}',
        'nni_code=$?',
        'echo "$nni_code" > "$nni_exit_file.tmp" && mv -f "$nni_exit_file.tmp" "$nni_exit_file"',
        'exit "$nni_code"',
        '',
    ]
    return '\n'.join(lines)


@dataclass(frozen=True)
class JobStatus:
    """One line of the poll's ``squeue``."""

    job_id: str
    state: str
    #: the raw wait status Slurm records (exit code << 8 | signal); None while unknown
    wait_status: int | None
    comment: str
    reason: str

    @property
    def exit_code(self) -> int | None:
        """The batch script's exit code; None when it died from a signal or has not ended."""
        if self.wait_status is None or self.wait_status & 0x7F:
            return None
        return self.wait_status >> 8


def parse_squeue(text: str) -> dict[str, JobStatus]:
    """Job id -> status, from output in :data:`SQUEUE_FORMAT` (lines that do not parse are skipped)."""
    jobs: dict[str, JobStatus] = {}
    for line in text.splitlines():
        parts = line.strip().split('|', 4)
        if len(parts) < 5 or not parts[0]:
            continue
        job_id, state, wait_text, comment, reason = (part.strip() for part in parts)
        try:
            wait_status: int | None = int(wait_text)
        except ValueError:
            wait_status = None
        # "CANCELLED by 0" in some versions' long form: the first word is the state
        state = state.split()[0] if state else ''
        jobs[job_id] = JobStatus(job_id, state, wait_status, '' if comment == '(null)' else comment, reason)
    return jobs


def parse_sacct(text: str) -> dict[str, JobStatus]:
    """Job id -> status from ``sacct -n -P -X -o JobID,State,ExitCode``; job steps are skipped."""
    jobs: dict[str, JobStatus] = {}
    for line in text.splitlines():
        parts = line.strip().split('|')
        if len(parts) < 3 or not parts[0] or '.' in parts[0]:
            continue
        job_id, state, exit_text = parts[0], parts[1].split()[0] if parts[1] else '', parts[2]
        code, _, signal = exit_text.partition(':')
        try:
            wait_status: int | None = (int(code) << 8) | int(signal or 0)
        except ValueError:
            wait_status = None
        jobs[job_id] = JobStatus(job_id, state, wait_status, '', '')
    return jobs


def failure_message(job_id: str, state: str, reason: str, *, time_limit: str | None = None,
                    memory: str | None = None) -> str | None:
    """Why a job that ended in ``state`` failed, in words; None when its exit code says enough."""
    template = _FAILURE_REASONS.get(state)
    if template is not None:
        text = template.format(limit=f' ({time_limit})' if time_limit else '',
                               memory=f' (memoryPerTrial {memory})' if memory else '')
        return f'Slurm job {job_id} {text}'
    if state == 'CANCELLED':
        return f'Slurm job {job_id} was cancelled (scancel)'
    if state == 'FAILED' and reason and reason not in ('None', 'NonZeroExitCode'):
        return f'Slurm job {job_id} failed: {reason}'
    return None


def is_failure_state(state: str) -> bool:
    """Whether a job in this final state failed no matter what exit code it left."""
    return state in _FAILURE_REASONS or state == 'CANCELLED'


__all__ = [
    'FINAL_STATES', 'JobStatus', 'RUNNING_STATES', 'SQUEUE_FORMAT', 'WAITING_STATES', 'batch_script',
    'comment_trial', 'failure_message', 'is_failure_state', 'job_comment', 'job_name', 'parse_sacct',
    'parse_squeue', 'sbatch_options', 'slurm_time',
]
