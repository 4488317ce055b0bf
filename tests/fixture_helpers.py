"""Pieces the per-directory conftests share: a private NNI home, environment overrides, cleanup, /proc scans."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest


def isolated_nni_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> Path:
    """Make ``<tmp_path>/nni-home`` and point ``NNI_HOME_DIR`` at it for one test (the manifest lives there).

    ``env`` names more environment variables to set for the test.
    """
    home = tmp_path / 'nni-home'
    home.mkdir()
    monkeypatch.setenv('NNI_HOME_DIR', str(home))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return home


@contextmanager
def environ_set(name: str, value: str) -> Iterator[str]:
    """Set ``os.environ[name]`` for longer than one test (monkeypatch is function-scoped); restore it after."""
    saved = os.environ.get(name)
    os.environ[name] = value
    try:
        yield value
    finally:
        if saved is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved


@contextmanager
def shared_nni_home(tmp_path_factory: pytest.TempPathFactory, name: str = 'nni-home') -> Iterator[Path]:
    """An ``NNI_HOME_DIR`` for a module or a session, whose long-lived managers share one manifest."""
    home = tmp_path_factory.mktemp(name)
    with environ_set('NNI_HOME_DIR', str(home)):
        yield home


def stop_experiments(experiments: Iterable[Any]) -> None:
    """Best-effort ``stop()`` of every experiment a fixture made (the test already reported its own failure)."""
    for experiment in experiments:
        try:
            experiment.stop()
        except Exception:  # noqa: BLE001 - best effort cleanup
            pass


def live_processes(proc_file: str) -> Iterator[tuple[int, bytes]]:
    """``(pid, contents of /proc/<pid>/<proc_file>)`` of every process that is neither gone nor a zombie."""
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat', 'rb') as handle:
                if handle.read().rsplit(b')', 1)[1].split()[0] == b'Z':
                    continue
            with open(f'/proc/{entry}/{proc_file}', 'rb') as handle:
                contents = handle.read()
        except OSError:
            continue
        yield int(entry), contents


def fill_config(config: Any, *, workdir: Path | str, search_space: dict, trial_command: str, code_directory: Path,
                concurrency: int, max_trials: int, fields: dict[str, Any]) -> Any:
    """Set what every test experiment sets (a Random tuner), then the test's own ``fields`` over it."""
    config.experiment_working_directory = str(workdir)
    config.search_space = search_space
    config.trial_command = trial_command
    config.trial_code_directory = code_directory
    config.trial_concurrency = concurrency
    config.max_trial_number = max_trials
    config.tuner.name = 'Random'
    set_fields(config, fields)
    return config


def set_fields(target: Any, fields: dict[str, Any]) -> None:
    """``setattr`` each of ``fields`` on ``target`` (a test's overrides of a config)."""
    for key, value in fields.items():
        setattr(target, key, value)


def assert_metrics_came_through_files(experiment: Any) -> None:
    """Every trial of the finished experiment succeeded and left its metrics file (the manager read it)."""
    trials = experiment.list_trial_jobs()
    assert {trial.status for trial in trials} == {'SUCCEEDED'}
    for trial in trials:
        assert (Path(trial.logPath) / '.nni' / 'metrics').is_file()
