"""Settings and fixtures shared by every test directory (helpers the directories share: tests/fixture_helpers.py)."""

import os
from pathlib import Path

import pytest

# Trials outlive a SIGKILLed manager for NNI_TRIAL_ORPHAN_GRACE seconds (10 minutes by default) so that a
# resume can take them back. Tests kill managers often and rarely resume: keep their trials from
# lingering for minutes after the test. Tests of reattach set a longer grace themselves.
os.environ.setdefault('NNI_TRIAL_ORPHAN_GRACE', '10')


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty ``experiment_working_directory`` for one test (directories with other needs override it)."""
    path = tmp_path / 'experiments'
    path.mkdir()
    return path
