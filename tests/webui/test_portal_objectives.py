"""The portal with declared objectives: preselected axes and metric, and the same Pareto front as REST.

Two stopped experiments are written through the store and opened read-only by real managers: one
with two objectives and one with three, declared in an order other than the one their metric keys
first appear in (so ``keys[0]``-style defaults would pick other axes), with ties, NaN, infinities,
booleans, missing metrics, plain numbers and non-succeeded trials among the results.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nni.common.objectives import Objective, losses, pareto_front

from .support import ManagerProcess

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SPACE = {'x': {'_type': 'uniform', '_value': [0, 1]}}
NAN, INF = float('nan'), float('inf')

# declared {wer: minimize, accuracy: maximize}; the reported keys come as default, accuracy, wer,
# latency. 'wer' reads as "higher is better" to the portal's name heuristic: only the declaration
# makes it minimize.
TWO_OBJECTIVES = {'wer': 'minimize', 'accuracy': 'maximize'}
TWO_TRIALS: list[tuple[str, Any]] = [
    ('SUCCEEDED', {'default': 0.90, 'accuracy': 0.90, 'wer': 0.20, 'latency': 5.0}),
    ('SUCCEEDED', {'default': 0.90, 'accuracy': 0.90, 'wer': 0.20, 'latency': 6.0}),  # equal to the one before
    ('SUCCEEDED', {'default': 0.95, 'accuracy': 0.95, 'wer': 0.30}),
    ('SUCCEEDED', {'default': 0.95, 'accuracy': 0.95, 'wer': 0.35}),  # same accuracy, worse wer
    ('SUCCEEDED', {'default': 0.80, 'accuracy': 0.80, 'wer': 0.10}),
    ('FAILED', {'default': 0.99, 'accuracy': 0.99, 'wer': 0.05}),  # would dominate all, but failed
    ('SUCCEEDED', {'default': 0.70, 'accuracy': NAN, 'wer': 0.01}),
    ('SUCCEEDED', {'default': 0.999, 'accuracy': 0.999}),  # no wer
    ('SUCCEEDED', 0.5),  # a plain number
    ('SUCCEEDED', {'default': 0.85, 'accuracy': 0.85, 'wer': 0.15}),
    ('SUCCEEDED', {'default': 0.70, 'accuracy': 0.70, 'wer': 0.50}),
    ('RUNNING', None),
    ('SUCCEEDED', {'default': 0.60, 'accuracy': True, 'wer': 0.0}),  # a boolean is no number
    ('SUCCEEDED', {'default': 0.60, 'accuracy': INF, 'wer': 0.02}),
    ('EARLY_STOPPED', {'default': 0.97, 'accuracy': 0.97, 'wer': 0.08}),
    ('SUCCEEDED', {'default': 0.86, 'accuracy': 0.86, 'wer': 'low'}),  # not a number
]

# declared {energy: minimize, accuracy: maximize, wer: minimize}; keys come as default, accuracy, wer, energy
THREE_OBJECTIVES = {'energy': 'minimize', 'accuracy': 'maximize', 'wer': 'minimize'}


def _three_trials() -> list[tuple[str, Any]]:
    rng = random.Random(5)
    trials: list[tuple[str, Any]] = []
    for index in range(36):
        # coarse values: ties in one objective are common, as with rounded real metrics
        accuracy = round(rng.uniform(0.6, 0.95), 2)
        metric = {'default': accuracy, 'accuracy': accuracy, 'wer': round(rng.uniform(0.05, 0.4), 2),
                  'energy': float(rng.randint(1, 12))}
        status = 'FAILED' if index % 9 == 4 else 'SUCCEEDED'
        trials.append((status, metric))
    trials.append(('SUCCEEDED', dict(trials[3][1])))  # an exact copy of another result
    trials.append(('SUCCEEDED', {'default': 0.99, 'accuracy': 0.99, 'wer': 0.01}))  # no energy
    return trials


def _write_experiment(workdir: Path, experiment_id: str, objectives: dict[str, str],
                      trials: list[tuple[str, Any]]) -> None:
    """A stopped experiment with exactly these final results, as a finished run leaves it in the store."""
    from nni.experiment.manifest import Experiments
    from nni.manager.store import ExperimentStore

    root = workdir / experiment_id
    for folder in ('db', 'log', 'checkpoint', 'trials'):
        (root / folder).mkdir(parents=True, exist_ok=True)
    store = ExperimentStore(root / 'db' / 'nni.sqlite', create=True)
    start = int(time.time() * 1000) - 600_000
    params = {
        'experimentName': experiment_id, 'searchSpace': SPACE, 'trialCommand': 'python3 trial.py',
        'trialCodeDirectory': str(workdir), 'trialConcurrency': 2, 'maxTrialNumber': len(trials),
        'experimentWorkingDirectory': str(workdir), 'trainingService': {'platform': 'local'},
        'tuner': {'name': 'TPE', 'classArgs': {'optimize_mode': objectives}},
    }
    for index, (status, metric) in enumerate(trials):
        trial_id = f'm{index:03d}'
        record = json.dumps({'parameter_id': index, 'parameter_source': 'algorithm',
                             'parameters': {'x': index / 100}, 'parameter_index': 0})
        began = start + index * 1000
        store.add_trial_event(trial_id, 'WAITING', data=record, sequence_id=index, timestamp=began)
        store.add_trial_event(trial_id, 'RUNNING', sequence_id=index, timestamp=began + 10)
        if metric is not None:
            store.add_metric(trial_id, str(index), 'FINAL', 0, json.dumps(json.dumps(metric)), timestamp=began + 500)
        if status != 'RUNNING':
            store.add_trial_event(trial_id, status, sequence_id=index, timestamp=began + 600)
    end = start + len(trials) * 1000 + 1000
    store.store_profile({'params': params, 'id': experiment_id, 'execDuration': (end - start) // 1000,
                         'startTime': start, 'endTime': end, 'logDir': str(root), 'nextSequenceId': len(trials),
                         'revision': 1})
    store.close()
    Experiments().add_experiment(experiment_id, None, start, 'local', experiment_id, endTime=end,
                                 status='STOPPED', logDir=str(workdir))


@pytest.fixture(scope='module')
def two(workdir: Path) -> Iterator[ManagerProcess]:
    _write_experiment(workdir, 'mo2', TWO_OBJECTIVES, TWO_TRIALS)
    manager = ManagerProcess(workdir, 'mo2')
    yield manager
    manager.stop()


@pytest.fixture(scope='module')
def three(workdir: Path) -> Iterator[ManagerProcess]:
    _write_experiment(workdir, 'mo3', THREE_OBJECTIVES, _three_trials())
    manager = ManagerProcess(workdir, 'mo3')
    yield manager
    manager.stop()


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _open_pareto(page: Any, manager: ManagerProcess) -> None:
    page.goto(f'{manager.url}#/trials')
    page.wait_for_selector('html[data-first-render]', state='attached', timeout=20_000)
    page.click('.tabs button[data-tab="pareto"]')


def _listed(page: Any, kind: str, count: int) -> list[str]:
    """Trial ids the chart's foot lists for one front, once it lists ``count`` of them."""
    line = page.locator(f'.chart-foot [data-front="{kind}"]')
    _expect()(line).to_have_attribute('data-count', str(count))
    return line.locator('a').all_text_contents()


def _rest_front(manager: ManagerProcess) -> list[str]:
    return [trial['trialJobId'] for trial in manager.request('GET', 'pareto-front')['trials']]


def _front_of(trials: list[tuple[str, Any]], objectives: dict[str, str]) -> list[str]:
    """The front by nni.common.objectives' own rules, computed here without the manager."""
    declared = [Objective(name, mode == 'maximize') for name, mode in objectives.items()]
    points = []
    for index, (status, metric) in enumerate(trials):
        vector = losses(json.dumps(json.dumps(metric)), declared) if status == 'SUCCEEDED' else None
        if vector is not None:
            points.append((f'm{index:03d}', vector))
    return pareto_front(points)


def test_two_objectives_preselect_declared_axes_and_match_rest(page: Any, two: ManagerProcess) -> None:
    expect = _expect()
    rest = _rest_front(two)
    assert rest == _front_of(TWO_TRIALS, TWO_OBJECTIVES)
    assert {'m000', 'm001'} <= set(rest)  # equal results are both kept
    assert not {'m003', 'm005', 'm006', 'm013', 'm014'} & set(rest)

    page.goto(f'{two.url}#/trials')
    page.wait_for_selector('html[data-first-render]', state='attached', timeout=20_000)
    # the metric tab opens on the first objective, objectives listed first, its declared direction
    expect(page.locator('select[aria-label="metric key"]')).to_have_value('wer')
    options = page.locator('select[aria-label="metric key"] option').all_text_contents()
    assert options[:2] == ['wer', 'accuracy']
    assert sorted(options[2:]) == ['default metric', 'latency']
    expect(page.locator('select[aria-label="direction of wer"]')).to_have_value('min')

    page.click('.tabs button[data-tab="pareto"]')
    expect(page.locator('select[aria-label="x"]')).to_have_value('wer')
    expect(page.locator('select[aria-label="y"]')).to_have_value('accuracy')
    assert page.locator('select[aria-label="x"] option').all_text_contents()[:2] == ['wer', 'accuracy']
    expect(page.locator('select[aria-label="direction of wer"]')).to_have_value('min')
    expect(page.locator('select[aria-label="direction of accuracy"]')).to_have_value('max')
    expect(page.locator('.chart-foot [data-front="plot"]')).to_contain_text("The experiment's Pareto front")
    assert _listed(page, 'plot', len(rest)) == rest
    expect(page.locator('.chart-foot [data-front="experiment"]')).to_have_count(0)


def test_a_users_pick_wins_and_keeps_the_experiments_front_listed(page: Any, two: ManagerProcess) -> None:
    expect = _expect()
    rest = _rest_front(two)
    _open_pareto(page, two)
    page.select_option('select[aria-label="x"]', 'latency')
    expect(page.locator('select[aria-label="x"]')).to_have_value('latency')
    expect(page.locator('.chart-foot [data-front="plot"]')).to_contain_text('Pareto front of latency (min)')
    assert _listed(page, 'experiment', len(rest)) == rest

    # leave the page and come back: the pick stays
    page.click('.nav a[data-page="overview"]')
    page.click('.nav a[data-page="trials"]')
    expect(page.locator('select[aria-label="x"]')).to_have_value('latency')
    expect(page.locator('select[aria-label="y"]')).to_have_value('accuracy')

    # picking for y what x shows swaps the axes rather than dropping the pick
    page.select_option('select[aria-label="y"]', 'latency')
    expect(page.locator('select[aria-label="y"]')).to_have_value('latency')
    expect(page.locator('select[aria-label="x"]')).to_have_value('accuracy')


def test_three_objectives_show_projection_and_the_experiments_front(page: Any, three: ManagerProcess) -> None:
    expect = _expect()
    trials = _three_trials()
    rest = _rest_front(three)
    assert rest == _front_of(trials, THREE_OBJECTIVES)
    projection = _front_of(trials, {'energy': 'minimize', 'accuracy': 'maximize'})
    assert set(projection) < set(rest)  # the data has 3-D front members off the 2-D front

    _open_pareto(page, three)
    expect(page.locator('select[aria-label="x"]')).to_have_value('energy')
    expect(page.locator('select[aria-label="y"]')).to_have_value('accuracy')
    expect(page.locator('select[aria-label="direction of energy"]')).to_have_value('min')
    assert page.locator('select[aria-label="y"] option').all_text_contents()[:3] == ['energy', 'accuracy', 'wer']
    plot_line = page.locator('.chart-foot [data-front="plot"]')
    expect(plot_line).to_contain_text('2-D projection on energy (min) and accuracy (max)')
    assert _listed(page, 'plot', len(projection)) == projection
    experiment_line = page.locator('.chart-foot [data-front="experiment"]')
    expect(experiment_line).to_contain_text('over all 3 objectives')
    assert _listed(page, 'experiment', len(rest)) == rest


def test_overview_best_trial_is_best_by_the_first_objective(page: Any, two: ManagerProcess) -> None:
    expect = _expect()
    wer = {f'm{i:03d}': metric['wer'] for i, (status, metric) in enumerate(TWO_TRIALS)
           if status == 'SUCCEEDED' and isinstance(metric, dict) and isinstance(metric.get('wer'), float)}
    best_id = min(wer, key=wer.get)
    state = two.request('GET', 'portal/state')
    assert state['best']['trialJobId'] == best_id
    assert (state['best']['metricKey'], state['best']['mode']) == ('wer', 'minimize')
    assert state['objectives'] == [{'name': 'wer', 'mode': 'minimize'}, {'name': 'accuracy', 'mode': 'maximize'}]

    page.goto(two.url)
    best_card = page.locator('.stat:has-text("Best metric")')
    expect(best_card.locator('a.mono')).to_contain_text(best_id)
    expect(best_card.locator('[data-best="wer"]')).to_contain_text('wer (first objective), minimize')
    expect(best_card.locator('.stat-value')).to_have_text('0')


def test_js_front_equals_python_front_on_random_points(page: Any, two: ManagerProcess) -> None:
    """plots.js's paretoFront against nni.common.objectives.pareto_front, ties and all."""
    page.goto(two.url)
    page.wait_for_selector('.stat-value')
    rng = random.Random(11)
    cases = []
    for _ in range(60):
        dims = rng.choice([2, 3, 4])
        maximize = [rng.random() < 0.5 for _ in range(dims)]
        points = [[float(rng.randint(0, 4)) for _ in range(dims)] for _ in range(rng.randint(1, 40))]
        cases.append((points, maximize))
    fronts = page.evaluate(
        """async (cases) => {
            const { paretoFront } = await import('./js/components/plots.js');
            return cases.map(([points, maximize]) => paretoFront(points, maximize));
        }""", cases)
    for (points, maximize), front in zip(cases, fronts, strict=True):
        expected = pareto_front([(i, [-v if up else v for v, up in zip(p, maximize, strict=True)])
                                 for i, p in enumerate(points)])
        assert front == expected, (points, maximize)
