"""Take the screenshots of docs/portal.md from real runs.

Runs, in a temporary NNI home:

* the sklearn example (``examples/sklearn_classifier``, TPE, 40 trials, 2 at a time), captured
  while it runs: overview, trials and every chart, comparing, the search space, all experiments;
* a two-objective experiment (``tests/webui/trial_code/multi_objective_trial.py``) run to the
  end, then opened with ``Experiment.view``: its Pareto front and its best trial;
* a synthetic 10,000-trial experiment (written through the store), opened read-only: the table
  and parallel coordinates at scale.

    .venv/bin/python docs/portal/capture.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from tests.webui.support import ManagerProcess, chromium_path, create_synthetic_experiment, free_port  # noqa: E402


def wait_for(predicate: Any, timeout: float = 300.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise TimeoutError('condition not met')


def shoot(page: Any, name: str, *, full: bool = False, locator: str | None = None) -> None:
    page.wait_for_timeout(700)  # let the last poll and chart frame land
    target = OUT / f'{name}.png'
    if locator:
        page.locator(locator).screenshot(path=str(target))
    else:
        page.screenshot(path=str(target), full_page=full)
    print('wrote', target.relative_to(ROOT), flush=True)


def main() -> int:
    from playwright.sync_api import sync_playwright

    from nni.experiment import Experiment

    executable = chromium_path()
    if executable is None:
        print('chromium not found', file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix='portal-shots-'))
    os.environ['NNI_HOME_DIR'] = str(tmp / 'home')
    workdir = tmp / 'experiments'
    trial_code = ROOT / 'tests' / 'webui' / 'trial_code'

    multi = Experiment('local')
    multi.config.experiment_name = 'accuracy-vs-latency'
    multi.config.experiment_working_directory = str(workdir)
    multi.config.search_space = {
        'width': {'_type': 'choice', '_value': [16, 32, 64, 128, 256]},
        'depth': {'_type': 'randint', '_value': [2, 9]},
        'lr': {'_type': 'loguniform', '_value': [0.0005, 0.2]},
    }
    multi.config.trial_command = f'{sys.executable} multi_objective_trial.py'
    multi.config.trial_code_directory = trial_code
    multi.config.trial_concurrency = 4
    multi.config.max_trial_number = 60
    multi.config.tuner.name = 'Random'
    assert multi.run(free_port()) is True
    multi.stop()

    sklearn = Experiment('local')
    sklearn.config.experiment_name = 'sklearn_classifier'
    sklearn.config.experiment_working_directory = str(workdir)
    sklearn.config.search_space = json.loads((ROOT / 'examples/sklearn_classifier/search_space.json').read_text())
    sklearn.config.trial_command = f'{sys.executable} trial.py'
    sklearn.config.trial_code_directory = ROOT / 'examples' / 'sklearn_classifier'
    sklearn.config.trial_concurrency = 2
    sklearn.config.max_trial_number = 40
    sklearn.config.max_experiment_duration = '1h'
    sklearn.config.tuner.name = 'TPE'
    sklearn.config.tuner.class_args['optimize_mode'] = 'maximize'
    port = free_port()
    sklearn.start(port)
    big = None
    viewer = None
    try:
        wait_for(lambda: sum(t.status == 'SUCCEEDED' for t in sklearn.list_trial_jobs()) >= 24)
        url = f'http://127.0.0.1:{port}/'
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, headless=True,
                                                 args=['--no-sandbox', '--disable-dev-shm-usage'])
            page = browser.new_page(viewport={'width': 1440, 'height': 900})
            page.goto(f'{url}#/overview')
            page.wait_for_selector('.stat-value')
            shoot(page, 'overview', full=True)
            page.goto(f'{url}#/trials')
            page.wait_for_selector('html[data-first-render]', state='attached')
            shoot(page, 'trials')
            for tab in ('best', 'parallel', 'intermediate', 'duration'):
                page.click(f'.tabs button[data-tab="{tab}"]')
                page.wait_for_timeout(800)
                shoot(page, f'chart-{tab}', locator='.charts')
            page.click('.tabs button[data-tab="metric"]')
            boxes = page.locator('.vt-row:not([hidden]) input[type="checkbox"]')
            for index in (0, 1, 3):
                boxes.nth(index).check()
            page.click('button:has-text("Compare 3")')
            page.wait_for_selector('dialog .compare-table')
            shoot(page, 'compare', locator='dialog')
            page.keyboard.press('Escape')
            page.fill('input.search', 'kernel=rbf C>1')
            page.wait_for_timeout(800)
            shoot(page, 'trials-filtered', locator='.table-card')
            page.goto(f'{url}#/search-space')
            page.wait_for_selector('table.space tbody tr')
            shoot(page, 'search-space', full=True)

            create_synthetic_experiment(workdir, 'synth10k', 10_000, files_for=0, name='synthetic-10000')
            page.goto(f'{url}#/experiments')
            page.wait_for_selector('tr[data-id="synth10k"]')
            shoot(page, 'experiments')

            viewer = Experiment(None, multi.id)
            viewer.view(free_port(), non_blocking=True)
            page.goto(f'http://127.0.0.1:{viewer.port}/#/trials')
            page.wait_for_selector('html[data-first-render]', state='attached')
            page.click('.tabs button[data-tab="pareto"]')
            page.wait_for_timeout(800)
            shoot(page, 'chart-pareto', locator='.charts')
            # a trial of this experiment: it prints its epochs and reports dict metrics
            best_id = max(viewer.export_data(), key=lambda result: result.value['default']).trialJobId
            page.goto(f'http://127.0.0.1:{viewer.port}/#/trial/{best_id}')
            page.wait_for_selector('pre.log:not(:empty)')
            shoot(page, 'trial', full=True)

            big = ManagerProcess(workdir, 'synth10k')
            page.goto(f'{big.url}#/trials')
            page.wait_for_selector('html[data-first-render]', state='attached')
            shoot(page, 'trials-10k')
            page.click('.tabs button[data-tab="parallel"]')
            page.wait_for_timeout(1500)
            shoot(page, 'chart-parallel-10k', locator='.charts')
            browser.close()
    finally:
        sklearn.stop()
        if viewer is not None:
            viewer.stop()
        if big is not None:
            big.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
