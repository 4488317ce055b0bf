"""
How ``nnictl`` finds experiments: the manifest, id resolution, liveness, and REST calls to a manager.

Id resolution follows NNI (``spec/nnictl.md`` section 0.5): an explicit id must be in the manifest; without
one, the single experiment that is not ``STOPPED`` is used. Unlike NNI, REST calls honour the experiment's
URL prefix and send its token, so experiments created with ``--url_prefix`` (or bound beyond loopback) can be
managed too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nni.experiment import rest
from nni.experiment.manifest import Experiments, pid_alive, sweep_dead_experiments

from .errors import CliError
from .output import format_ms

__all__ = [
    'ExperimentRef',
    'NOT_RUNNING',
    'REST_NOT_RUNNING',
    'experiment_block',
    'lookup',
    'refresh',
    'resolve',
]

NOT_RUNNING = 'Experiment is not running...'
REST_NOT_RUNNING = 'Restful server is not running...'
_SET_ID = 'Please set correct experiment id.'

#: Seconds for the liveness probe (NNI's "quick check" used 5 s).
PROBE_TIMEOUT = 5.0


def default_working_directory() -> Path:
    """``~/nni-experiments``, the default experiment working directory."""
    return Path.home() / 'nni-experiments'


@dataclass
class ExperimentRef:
    """
    One experiment of the manifest, with what commands need to reach it.

    Attributes
    ----------
    id
        Experiment id.
    entry
        The manifest entry (``port``, ``status``, ``pid``, ``logDir``, ``prefixUrl``, ...).
    """

    id: str
    entry: dict[str, Any]

    @property
    def status(self) -> str:
        """Manifest status (``STOPPED`` once the manager is gone)."""
        return str(self.entry.get('status', 'UNKNOWN'))

    @property
    def port(self) -> int | None:
        """REST / portal port, when the manifest has one."""
        port = self.entry.get('port')
        return int(port) if isinstance(port, int) or (isinstance(port, str) and port.isdigit()) else None

    @property
    def prefix(self) -> str | None:
        """URL prefix, or ``None``."""
        prefix = self.entry.get('prefixUrl')
        return prefix.strip('/') or None if isinstance(prefix, str) else None

    @property
    def working_directory(self) -> Path:
        """The experiment working directory (the folder holding ``<id>/``)."""
        log_dir = self.entry.get('logDir')
        return Path(log_dir).expanduser() if log_dir else default_working_directory()

    @property
    def root(self) -> Path:
        """The experiment's own folder, ``<working directory>/<id>``."""
        return self.working_directory / self.id

    @property
    def db_path(self) -> Path:
        """``<root>/db/nni.sqlite``."""
        return self.root / 'db' / 'nni.sqlite'

    @property
    def stopped(self) -> bool:
        """Whether the manifest says ``STOPPED``."""
        return self.status == 'STOPPED'

    def pid_alive(self) -> bool:
        """Whether the recorded manager process still runs."""
        return pid_alive(self.entry.get('pid'))

    def token(self) -> str | None:
        """The experiment's secret, needed by managers bound beyond loopback for mutating calls."""
        from nni.experiment.launcher import read_token

        return read_token(self.working_directory, self.id)

    def request(self, method: str, api: str, data: Any = None, *, timeout: float = rest.TIMEOUT) -> Any:
        """
        One REST call to this experiment's manager.

        Raises
        ------
        nni.experiment.rest.RestError
            Non-2xx answer.
        OSError
            The manager cannot be reached.
        """
        token = self.token() if method.upper() != 'GET' else None
        return rest.request(method, self.port, api, data, self.prefix, timeout=timeout, log_errors=False,
                            token=token)

    def probe(self) -> dict[str, Any] | None:
        """``GET /check-status``, or ``None`` when the manager does not answer."""
        if self.port is None:
            return None
        try:
            answer = self.request('GET', '/check-status', timeout=PROBE_TIMEOUT)
        except (OSError, ValueError, RuntimeError):
            return None
        return answer if isinstance(answer, dict) else None

    def require_running(self) -> None:
        """
        NNI's two checks before a REST command: the manager process is alive, then its REST API answers.

        Raises
        ------
        CliError
            ``Experiment is not running...`` or ``Restful server is not running...``.
        """
        if self.stopped or not self.pid_alive():
            hint = f'It is stopped; "nnictl view {self.id}" serves its data again.' if self.stopped else None
            raise CliError(NOT_RUNNING, details=hint)
        if self.probe() is None:
            raise CliError(REST_NOT_RUNNING)


def refresh() -> dict[str, Any]:
    """
    Mark experiments whose manager is gone as ``STOPPED`` and return the manifest.

    Legacy (pre-1.x) entries whose value is a list are removed on the way, as NNI does.
    """
    entries = sweep_dead_experiments()
    legacy = [exp_id for exp_id, entry in entries.items() if not isinstance(entry, dict)]
    if legacy:
        manifest = Experiments()
        for exp_id in legacy:
            manifest.remove_experiment(exp_id)
        entries = {k: v for k, v in entries.items() if isinstance(v, dict)}
    return dict(entries)


def lookup(exp_id: str, entries: dict[str, Any] | None = None) -> ExperimentRef:
    """
    The experiment ``exp_id``, which must be in the manifest (any status).

    Raises
    ------
    CliError
        ``Cannot find experiment <id>.``
    """
    entries = refresh() if entries is None else entries
    entry = entries.get(exp_id)
    if not isinstance(entry, dict):
        raise CliError(f'Cannot find experiment {exp_id}.')
    return ExperimentRef(exp_id, entry)


def resolve(exp_id: str | None) -> ExperimentRef:
    """
    NNI's "default experiment" rule.

    Parameters
    ----------
    exp_id
        Explicit id (must be in the manifest), or ``None`` for the only experiment that is not stopped.

    Raises
    ------
    CliError
        Empty manifest, unknown id, no running experiment, or several running experiments.
    """
    entries = refresh()
    if not entries:
        raise CliError(_SET_ID, before=['INFO:  There is no experiment running...'])
    if exp_id is not None:
        if exp_id not in entries:
            # NNI's words, plus the id and where to find the right one
            raise CliError(f'Id not correct: there is no experiment {exp_id!r} on this machine.\n'
                           f'{_SET_ID} "nnictl experiment list --all" lists every experiment.')
        return ExperimentRef(exp_id, entries[exp_id])
    running = {k: v for k, v in entries.items() if v.get('status') != 'STOPPED'}
    if not running:
        raise CliError(f'There is no experiment running.\n{_SET_ID}')
    if len(running) > 1:
        raise CliError('There are multiple experiments, please set the experiment id...',
                       details=experiment_block(running))
    only = next(iter(running))
    return ExperimentRef(only, running[only])


def experiment_line(exp_id: str, entry: dict[str, Any], extra: str = '') -> str:
    """One line of NNI's experiment list (section 1.9 of the spec), plus ``extra`` fields."""
    name = entry['experimentName'] if 'experimentName' in entry else 'N/A'
    port = entry['port'] if 'port' in entry else 'N/A'
    return (f'Id: {exp_id}    Name: {name}    Status: {entry.get("status")}    Port: {port}    '
            f'Platform: {entry.get("platform")}    StartTime: {format_ms(entry.get("startTime", "N/A"))}    '
            f'EndTime: {format_ms(entry.get("endTime", "N/A"))}{extra}')


def experiment_block(entries: dict[str, Any], extras: dict[str, str] | None = None) -> str:
    """NNI's framed experiment list (88 dashes, title, one line each, blank line, 88 dashes)."""
    lines = ['-' * 88, ' ' * 16 + 'Experiment information']
    for exp_id, entry in entries.items():
        lines.append(experiment_line(exp_id, entry, (extras or {}).get(exp_id, '')))
    lines += ['', '-' * 88]
    return '\n'.join(lines) + '\n'


def same_path(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether two paths name the same place (compared resolved, so links and ``..`` do not matter)."""
    try:
        return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)
