"""
Fixtures of the nnictl / annotation tests.

Every test gets its own manifest folder (``NNI_HOME_DIR``), NNI config folder (``NNI_CONFIG_DIR``, where
``algo register`` writes) and experiment working directory. ``nnictl`` runs in-process through
:func:`nni.tools.nnictl.cli.main` (output captured by capsys), or as the console script in a subprocess.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fixture_helpers import isolated_nni_home
from tests.polling import free_port, wait_for  # noqa: F401 - re-exported to the tests

TRIAL_CODE = Path(__file__).resolve().parent / 'trial_code'
REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def nni_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = isolated_nni_home(tmp_path, monkeypatch)
    monkeypatch.setenv('NNI_CONFIG_DIR', str(tmp_path / 'nni-config'))
    # trial commands say "python3": make it the interpreter running the tests
    monkeypatch.setenv('PATH', f'{VENV_BIN}{os.pathsep}{os.environ.get("PATH", "")}')
    for name in ('FORCE_COLOR', 'NO_COLOR', 'NNI_PROGRESS'):
        monkeypatch.delenv(name, raising=False)
    return home


@dataclass
class Result:
    code: int
    out: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def nnictl(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run ``nnictl`` in-process: ``nnictl('trial', 'ls', stdin='y\\n')`` -> Result(code, stdout)."""
    from nni.tools.nnictl.cli import main

    def run(*args: str, stdin: str | None = None) -> Result:
        capsys.readouterr()
        if stdin is not None:
            monkeypatch.setattr(sys, 'stdin', io.StringIO(stdin))
        code = main(list(args))
        return Result(code, capsys.readouterr().out)

    return run


def run_console(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The installed console script ``nnictl`` in a subprocess."""
    return subprocess.run([str(VENV_BIN / 'nnictl'), *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


@pytest.fixture
def write_config(tmp_path: Path, workdir: Path) -> Callable[..., Path]:
    """Write an experiment config (YAML) running ``trial_code/trial.py``; keyword arguments override fields."""
    counter = iter(range(1000))

    def write(**fields: Any) -> Path:
        config: dict[str, Any] = {
            'experimentName': 'nnictl-test',
            'searchSpace': {'x': {'_type': 'randint', '_value': [0, 100]}, 'sleep': {'_type': 'choice', '_value': [0]}},
            'trialCommand': 'python3 trial.py',
            'trialCodeDirectory': str(TRIAL_CODE),
            'trialConcurrency': 2,
            'maxTrialNumber': 4,
            'experimentWorkingDirectory': str(workdir),
            'tuner': {'name': 'Random'},
            'trainingService': {'platform': 'local'},
        }
        config.update(fields)
        path = tmp_path / f'config{next(counter)}.yml'
        path.write_text(yaml.safe_dump(config), encoding='utf-8')
        return path

    return write


def manifest(home: Path) -> dict[str, Any]:
    path = home / '.experiment'
    return json.loads(path.read_text()) if path.exists() else {}


@pytest.fixture
def live_pid() -> Iterator[int]:
    """A process that stands for a live manager in the manifest (never our own pid: stop would signal it)."""
    proc = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])
    yield proc.pid
    proc.kill()
    proc.wait()


@pytest.fixture
def stop_all(nni_env: Path) -> Iterator[None]:
    """Stop every manager a test started, whatever happened."""
    yield
    from nni.tools.nnictl.cli import main

    try:
        main(['stop', '--all'])
    except Exception:  # noqa: BLE001 - best-effort cleanup
        pass
