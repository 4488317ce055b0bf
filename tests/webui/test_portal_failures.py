"""The portal says what happened (issue 15): failure banner, column chooser, even Compare columns, one start time."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.polling import wait_for

from .support import ManagerProcess, create_synthetic_experiment

MISSING_MODULE = 'nni_portal_no_such_module'


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _wait_first_render(page: Any) -> None:
    page.wait_for_selector('html[data-first-render]', state='attached', timeout=20_000)


@pytest.mark.slow
@pytest.mark.integration
def test_overview_shows_why_every_trial_failed(page: Any, live_experiment: Callable[..., Any]) -> None:
    expect = _expect()
    experiment = live_experiment(trial_command=f'{sys.executable} -c "import {MISSING_MODULE}"',
                                 max_trial_number=2, trial_concurrency=2)
    wait_for(lambda: experiment.get_status() == 'DONE', timeout=60)
    page.goto(f'http://127.0.0.1:{experiment.port}/#/overview')
    banner = page.locator('[data-banner="failures"]')
    expect(banner).to_be_visible(timeout=20_000)
    expect(banner).to_contain_text('No trial succeeded: 2 of 2 trials failed.')
    expect(banner).to_contain_text(f"ModuleNotFoundError: No module named '{MISSING_MODULE}'")
    expect(banner).to_contain_text('(exit code 1)')
    expect(banner).to_contain_text('trial.stderr')
    # not a green DONE: the status pill takes the failure colour
    expect(page.locator('.stat .pill.big')).to_have_class('pill big st-failed')


def test_no_banner_when_a_trial_succeeded(page: Any, viewed: ManagerProcess) -> None:
    page.goto(f'{viewed.url}#/overview')
    page.wait_for_selector('.stat .pill.big', timeout=20_000)
    assert page.locator('[data-banner="failures"]').is_hidden()


def test_column_chooser_hides_columns_and_remembers(page: Any, viewed: ManagerProcess) -> None:
    expect = _expect()
    page.goto(f'{viewed.url}#/trials')
    _wait_first_render(page)
    headers = page.locator('.vt-th')
    expect(headers.filter(has_text='optimizer')).to_have_count(1)
    page.click('button[data-action="columns"]')
    page.uncheck('.column-chooser input[data-column="param:optimizer"]')
    page.uncheck('.column-chooser input[data-column="status"]')
    expect(headers.filter(has_text='optimizer')).to_have_count(0)
    expect(headers.filter(has_text='Status')).to_have_count(0)
    page.reload()
    _wait_first_render(page)
    expect(headers.filter(has_text='learning_rate')).to_have_count(1)
    expect(headers.filter(has_text='optimizer')).to_have_count(0)  # kept across visits
    page.click('button[data-action="columns"]')
    page.click('.column-chooser button:has-text("Show all")')
    expect(headers.filter(has_text='optimizer')).to_have_count(1)


def test_compare_columns_are_even(page: Any, viewed: ManagerProcess) -> None:
    page.goto(f'{viewed.url}#/trials')
    _wait_first_render(page)
    boxes = page.locator('.vt-row:not([hidden]) input[type="checkbox"]')
    for index in range(3):
        boxes.nth(index).check()
    page.click('button:has-text("Compare 3")')
    page.wait_for_selector('dialog .compare-table thead th >> nth=3')
    widths = page.evaluate("[...document.querySelectorAll('dialog .compare-table thead th')]"
                           ".slice(1).map((th) => th.getBoundingClientRect().width)")
    assert len(widths) == 3 and max(widths) - min(widths) <= 1.0, widths


def test_same_start_time_on_overview_and_experiment_list_after_a_resume(page: Any, workdir: Path) -> None:
    from nni.experiment.manifest import Experiments

    create_synthetic_experiment(workdir, 'resumed1', 12, seed=5, name='resumed')
    # a resume writes the time of the new start into the manifest; the profile keeps the first start
    Experiments().update_fields('resumed1', {'startTime': int(time.time() * 1000) + 3_600_000})
    manager = ManagerProcess(workdir, 'resumed1')
    try:
        page.goto(f'{manager.url}#/overview')
        page.wait_for_selector('.stat .muted.small:has-text("started")', timeout=20_000)
        overview = page.locator('.stat .muted.small:has-text("started")').first.inner_text()
        page.goto(f'{manager.url}#/experiments')
        row = page.locator('tr[data-id="resumed1"] td').nth(5)
        _expect()(row).not_to_have_text('', timeout=10_000)
        assert row.inner_text() in overview, (row.inner_text(), overview)
    finally:
        manager.stop()


@pytest.mark.slow
@pytest.mark.integration
def test_waiting_customized_trial_is_listed(page: Any, live_experiment: Callable[..., Any],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from nni.experiment import rest

    expect = _expect()
    monkeypatch.setenv('PORTAL_TRIAL_STEPS', '40')  # the first trial holds the only slot for a while
    experiment = live_experiment(max_trial_number=5)
    wait_for(lambda: any(t.status == 'RUNNING' for t in experiment.list_trial_jobs()), timeout=30)
    rest.post(experiment.port, '/trial-jobs', {'x': 0.5, 'optimizer': 'customized-choice'}, None)
    page.goto(f'http://127.0.0.1:{experiment.port}/#/trials')
    _wait_first_render(page)
    row = page.locator('.vt-row:not([hidden])', has_text='customized-choice')
    expect(row).to_have_count(1, timeout=20_000)
    expect(row.locator('.pill')).to_have_text('Waiting')


@pytest.mark.slow
@pytest.mark.integration
def test_table_columns_stay_aligned_with_long_values(page: Any, live_experiment: Callable[..., Any],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('PORTAL_TRIAL_STEPS', '1')
    long_value = 'sgd_with_a_rather_long_name_that_is_wider_than_its_column_' * 2
    experiment = live_experiment(max_trial_number=6, trial_concurrency=3, search_space={
        'x': {'_type': 'uniform', '_value': [0, 1]},
        'optimizer': {'_type': 'choice', '_value': [long_value, 'adam']},
        'zz_last': {'_type': 'choice', '_value': ['a', 'b']}})
    wait_for(lambda: experiment.get_status() == 'DONE', timeout=60)
    page.goto(f'http://127.0.0.1:{experiment.port}/#/trials')
    _wait_first_render(page)
    page.wait_for_selector('.vt-row:not([hidden]) >> nth=5')
    # left edge of every cell of the last parameter column, header included: one value when aligned
    lefts = page.evaluate("""() => {
        const index = [...document.querySelectorAll('.vt-th')].findIndex((th) => th.textContent === 'zz_last');
        const rows = [document.querySelector('.vt-head'), ...document.querySelectorAll('.vt-row:not([hidden])')];
        return rows.map((row) => Math.round(row.children[index].getBoundingClientRect().left));
    }""")
    assert len(lefts) == 7 and len(set(lefts)) == 1, lefts
