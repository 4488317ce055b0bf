"""Hyperband and BOHB advisors: bracket arithmetic, promotion, scheduling, the BOHB model, and the
dispatcher running an advisor."""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Callable
from typing import Any

import pytest

from nni.algorithms.hpo._successive_halving import bracket_rounds, max_bracket_index
from nni.algorithms.hpo.bohb_advisor import BOHB
from nni.algorithms.hpo.hyperband_advisor import Hyperband
from nni.algorithms.hpo.registry import create_algorithm, validate_algorithm_config

SPACE = {'x': {'_type': 'uniform', '_value': [0, 1]}, 'y': {'_type': 'uniform', '_value': [0, 1]}}


class AdvisorHarness:
    """Plays the manager for an advisor: asks for trials, reports results, ends trials."""

    def __init__(self, advisor: Any, space: dict | None = None) -> None:
        self.advisor = advisor
        self.sent: list[tuple[str, str]] = []
        advisor.send = lambda code, content: self.sent.append((getattr(code, 'value', code), content))
        advisor.handle_initialize(space or SPACE)

    def request(self, count: int) -> list[dict]:
        before = len(self.sent)
        self.advisor.handle_request_trial_jobs(count)
        return [json.loads(content) for code, content in self.sent[before:] if code == 'TR']

    def finish(self, record: dict, value: Any = None, periodical: list | None = None,
               event: str = 'SUCCEEDED') -> list[dict]:
        before = len(self.sent)
        for sequence, item in enumerate(periodical or []):
            self.advisor.handle_report_metric_data({'parameter_id': record['parameter_id'], 'type': 'PERIODICAL',
                                                    'sequence': sequence, 'value': json.dumps(item)})
        if value is not None:
            self.advisor.handle_report_metric_data({'parameter_id': record['parameter_id'], 'type': 'FINAL',
                                                    'sequence': 0, 'value': json.dumps(value)})
        self.advisor.handle_trial_end({'trial_job_id': 'trial', 'event': event,
                                       'hyper_params': json.dumps(record)})
        return [json.loads(content) for code, content in self.sent[before:] if code == 'TR']


def test_bracket_sizes_follow_the_hyperband_paper_table():
    assert max_bracket_index(81, 3) == 4
    assert [bracket_rounds(s, 4, 81, 3) for s in range(4, -1, -1)] == [
        [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
        [(34, 3), (11, 9), (3, 27), (1, 81)],
        [(15, 9), (5, 27), (1, 81)],
        [(8, 27), (2, 81)],
        [(5, 81)],
    ]
    # NNI's defaults R=60, eta=3: s_max 3, budgets floored
    assert max_bracket_index(60, 3) == 3
    assert bracket_rounds(3, 3, 60, 3) == [(27, 2), (9, 6), (3, 20), (1, 60)]
    # BOHB: s_max from max_budget / min_budget
    assert max_bracket_index(27 / 1, 3) == 3 and bracket_rounds(2, 3, 27, 3) == [(12, 3), (4, 9), (1, 27)]


def test_hyperband_first_bracket_budgets_ids_and_promotion():
    harness = AdvisorHarness(Hyperband(optimize_mode='maximize', R=9, eta=3, seed=0))
    assert harness.sent[0] == ('ID', '')
    first = harness.request(9)  # bracket s=2: 9 configs at budget 1
    assert [r['parameters']['TRIAL_BUDGET'] for r in first] == [1] * 9
    assert [r['parameter_id'] for r in first] == [f'0-2_0_{i}' for i in range(9)]
    assert all(set(r['parameters']) == {'x', 'y', 'TRIAL_BUDGET'} for r in first)
    promoted = []
    for record in first:
        # final result = x; PERIODICAL values are overridden by the FINAL one
        promoted += harness.finish(record, value=record['parameters']['x'], periodical=[5.0])
    assert promoted == []  # no credit left: the promoted configurations wait
    second = harness.request(10)
    best3 = sorted(first, key=lambda r: r['parameters']['x'], reverse=True)[:3]
    assert [r['parameters']['x'] for r in second[:3]] == [r['parameters']['x'] for r in best3]
    assert [r['parameters']['TRIAL_BUDGET'] for r in second[:3]] == [3, 3, 3]
    # a promoted configuration keeps its serial and gets the next round
    assert second[0]['parameter_id'] == best3[0]['parameter_id'].replace('_0_', '_1_')
    # parallelism: the rest of the credit starts the next bracket (s=1: 5 configs at budget 3)
    assert [r['parameter_id'].split('_')[0] for r in second[3:]] == ['0-1'] * 5 + ['0-0'] * 2


def test_hyperband_minimize_promotes_the_lowest_and_latest_intermediate_counts():
    harness = AdvisorHarness(Hyperband(optimize_mode='minimize', R=3, eta=3, seed=1))
    first = harness.request(3)  # s_max=1: bracket s=1 has 3 configs at budget 1, then 1 at budget 3
    assert len(first) == 3
    values = [0.5, 0.2, 0.9]
    for record, value in zip(first, values, strict=True):
        # no FINAL: the latest intermediate result ranks the trial
        harness.finish(record, periodical=[10.0, value], event='EARLY_STOPPED')
    (winner,) = harness.request(1)
    assert winner['parameters']['x'] == first[1]['parameters']['x'] and winner['parameters']['TRIAL_BUDGET'] == 3


def test_hyperband_round_with_failed_trials_promotes_what_has_results():
    """NNI indexes past the ranked list when trials failed without a metric and crashes."""
    harness = AdvisorHarness(Hyperband(optimize_mode='maximize', R=9, eta=3, seed=2, exec_mode='serial'))
    first = harness.request(9)
    for index, record in enumerate(first):
        if index < 8:
            harness.finish(record, event='FAILED')  # no metric at all
        else:
            harness.finish(record, value=0.5)
    harness.finish(first[0], value=1.0)  # a duplicate end is not counted twice, late metric ignored
    promoted = harness.request(5)
    assert [r['parameter_id'] for r in promoted] == [first[8]['parameter_id'].replace('_0_', '_1_')]


def test_hyperband_serial_waits_for_the_bracket_to_finish_and_keeps_the_credit():
    harness = AdvisorHarness(Hyperband(optimize_mode='maximize', R=3, eta=3, seed=3, exec_mode='serial'))
    first = harness.request(5)  # bracket s=1: 3 configs; the rest of the credit is kept
    assert len(first) == 3
    assert all(code != 'NO' for code, _ in harness.sent)  # waiting, not exhausted
    for record in first[:2]:
        assert harness.finish(record, value=0.1) == []
    promoted = harness.finish(first[2], value=0.9)  # round complete: the kept credit is spent
    assert [r['parameters']['TRIAL_BUDGET'] for r in promoted] == [3]
    # the bracket's last round is handed out but not finished: still no new bracket (NNI starts one)
    assert harness.request(1) == []
    following = harness.finish(promoted[0], value=0.95)
    assert [r['parameter_id'].split('_')[0] for r in following] == ['0-0'] * 2
    assert [r['parameters']['TRIAL_BUDGET'] for r in following] == [3, 3]


def test_hyperband_ignores_ids_of_an_earlier_run_and_never_reuses_them(tmp_path, monkeypatch):
    monkeypatch.setenv('NNI_CHECKPOINT_DIRECTORY', str(tmp_path))
    harness = AdvisorHarness(Hyperband(optimize_mode='maximize', R=3, eta=3, seed=4))
    first = harness.request(4)
    assert (tmp_path / 'hyperband_advisor.json').exists()

    resumed = Hyperband(optimize_mode='maximize', R=3, eta=3, seed=4)
    resumed.load_checkpoint()
    again = AdvisorHarness(resumed)
    resumed.handle_add_customized_trial([{**first[0], 'parameter_source': 'resumed'}])
    # results and ends of the earlier run's trials (string ids) do not disturb the new brackets
    again.finish(first[0], value=1.0)
    again.advisor.handle_report_metric_data({'parameter_id': None, 'type': 'FINAL', 'value': '1'})
    new = again.request(4)
    old_ids = {r['parameter_id'] for r in first}
    assert len(new) == 4 and not old_ids & {r['parameter_id'] for r in new}


def test_bohb_uses_the_model_after_min_points_in_model_and_files_results_by_budget():
    advisor = BOHB(optimize_mode='minimize', min_budget=1, max_budget=9, eta=3, min_points_in_model=8,
                   random_fraction=0.0, num_samples=64, seed=5)
    harness = AdvisorHarness(advisor)
    proposals: list[bool] = []
    original = advisor.model.propose

    def spy() -> Any:
        result = original()
        proposals.append(result is not None)
        return result

    advisor.model.propose = spy
    # bracket s=2: 9 configurations at budget 1, drawn at random (no model yet)
    first = harness.request(9)
    assert advisor.model.model_budget() is None and not any(proposals)
    for record in first[:7]:
        harness.finish(record, value=(record['parameters']['x'] - 0.2) ** 2 + (record['parameters']['y'] - 0.8) ** 2)
    assert advisor.model.model_budget() is None  # 7 < min_points_in_model
    for record in first[7:]:
        harness.finish(record, value=(record['parameters']['x'] - 0.2) ** 2 + (record['parameters']['y'] - 0.8) ** 2)
    assert advisor.model.model_budget() == 1.0
    assert set(advisor.model.observations) == {1.0}  # filed under its budget (NNI: budget 0)
    later = [r for r in harness.request(30) if r['parameter_id'].split('_')[1] == '0']
    assert later and proposals[-1] is True  # new brackets' configurations come from the model
    near = sum(abs(r['parameters']['x'] - 0.2) < 0.3 and abs(r['parameters']['y'] - 0.8) < 0.3 for r in later)
    assert near / len(later) > 0.6  # random draws land there 36% of the time


def test_bohb_import_data_uses_trial_budget_and_handles_every_type():
    space = {'c': {'_type': 'choice', '_value': ['a', 'b', 'c']}, 'n': {'_type': 'normal', '_value': [0, 1]},
             'r': {'_type': 'randint', '_value': [1, 5]}, 'q': {'_type': 'qloguniform', '_value': [1, 100, 1]}}
    advisor = BOHB(optimize_mode='maximize', min_budget=1, max_budget=3, random_fraction=0.0, seed=6)
    harness = AdvisorHarness(advisor, space)
    data = [{'parameter': {'c': 'abc'[i % 3], 'n': i / 10 - 1, 'r': 1 + i % 4, 'q': float(1 + i), 'TRIAL_BUDGET': 3},
             'value': {'default': i / 20}} for i in range(20)]
    advisor.handle_import_data(data + [{'parameter': {'c': 'a', 'n': 0, 'r': 1, 'q': 1.0}, 'value': 0.5}])
    assert {budget: len(rows) for budget, rows in advisor.model.observations.items()} == {3.0: 21}
    assert advisor.model.model_budget() == 3.0
    for record in harness.request(6):
        parameters = record['parameters']
        assert parameters['c'] in 'abc' and 1 <= parameters['r'] <= 4 and 1 <= parameters['q'] <= 100
        assert isinstance(parameters['n'], float)


@pytest.mark.parametrize('config, problem', [
    ({'name': 'Hyperband', 'classArgs': {'R': 60}}, "Missing key: 'optimize_mode'"),
    ({'name': 'Hyperband', 'classArgs': {'optimize_mode': 'maximize', 'eta': 1}}, 'eta should be in range'),
    ({'name': 'Hyperband', 'classArgs': {'optimize_mode': 'maximize', 'exec_mode': 'x'}}, 'exec_mode should be in'),
    ({'name': 'BOHB', 'classArgs': {'optimize_mode': 'maximize', 'min_budget': 0}}, 'min_budget should be in range'),
    ({'name': 'BOHB', 'classArgs': {'optimize_mode': 'maximize', 'min_budget': 9, 'max_budget': 3}},
     'should not be larger than max_budget'),
    ({'name': 'BOHB', 'classArgs': {'optimize_mode': 'maximize', 'top_n_percent': 100}}, 'top_n_percent'),
    ({'name': 'BOHB', 'classArgs': {'optimize_mode': 'maximize', 'config_space': '/a.pcs'}},
     'ConfigSpace files are not supported'),
])
def test_advisor_class_args_are_checked_before_start(config, problem):
    errors = validate_algorithm_config(config, 'tuner')
    assert len(errors) == 1 and problem in errors[0]


def test_bohb_missing_statsmodels_is_one_clear_error(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, 'statsmodels', None)
    config = {'name': 'BOHB', 'classArgs': {'optimize_mode': 'maximize'}}
    (error,) = validate_algorithm_config(config, 'tuner')
    assert 'statsmodels' in error and 'pip install nni[bo]' in error
    assert validate_algorithm_config({'name': 'Hyperband', 'classArgs': {'optimize_mode': 'maximize'}},
                                     'tuner') == []


# ------------------------------------------------------------------------------------- dispatcher + advisor


def _dispatcher(tuner_config: dict, assessor_config: dict | None = None) -> tuple[Any, Callable[..., list]]:
    from nni.runtime.msg_dispatcher import Dispatcher

    answers: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
    dispatcher = Dispatcher(tuner_config, assessor_config, lambda code, content: answers.put((code, content)))
    dispatcher.start()

    def collect(count: int, timeout: float = 10.0) -> list[tuple[str, str]]:
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < count:
            got.append(answers.get(timeout=max(0.01, deadline - time.monotonic())))
        return got

    return dispatcher, collect


def test_dispatcher_runs_an_advisor_and_holds_no_while_its_trials_run():
    config = {'name': 'Hyperband', 'classArgs': {'optimize_mode': 'maximize', 'R': 3, 'eta': 3,
                                                 'exec_mode': 'serial', 'seed': 7}}
    dispatcher, collect = _dispatcher(config, {'name': 'Medianstop'})
    try:
        dispatcher.command('IN', json.dumps(SPACE))
        assert collect(1) == [('ID', '')]
        assert dispatcher.assessor is None  # an advisor does its own early stopping
        dispatcher.command('GE', '3')
        trials = [json.loads(content) for code, content in collect(3)]
        assert all(t['parameter_id'].startswith('0-1_0_') for t in trials)
        for index, trial in enumerate(trials):
            dispatcher.command('ME', json.dumps({'parameter_id': trial['parameter_id'], 'trial_job_id': f't{index}',
                                                 'type': 'FINAL', 'sequence': 0, 'value': json.dumps(index)}))
            dispatcher.command('EN', json.dumps({'trial_job_id': f't{index}', 'event': 'SUCCEEDED',
                                                 'hyper_params': json.dumps(trial)}))
        dispatcher.command('GE', '1')
        ((code, content),) = collect(1)
        assert code == 'TR' and json.loads(content)['parameters']['x'] == trials[2]['parameters']['x']
    finally:
        dispatcher.stop()


class _GivesUpAdvisor:
    """An NNI-style advisor (handle_* methods, self.send) that says NO while its trial runs."""

    def handle_initialize(self, data: Any) -> None:
        self.send('ID', '')

    def handle_request_trial_jobs(self, count: int) -> None:
        if not getattr(self, 'sent_one', False):
            self.sent_one = True
            self.send('TR', json.dumps({'parameter_id': 'only', 'parameter_source': 'algorithm',
                                        'parameters': {}, 'parameter_index': 0}))
        self.send('NO', '')

    def handle_report_metric_data(self, data: Any) -> None:
        pass

    def handle_trial_end(self, data: Any) -> None:
        if data['trial_job_id'] == 'boom':
            raise RuntimeError('advisor exploded')


def test_dispatcher_forwards_an_advisors_no_once_its_trials_ended_and_reports_errors():
    dispatcher, collect = _dispatcher({'className': 'tests.algorithms.test_advisors._GivesUpAdvisor'})
    try:
        dispatcher.command('IN', '{}')
        dispatcher.command('GE', '2')
        assert [code for code, _ in collect(2)] == ['ID', 'TR']  # NO held: 'only' still runs
        dispatcher.command('EN', json.dumps({'trial_job_id': 't', 'event': 'SUCCEEDED',
                                             'hyper_params': json.dumps({'parameter_id': 'only'})}))
        assert collect(1) == [('NO', '')]
        dispatcher.command('EN', json.dumps({'trial_job_id': 'boom', 'event': 'FAILED', 'hyper_params': '{}'}))
        ((code, content),) = collect(1)
        assert code == 'ER' and 'advisor exploded' in content and dispatcher.failed
    finally:
        dispatcher.stop()


def test_advisors_are_nni_msg_dispatchers_that_open_no_channel(monkeypatch):
    from nni.runtime.msg_dispatcher_base import MsgDispatcherBase

    monkeypatch.setenv('NNI_TUNER_COMMAND_CHANNEL', 'ws://127.0.0.1:9/tuner')  # nothing listens there
    advisor = Hyperband(optimize_mode='maximize')
    assert isinstance(advisor, MsgDispatcherBase)
    with pytest.raises(RuntimeError, match='not attached to a dispatcher'):
        advisor.handle_initialize(SPACE)


def test_advisors_by_builtin_name_and_nni_class_path():
    hyperband = create_algorithm({'name': 'hyperband', 'classArgs': {'optimize_mode': 'minimize', 'R': 27}}, 'tuner')
    assert isinstance(hyperband, Hyperband) and hyperband.s_max == 3
    bohb = create_algorithm({'className': 'nni.algorithms.hpo.bohb_advisor.BOHB',
                             'classArgs': {'optimize_mode': 'maximize', 'min_budget': 1, 'max_budget': 27}}, 'tuner')
    assert isinstance(bohb, BOHB) and bohb.s_max == 3
    from nni.algorithms.hpo.bohb_advisor import BOHBClassArgsValidator  # noqa: F401
    from nni.algorithms.hpo.hyperband_advisor import HyperbandClassArgsValidator  # noqa: F401
