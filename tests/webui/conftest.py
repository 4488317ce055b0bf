"""Fixtures of the web portal tests: synthetic and live experiments, and a headless chromium."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixture_helpers import fill_config, shared_nni_home, stop_experiments

from .support import ManagerProcess, chromium_path, create_synthetic_experiment

TRIAL_CODE = Path(__file__).resolve().parent / 'trial_code'


@pytest.fixture(scope='module')
def portal_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private ``$NNI_HOME_DIR`` for a whole module, so module-scoped managers share a manifest."""
    with shared_nni_home(tmp_path_factory) as home:
        yield home


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
        experiment.config.experiment_name = 'portal-live'
        space = {
            'x': {'_type': 'uniform', '_value': [0, 1]},
            'optimizer': {'_type': 'choice', '_value': ['sgd', 'adam']},
        }
        fill_config(experiment.config, workdir=tmp_path / 'live', search_space=space,
                    trial_command=f'{sys.executable} slow_trial.py', code_directory=TRIAL_CODE, concurrency=1,
                    max_trials=30, fields=fields)
        experiment.start(free_port())
        started.append(experiment)
        return experiment

    yield start
    stop_experiments(started)
