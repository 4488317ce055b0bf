"""Fixtures of the web portal tests: synthetic and live experiments, and a headless chromium."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .support import ManagerProcess, chromium_path, create_synthetic_experiment

TRIAL_CODE = Path(__file__).resolve().parent / 'trial_code'


@pytest.fixture(scope='module')
def portal_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private ``$NNI_HOME_DIR`` for a whole module, so module-scoped managers share a manifest."""
    home = tmp_path_factory.mktemp('nni-home')
    old = os.environ.get('NNI_HOME_DIR')
    os.environ['NNI_HOME_DIR'] = str(home)
    yield home
    if old is None:
        os.environ.pop('NNI_HOME_DIR', None)
    else:
        os.environ['NNI_HOME_DIR'] = old


@pytest.fixture(scope='module')
def workdir(portal_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp('experiments')


@pytest.fixture(scope='module')
def viewed(workdir: Path) -> Iterator[ManagerProcess]:
    """A stopped 40-trial multi-objective experiment, opened read-only by a real manager."""
    create_synthetic_experiment(workdir, 'viewexp', 40, multi_objective=True, seed=3, name='viewed-experiment')
    manager = ManagerProcess(workdir, 'viewexp')
    yield manager
    manager.stop()


@pytest.fixture(scope='session')
def chromium_executable() -> str:
    path = chromium_path()
    if path is None:
        pytest.skip('chromium not found (apt-get install -y chromium, or set CHROMIUM_PATH): browser tests skipped')
    try:
        import playwright  # noqa: F401
    except ImportError:
        pytest.skip('the playwright package is not installed (pip install playwright): browser tests skipped')
    return path


@pytest.fixture(scope='session')
def browser(chromium_executable: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_executable, headless=True,
                                              args=['--no-sandbox', '--disable-dev-shm-usage'])
        yield instance
        instance.close()


class PageProblems:
    """Console errors and uncaught exceptions of one page; tests assert there are none."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.allowed: list[str] = []

    def allow(self, fragment: str) -> None:
        self.allowed.append(fragment)

    def unexpected(self) -> list[str]:
        return [error for error in self.errors if not any(fragment in error for fragment in self.allowed)]


@pytest.fixture
def page_problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def page(browser: Any, page_problems: PageProblems) -> Iterator[Any]:
    context = browser.new_context(viewport={'width': 1440, 'height': 900})
    page = context.new_page()
    page.on('console', lambda message: page_problems.errors.append(f'console: {message.text}')
            if message.type == 'error' else None)
    page.on('pageerror', lambda error: page_problems.errors.append(f'page error: {error}'))
    yield page
    context.close()
    assert page_problems.unexpected() == []


@pytest.fixture
def live_experiment(portal_home: Path, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Start real experiments (real manager, real trial processes) through ``nni.experiment``."""
    from nni.experiment import Experiment

    from .support import free_port

    started: list[Any] = []

    def start(**fields: Any) -> Any:
        experiment = Experiment('local')
        config = experiment.config
        config.experiment_name = 'portal-live'
        config.experiment_working_directory = str(tmp_path / 'live')
        config.search_space = {
            'x': {'_type': 'uniform', '_value': [0, 1]},
            'optimizer': {'_type': 'choice', '_value': ['sgd', 'adam']},
        }
        config.trial_command = f'{sys.executable} slow_trial.py'
        config.trial_code_directory = TRIAL_CODE
        config.trial_concurrency = 1
        config.max_trial_number = 30
        config.tuner.name = 'Random'
        for key, value in fields.items():
            setattr(config, key, value)
        experiment.start(free_port())
        started.append(experiment)
        return experiment

    yield start
    for experiment in started:
        try:
            experiment.stop()
        except Exception:  # noqa: BLE001 - best-effort cleanup; the test already reported
            pass
