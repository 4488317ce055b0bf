"""Environment variables that NNI gives to trials and to the dispatcher.

Every value is read from :data:`os.environ` at the moment it is asked for, never cached at import
time: tests, notebooks and launchers may change the environment after ``import nni``.
"""

from __future__ import annotations

import os

__all__ = [
    'TRIAL_ENV_VARS',
    'DISPATCHER_ENV_VARS',
    'trial_env_vars',
    'dispatcher_env_vars',
    'get',
    'platform',
    'experiment_id',
    'trial_job_id',
    'sequence_id',
    'sys_dir',
    'output_dir',
    'command_channel',
    'trial_token',
    'is_multi_phase',
    'is_reuse_mode',
    'is_dispatcher_process',
    'is_standalone',
]

#: Variables read by trial code (spec/trial.md section 1, plus our channel token).
TRIAL_ENV_VARS = (
    'NNI_PLATFORM',
    'NNI_EXP_ID',
    'NNI_TRIAL_JOB_ID',
    'NNI_SYS_DIR',
    'NNI_OUTPUT_DIR',
    'NNI_CODE_DIR',
    'NNI_TRIAL_SEQ_ID',
    'NNI_TRIAL_COMMAND_CHANNEL',
    'NNI_TRIAL_TOKEN',
    'NNI_STANDALONE_PARAMETERS',
    'MULTI_PHASE',
    'REUSE_MODE',
)

#: Variables read by the tuner / assessor process.
DISPATCHER_ENV_VARS = (
    'SDK_PROCESS',
    'NNI_MODE',
    'NNI_CHECKPOINT_DIRECTORY',
    'NNI_LOG_DIRECTORY',
    'NNI_LOG_LEVEL',
    'NNI_INCLUDE_INTERMEDIATE_RESULTS',
    'NNI_TUNER_COMMAND_CHANNEL',
)


class _EnvView:
    """Read-only attribute view of a fixed set of environment variables.

    NNI exposes ``trial_env_vars.NNI_PLATFORM`` and the like as a namedtuple filled at import; this
    view keeps the attribute spelling but reads the live environment (``None`` when unset).
    """

    __slots__ = ('_names',)

    def __init__(self, names: tuple[str, ...]) -> None:
        object.__setattr__(self, '_names', frozenset(names))

    def __getattr__(self, name: str) -> str | None:
        if name in self._names:
            return os.environ.get(name)
        raise AttributeError(f'{name!r} is not one of the environment variables this view exposes')

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError('environment views are read-only; change os.environ instead')

    def __dir__(self) -> list[str]:
        return sorted(self._names)

    def __repr__(self) -> str:
        shown = ', '.join(f'{name}={os.environ.get(name)!r}' for name in sorted(self._names))
        return f'EnvVars({shown})'


trial_env_vars = _EnvView(TRIAL_ENV_VARS)
dispatcher_env_vars = _EnvView(DISPATCHER_ENV_VARS)


def get(name: str) -> str | None:
    """Return the variable's value, treating an empty string like an unset variable.

    Parameters
    ----------
    name
        Name of the environment variable.

    Returns
    -------
    str or None
        The value, or ``None`` when the variable is unset or empty.
    """
    value = os.environ.get(name)
    return value if value else None


def _truthy(name: str) -> bool:
    value = get(name)
    return value is not None and value.strip().lower() in ('1', 'true', 'yes', 'on')


def platform() -> str | None:
    """Training service platform (``NNI_PLATFORM``); ``None`` outside an experiment."""
    return get('NNI_PLATFORM')


def experiment_id() -> str:
    """Experiment id (``NNI_EXP_ID``), ``'STANDALONE'`` outside an experiment."""
    return get('NNI_EXP_ID') or 'STANDALONE'


def trial_job_id() -> str:
    """Trial id (``NNI_TRIAL_JOB_ID``), ``'STANDALONE'`` outside an experiment."""
    return get('NNI_TRIAL_JOB_ID') or 'STANDALONE'


def sequence_id() -> int:
    """Trial sequence number (``NNI_TRIAL_SEQ_ID``), ``0`` when unset or not an integer."""
    value = get('NNI_TRIAL_SEQ_ID')
    if value is None:
        return 0
    try:
        return int(value)
    except ValueError:
        # A malformed value must not break a trial that merely logs its sequence id.
        return 0


def sys_dir() -> str | None:
    """Trial system directory (``NNI_SYS_DIR``): home of ``parameter.cfg`` and ``.nni/metrics``."""
    return get('NNI_SYS_DIR') or get('NNI_OUTPUT_DIR')


def output_dir() -> str | None:
    """Trial output directory (``NNI_OUTPUT_DIR``): home of ``trial.log``."""
    return get('NNI_OUTPUT_DIR') or get('NNI_SYS_DIR')


def command_channel() -> str | None:
    """URL of the trial command channel (``NNI_TRIAL_COMMAND_CHANNEL``)."""
    return get('NNI_TRIAL_COMMAND_CHANNEL')


def trial_token() -> str | None:
    """Secret sent as ``X-NNI-Token`` on every channel request (``NNI_TRIAL_TOKEN``)."""
    return get('NNI_TRIAL_TOKEN')


def is_multi_phase() -> bool:
    """Whether the legacy file channel serves ``parameter_<i>.cfg`` after the first parameters."""
    return _truthy('MULTI_PHASE')


def is_reuse_mode() -> bool:
    """Whether the trial runs in a legacy reusable environment (logs go to stdout)."""
    return _truthy('REUSE_MODE')


def is_dispatcher_process() -> bool:
    """Whether this process hosts a tuner/assessor (``SDK_PROCESS=dispatcher``)."""
    return get('SDK_PROCESS') == 'dispatcher'


def is_standalone() -> bool:
    """Whether the trial code runs outside any experiment (no platform and no channel URL)."""
    return command_channel() is None and platform() in (None, 'unittest')
