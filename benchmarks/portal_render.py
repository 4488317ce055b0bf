"""First render of the web portal: a 10-trial experiment side by side with a 10,000-trial one.

Both experiments are written straight into the store (tests/webui/support.py), opened read-only
by a real manager (``python -m nni.manager --action view``), and loaded in headless chromium. The
time is measured in the browser: from navigation start to the ``nni:first-render`` performance
mark, which the trials page sets once its table shows rows and its chart is drawn. Every load
uses a fresh browser context (empty cache), so it includes fetching the portal's code.

    .venv/bin/python benchmarks/portal_render.py [--repeat 5] [--big 10000] [--small 10]

Budget (shared/DESIGN.md): first full render of 10,000 trials <= 1 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.webui.support import ManagerProcess, chromium_path, create_synthetic_experiment  # noqa: E402

BUDGET_MS = 1000.0
TABS = ('best', 'parallel', 'intermediate', 'duration')


def measure_load(browser: Any, url: str, route: str) -> dict[str, float]:
    """Marks (ms since navigation start) of one cold load of ``route``."""
    context = browser.new_context(viewport={'width': 1440, 'height': 900})
    page = context.new_page()
    errors: list[str] = []
    page.on('pageerror', lambda error: errors.append(str(error)))
    try:
        page.goto(f'{url}#/{route}')
        if route == 'trials':
            page.wait_for_selector('html[data-first-render]', state='attached', timeout=60_000)
        else:
            page.wait_for_selector('.stat-value', timeout=60_000)
        marks = page.evaluate("Object.fromEntries(performance.getEntriesByType('mark')"
                              ".map((mark) => [mark.name, mark.startTime]))")
        if errors:
            raise RuntimeError(f'page errors: {errors}')
        return marks
    finally:
        context.close()


def measure_tabs(browser: Any, url: str) -> dict[str, float]:
    """Milliseconds from clicking each chart tab to the chart drawn and painted."""
    context = browser.new_context(viewport={'width': 1440, 'height': 900})
    page = context.new_page()
    try:
        page.goto(f'{url}#/trials')
        page.wait_for_selector('html[data-first-render]', state='attached', timeout=60_000)
        timings = {}
        for tab in TABS:
            # the intermediate tab loads its data first; give it time, then time a second visit too
            for _ in range(2 if tab == 'intermediate' else 1):
                timings[tab] = page.evaluate(
                    """(tab) => new Promise((resolve) => {
                        const start = performance.now();
                        document.querySelector(`.tabs button[data-tab="${tab}"]`).click();
                        requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - start), 0));
                    })""", tab)
                page.wait_for_timeout(1500 if tab == 'intermediate' else 200)
        return timings
    finally:
        context.close()


def api_time(url: str) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:
        response.read()
    return (time.perf_counter() - started) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--repeat', type=int, default=5, help='cold loads per experiment (median reported)')
    parser.add_argument('--small', type=int, default=10)
    parser.add_argument('--big', type=int, default=10_000)
    args = parser.parse_args()
    executable = chromium_path()
    if executable is None:
        print('chromium not found: apt-get install -y chromium (or set CHROMIUM_PATH)', file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix='portal-bench-') as tmp:
        os.environ['NNI_HOME_DIR'] = str(Path(tmp) / 'home')
        workdir = Path(tmp) / 'experiments'
        workdir.mkdir()
        sizes = {'small': args.small, 'big': args.big}
        managers: dict[str, ManagerProcess] = {}
        try:
            for name, trials in sizes.items():
                started = time.perf_counter()
                create_synthetic_experiment(workdir, f'bench{name}', trials, intermediates=5, files_for=0)
                created = time.perf_counter() - started
                started = time.perf_counter()
                managers[name] = ManagerProcess(workdir, f'bench{name}')
                print(f'{trials:>6} trials: written in {created:.1f} s, manager viewing after '
                      f'{time.perf_counter() - started:.1f} s', flush=True)
            results: dict[str, dict[str, list[float]]] = {name: {} for name in sizes}
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=executable, headless=True,
                                                     args=['--no-sandbox', '--disable-dev-shm-usage'])
                for round_index in range(args.repeat + 1):
                    for name, manager in managers.items():
                        trials_marks = measure_load(browser, manager.url, 'trials')
                        overview_marks = measure_load(browser, manager.url, 'overview')
                        if round_index == 0:
                            # the first load right after the manager started: it may still be
                            # decoding the trials (see PortalData.warm_up_in_background)
                            results[name]['first load after start'] = [trials_marks['nni:first-render']]
                            continue
                        for key, value in (('first render', trials_marks['nni:first-render']),
                                           ('table', trials_marks['nni:table-rendered']),
                                           ('chart', trials_marks['nni:chart-rendered']),
                                           ('overview', overview_marks['nni:overview-rendered'])):
                            results[name].setdefault(key, []).append(value)
                tabs = {name: measure_tabs(browser, manager.url) for name, manager in managers.items()}
                browser.close()
            api = {name: {'GET /portal/trials (all, compact)': api_time(manager.api('portal/trials')),
                          'GET /trial-jobs?offset=0&limit=100': api_time(manager.api('trial-jobs?offset=0&limit=100')),
                          'GET /trial-jobs?sort=metric&order=desc&limit=100': api_time(
                              manager.api('trial-jobs?sort=metric&order=desc&limit=100&search=layers>3')),
                          'GET /portal/state': api_time(manager.api('portal/state'))}
                   for name, manager in managers.items()}
        finally:
            for manager in managers.values():
                manager.stop()

    small, big = f'{args.small} trials', f'{args.big} trials'
    print(f'\nportal render, median of {args.repeat} cold loads (ms since navigation start; chromium '
          f'{executable}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})')
    print(f'{"":34}{small:>14}{big:>16}{"ratio":>8}')
    for key in ('first render', 'table', 'chart', 'overview', 'first load after start'):
        a = statistics.median(results['small'][key])
        b = statistics.median(results['big'][key])
        label = f'{key} (min {min(results["big"][key]):.0f})' if key == 'first render' else key
        print(f'{label:34}{a:>14.0f}{b:>16.0f}{b / a:>8.2f}')
    print('\nchart tab switch (click to painted, ms)')
    for tab in TABS:
        print(f'{tab:34}{tabs["small"][tab]:>14.0f}{tabs["big"][tab]:>16.0f}')
    print('\nREST, after the first load (ms, one request from Python)')
    for key in api['small']:
        print(f'{key:50}{api["small"][key]:>8.1f}{api["big"][key]:>10.1f}')
    verdict = statistics.median(results['big']['first render'])
    print(f'\nbudget: first render of {args.big} trials <= {BUDGET_MS:.0f} ms: '
          f'{"OK" if verdict <= BUDGET_MS else "OVER"} ({verdict:.0f} ms)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
