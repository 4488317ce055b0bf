"""Helpers shared by the experiment client tests (a unique module name: conftest.py names clash)."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class FakeManager:
    """Controls ``fake_nni_manager`` through its environment variables and reads what it recorded."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, record: Path) -> None:
        self._monkeypatch = monkeypatch
        self.record_path = record

    def mode(self, mode: str) -> None:
        self._monkeypatch.setenv('FAKE_NNI_MODE', mode)

    def statuses(self, *statuses: str) -> None:
        self._monkeypatch.setenv('FAKE_NNI_STATUSES', ','.join(statuses))

    def records(self) -> list[dict[str, Any]]:
        if not self.record_path.exists():
            return []
        return [json.loads(line) for line in self.record_path.read_text().splitlines() if line.strip()]

    def starts(self) -> list[dict[str, Any]]:
        return [r for r in self.records() if 'argv' in r]

    def requests(self, method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        return [
            r for r in self.records()
            if 'method' in r and (method is None or r['method'] == method)
            and (path is None or r['path'].split('?')[0].endswith(path))
        ]


class StubConfig:
    """
    Just what the launcher and ``Experiment`` read from a canonical ``ExperimentConfig``; lets the client be
    tested while the config package is written in parallel.
    """

    def __init__(self, workdir: Path, **fields: Any) -> None:
        self.experiment_working_directory = str(workdir)
        self.experiment_name = 'stub'
        self.log_level = 'info'
        self.use_annotation = False
        self.nni_manager_ip = None
        self.trial_concurrency = 1
        self.search_space = {'lr': {'_type': 'choice', '_value': [0.1, 0.01]}}
        self.training_service = SimpleNamespace(platform='local')
        self.canonical_calls = 0
        for key, value in fields.items():
            setattr(self, key, value)

    def canonical_copy(self) -> StubConfig:
        self.canonical_calls += 1
        return self

    def json(self) -> dict[str, Any]:
        ts = self.training_service
        return {
            'experimentName': self.experiment_name,
            'searchSpace': self.search_space,
            'trialCommand': 'python trial.py',
            'trialConcurrency': self.trial_concurrency,
            'logLevel': self.log_level,
            'experimentWorkingDirectory': self.experiment_working_directory,
            'tuner': {'name': 'random'},
            'trainingService': [{'platform': t.platform} for t in ts] if isinstance(ts, list)
            else {'platform': ts.platform},
        }
