"""The portal against running experiments: live updates, killing a trial, editing the experiment."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.polling import wait_for as _wait_for

from .support import ManagerProcess, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]


# the portal's live updates are polled every 2 s: look less often, give up sooner than the default
wait_for = functools.partial(_wait_for, timeout=30.0, interval=0.2)


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _visible_ids(page: Any) -> set[str]:
    return set(page.evaluate("[...document.querySelectorAll('.vt-row:not([hidden]) .vt-td:nth-child(3)')]"
                             ".map((cell) => cell.textContent).filter(Boolean)"))


def _statuses(experiment: Any) -> dict[str, str]:
    return {trial.trialJobId: trial.status for trial in experiment.list_trial_jobs()}


def _final_status(experiment: Any, trial_id: str) -> str | None:
    status = _statuses(experiment)[trial_id]
    return None if status in ('RUNNING', 'WAITING') else status


def test_live_table_kill_and_concurrency_edit(page: Any, live_experiment: Callable[..., Any],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    expect = _expect()
    monkeypatch.setenv('PORTAL_TRIAL_STEPS', '12')  # 6 s per trial: time to watch and kill one
    experiment = live_experiment()
    url = f'http://127.0.0.1:{experiment.port}/'
    page.goto(f'{url}#/trials')
    page.wait_for_selector('html[data-first-render]', state='attached', timeout=20_000)
    page.evaluate('window.portalTestMarker = 42')  # survives only if the page never reloads

    # live update: the table shows the running trial, then the next one, without a reload
    expect(page.locator('.vt-row:not([hidden]) .pill', has_text='Running')).to_have_count(1, timeout=20_000)
    seen = _visible_ids(page)
    wait_for(lambda: _visible_ids(page) - seen, timeout=30)
    assert page.evaluate('window.portalTestMarker') == 42

    # kill a running trial from its row
    killed = None
    for _ in range(3):
        row = page.locator('.vt-row:not([hidden])', has=page.locator('.pill', has_text='Running')).first
        trial_id = row.locator('.vt-td').nth(2).inner_text()
        row.locator('button', has_text='Kill').click()
        page.click('dialog button[value="ok"]')
        status = wait_for(lambda trial_id=trial_id: _final_status(experiment, trial_id), timeout=20)
        if status == 'USER_CANCELED':
            killed = trial_id
            break  # else the trial finished on its own just before the click; try the next one
    assert killed is not None
    expect(page.locator('.vt-row:not([hidden])', has_text=killed).locator('.pill')).to_have_text('Canceled')

    # edit the concurrency on the overview; the manager runs more trials at once
    page.click('.nav a[data-page="overview"]')
    page.click('[data-edit="trialConcurrency"]')
    page.fill('[data-field="trialConcurrency"] input', '3')
    page.click('[data-save="trialConcurrency"]')
    expect(page.locator('[data-field="trialConcurrency"] .stat-value')).to_have_text('3')
    assert experiment.get_experiment_profile()['params']['trialConcurrency'] == 3
    wait_for(lambda: list(_statuses(experiment).values()).count('RUNNING') == 3, timeout=30)
    expect(page.locator('[data-count="running"] b')).to_have_text('3', timeout=15_000)
    assert page.evaluate('window.portalTestMarker') == 42


def test_search_space_and_limits_edits(page: Any, live_experiment: Callable[..., Any]) -> None:
    expect = _expect()
    experiment = live_experiment()
    url = f'http://127.0.0.1:{experiment.port}/'
    page.goto(f'{url}#/search-space')
    editor = page.locator('textarea.editor')
    expect(editor).to_be_editable()
    editor.fill('{"x": {"_type": "uniform"}}')
    expect(page.locator('.error-text')).to_contain_text('"x" needs "_type" and "_value"')
    new_space = {'x': {'_type': 'uniform', '_value': [0.25, 0.5]},
                 'optimizer': {'_type': 'choice', '_value': ['adam']}}
    editor.fill(json.dumps(new_space))
    page.click('[data-action="apply-space"]')
    wait_for(lambda: experiment.get_experiment_profile()['params']['searchSpace'] == new_space, timeout=10)
    expect(page.locator('table.space tbody tr')).to_have_count(2)

    page.click('.nav a[data-page="overview"]')
    page.click('[data-edit="maxTrialNumber"]')
    page.fill('[data-field="maxTrialNumber"] input', 'zero')
    page.click('[data-save="maxTrialNumber"]')
    expect(page.locator('[data-field="maxTrialNumber"] .error-text')).to_contain_text('positive whole number')
    page.fill('[data-field="maxTrialNumber"] input', '7')
    page.click('[data-save="maxTrialNumber"]')
    expect(page.locator('[data-field="maxTrialNumber"] .stat-value')).to_have_text('7')
    page.click('[data-edit="maxExperimentDuration"]')
    page.fill('[data-field="maxExperimentDuration"] input', '2h')
    page.click('[data-save="maxExperimentDuration"]')
    expect(page.locator('[data-field="maxExperimentDuration"] .stat-value')).to_have_text('2h')
    params = experiment.get_experiment_profile()['params']
    assert params['maxTrialNumber'] == 7 and params['maxExperimentDuration'] == '2h'


def test_stop_button_stops_the_experiment(page: Any, page_problems: Any, live_experiment: Callable[..., Any]) -> None:
    expect = _expect()
    page_problems.allow('ERR_CONNECTION_REFUSED')  # the page keeps polling the manager that exited
    experiment = live_experiment()
    page.goto(f'http://127.0.0.1:{experiment.port}/#/overview')
    expect(page.locator('#exp-status')).to_have_text('RUNNING', timeout=20_000)
    page.click('[data-action="stop"]')
    page.click('dialog button[value="ok"]')
    expect(page.locator('#banner')).to_contain_text('does not answer', timeout=30_000)
    assert wait_for(lambda: experiment._proc.poll() is not None, timeout=30) is not None  # noqa: SLF001


def test_edits_need_the_token_beyond_loopback(page: Any, page_problems: Any, workdir: Any,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A manager listening on all interfaces: a browser on another address must give the token."""
    import socket

    expect = _expect()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(('192.0.2.1', 9))  # no packet is sent: this only picks the outgoing address
            address = probe.getsockname()[0]
    except OSError:
        address = '127.0.0.1'
    if address.startswith('127.'):
        pytest.skip('this machine has no non-loopback address to browse from')
    page_problems.allow('403')  # the first, tokenless attempt is refused
    monkeypatch.setenv('PORTAL_TRIAL_STEPS', '40')
    from .conftest import TRIAL_CODE

    config = {
        'experimentName': 'token-test', 'searchSpace': {'x': {'_type': 'uniform', '_value': [0, 1]}},
        'trialCommand': f'{__import__("sys").executable} slow_trial.py', 'trialCodeDirectory': str(TRIAL_CODE),
        'trialConcurrency': 1, 'maxTrialNumber': 3, 'tuner': {'name': 'Random'},
        'trainingService': {'platform': 'local'}, 'experimentWorkingDirectory': str(workdir),
    }
    manager = ManagerProcess(workdir, 'tokenexp', action='create', config=config, port=free_port(),
                             bind_address='0.0.0.0')
    try:
        running = wait_for(lambda: [t for t in manager.request('GET', 'trial-jobs') if t['status'] == 'RUNNING'])
        trial_id = running[0]['trialJobId']
        page.goto(f'http://{address}:{manager.port}/#/trial/{trial_id}')
        # beyond loopback, reads need the token too: the portal asks once, at its first request
        token_field = page.locator('dialog input[type="password"]')
        expect(token_field).to_be_visible()
        token_field.fill((workdir / 'tokenexp' / 'db' / 'token').read_text().strip())
        page.click('dialog button[value="ok"]')
        # ...and the edit then needs no second question
        page.click('[data-action="kill"]')
        page.click('dialog button[value="ok"]')
        wait_for(lambda: manager.request('GET', f'trial-jobs/{trial_id}')['status'] == 'USER_CANCELED', timeout=20)
        expect(token_field).to_have_count(0)
        # the manager set its cookie: a new tab of the same browser context reads without asking
        other = page.context.new_page()
        other.goto(f'http://{address}:{manager.port}/#/overview')
        expect(other.locator('#exp-status')).not_to_have_text('', timeout=20_000)
        expect(other.locator('dialog input[type="password"]')).to_have_count(0)
        other.close()
    finally:
        page.goto('about:blank')
        manager.stop()


def test_portal_answers_while_the_tuner_computes(page: Any, live_experiment: Callable[..., Any],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A tuner busy in pure Python for seconds per suggestion must not stall the page."""
    import urllib.request

    from nni.experiment.config import CustomAlgorithmConfig

    from .conftest import TRIAL_CODE

    expect = _expect()
    monkeypatch.setenv('PORTAL_TRIAL_STEPS', '2')  # trials end fast: the tuner is asked often
    tuner = CustomAlgorithmConfig(class_name='slow_tuner.SlowTuner', code_directory=TRIAL_CODE,
                                  class_args={'seconds': 3.0})
    experiment = live_experiment(trial_concurrency=2, tuner=tuner)
    url = f'http://127.0.0.1:{experiment.port}/'
    wait_for(lambda: experiment.list_trial_jobs(), timeout=30)  # the tuner is at work from now on
    latencies = []
    for _ in range(20):
        started = time.perf_counter()
        with urllib.request.urlopen(f'{url}api/v1/nni/portal/state', timeout=10) as response:
            response.read()
        latencies.append(time.perf_counter() - started)
        time.sleep(0.05)
    latencies.sort()
    assert latencies[len(latencies) // 2] < 0.25, latencies  # the median poll stays quick
    started = time.perf_counter()
    page.goto(f'{url}#/trials')
    page.wait_for_selector('html[data-first-render]', state='attached', timeout=20_000)
    assert time.perf_counter() - started < 8
    page.click('.nav a[data-page="overview"]')
    expect(page.locator('#exp-status')).to_have_text('RUNNING')
