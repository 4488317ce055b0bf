"""Fixtures for the experiment client tests (none is autouse, so tests/experiment/config/ is unaffected)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from experiment_client_helpers import FakeManager, StubConfig, free_port

HERE = Path(__file__).resolve().parent


@pytest.fixture
def nni_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private ``$NNI_HOME_DIR`` (folder of the ``.experiment`` manifest)."""
    home = tmp_path / 'nni-home'
    monkeypatch.setenv('NNI_HOME_DIR', str(home))
    return home


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def fake_manager(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, nni_home: Path) -> Iterator[FakeManager]:
    """Make the launcher start ``tests/experiment/fake_nni_manager.py`` instead of ``nni.manager``."""
    old = os.environ.get('PYTHONPATH')
    monkeypatch.setenv('PYTHONPATH', str(HERE) + (os.pathsep + old if old else ''))
    monkeypatch.setenv('NNI_MANAGER_MODULE', 'fake_nni_manager')
    monkeypatch.delenv('FAKE_NNI_MODE', raising=False)
    monkeypatch.delenv('FAKE_NNI_STATUSES', raising=False)
    record = tmp_path / 'fake-record.jsonl'
    monkeypatch.setenv('FAKE_NNI_RECORD', str(record))
    fake = FakeManager(monkeypatch, record)
    yield fake
    # Never leave a manager behind, whatever the test did.
    for start in fake.starts():
        try:
            os.killpg(start['pid'], signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


@pytest.fixture
def stub_config(tmp_path: Path) -> StubConfig:
    return StubConfig(tmp_path / 'workdir')
