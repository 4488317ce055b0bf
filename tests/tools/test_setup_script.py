"""scripts/setup.sh installs on a fresh clone and after pyproject.toml changes, and does nothing otherwise.

pip itself is replaced by ``fake_python`` (a shell script that records its arguments): what is tested is
the script's decision to install, not pip; a real install takes minutes and is what CI's first step does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

FAKE_PYTHON = """#!/usr/bin/env bash
# fake_python: a stand-in interpreter that records how it was called
echo "$*" >> "$FAKE_LOG"
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && chmod +x "$3/bin/python"
fi
if [ "$1" = "-VV" ]; then echo "Python 3.11.7 (fake_python)"; fi
exit 0
"""


def _checkout(tmp_path: Path) -> Path:
    root = tmp_path / 'clone'
    (root / 'scripts').mkdir(parents=True)
    shutil.copy(REPO / 'scripts' / 'setup.sh', root / 'scripts' / 'setup.sh')
    (root / 'pyproject.toml').write_text('[project]\nname = "nni"\n')
    fake = tmp_path / 'fake_python'
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    return root


def _setup(root: Path, tmp_path: Path, *extras: str) -> list[str]:
    log = tmp_path / 'calls.log'
    before = log.read_text().splitlines() if log.exists() else []
    subprocess.run(['bash', str(root / 'scripts' / 'setup.sh'), *extras], check=True, capture_output=True,
                   env={**os.environ, 'PYTHON': str(tmp_path / 'fake_python'), 'FAKE_LOG': str(log)}, timeout=60)
    after = log.read_text().splitlines() if log.exists() else []
    return [line for line in after[len(before):] if 'pip install' in line or line.startswith('-m venv')]


def test_installs_once_then_only_when_pyproject_changes(tmp_path):
    root = _checkout(tmp_path)
    first = _setup(root, tmp_path)
    assert first[0] == '-m venv .venv'  # a fresh clone gets a venv, pip, and the package
    assert first[-1] == '-m pip install --quiet -e .[dev,examples]'
    assert _setup(root, tmp_path) == []              # nothing changed: nothing done
    assert _setup(root, tmp_path, 'examples') == []  # a subset of what is installed
    (root / 'pyproject.toml').write_text('[project]\nname = "nni"\nversion = "2"\n')
    assert _setup(root, tmp_path, 'examples') == ['-m pip install --quiet -e .[examples]']
    assert _setup(root, tmp_path, 'dev,examples') == ['-m pip install --quiet -e .[dev,examples]']
    assert _setup(root, tmp_path) == []


def test_force_reinstalls(tmp_path):
    root = _checkout(tmp_path)
    _setup(root, tmp_path, 'examples')
    log = tmp_path / 'calls.log'
    subprocess.run(['bash', str(root / 'scripts' / 'setup.sh'), 'examples'], check=True, capture_output=True,
                   env={**os.environ, 'FORCE': '1', 'FAKE_LOG': str(log)}, timeout=60)
    assert log.read_text().splitlines()[-1] == '-m pip install --quiet -e .[examples]'
