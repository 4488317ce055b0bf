"""Medianstop and Curvefitting assessors: their verdicts, class args and the missing-extra error."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import pytest

from nni.algorithms.hpo.curvefitting_assessor import CurvefittingAssessor
from nni.algorithms.hpo.curvefitting_assessor.model_factory import CurveModel
from nni.algorithms.hpo.medianstop_assessor import MedianstopAssessor
from nni.algorithms.hpo.registry import create_algorithm, validate_algorithm_config
from nni.assessor import AssessResult

Good, Bad = AssessResult.Good, AssessResult.Bad


def _curve(top: float, rate: float, steps: int) -> list[float]:
    """An accuracy-like learning curve rising to ``top``."""
    return [top * (1 - math.exp(-rate * k)) for k in range(1, steps + 1)]


# ---------------------------------------------------------------------------------------------- Medianstop


def _completed(assessor: MedianstopAssessor, trial: str, history: list[float]) -> None:
    for step in range(1, len(history) + 1):
        assessor.assess_trial(trial, history[:step])
    assessor.trial_end(trial, True)


def test_medianstop_maximize_uses_lower_median_of_running_averages():
    assessor = MedianstopAssessor(optimize_mode='maximize')
    # running averages at step 2: 2.0, 4.0, 6.0, 8.0 -> lower median (index (4-1)//2 = 1) is 4.0
    for index, (first, second) in enumerate([(1, 3), (3, 5), (5, 7), (7, 9)]):
        _completed(assessor, f'done{index}', [first, second])
    assert assessor.assess_trial('new', [3.9, 3.95]) is Bad  # best 3.95 < 4.0
    assert assessor.assess_trial('other', [3.0, 4.0]) is Good  # best 4.0 is not below 4.0 (strict)


def test_medianstop_minimize_uses_upper_median():
    assessor = MedianstopAssessor(optimize_mode='minimize')
    for index, (first, second) in enumerate([(1, 3), (3, 5), (5, 7), (7, 9)]):
        _completed(assessor, f'done{index}', [first, second])
    # averages at step 2: 2, 4, 6, 8 -> upper median (index 4//2 = 2) is 6.0
    assert assessor.assess_trial('a', [6.5, 6.1]) is Bad  # best (min) 6.1 > 6.0
    assert assessor.assess_trial('b', [7.0, 6.0]) is Good


def test_medianstop_start_step_and_no_completed_trials():
    assessor = MedianstopAssessor(start_step=3)
    assert assessor.assess_trial('t', [0.0]) is Good  # nothing completed
    _completed(assessor, 'done', [0.9, 0.9, 0.9])
    assert assessor.assess_trial('t', [0.0, 0.0]) is Good  # before start_step
    assert assessor.assess_trial('t', [0.0, 0.0, 0.0]) is Bad


def test_medianstop_only_counts_successful_trials_that_reached_the_step():
    assessor = MedianstopAssessor()
    for step in (1, 2):
        assessor.assess_trial('failed', [0.9, 0.9][:step])
    assessor.trial_end('failed', False)  # failed / early stopped: not a reference
    _completed(assessor, 'short', [0.9])  # completed with one result only
    assert assessor.assess_trial('t', [0.1, 0.2]) is Good  # no completed trial has 2 results
    assert assessor.assess_trial('u', [0.1]) is Bad  # 'short' is a reference at step 1


def test_medianstop_dict_values_and_nan():
    assessor = MedianstopAssessor()
    _completed(assessor, 'done', [{'default': 0.5, 'loss': 1.0}, {'default': 0.7}])
    assert assessor.assess_trial('t', [{'default': 0.1}, {'default': 0.2}]) is Bad
    assert assessor.assess_trial('nan', [math.nan, math.nan]) is Good  # nothing to judge yet
    assessor.trial_end('never-assessed', True)  # unknown id: ignored


def test_assessors_skip_results_that_are_not_numbers():
    """A trial reporting a string must not fail the experiment (NNI's extract raises)."""
    median = MedianstopAssessor()
    _completed(median, 'done', [0.5, 0.7])
    assert median.assess_trial('odd', ['text', {'loss': 1}]) is Good
    assert median.assess_trial('odd2', ['text', 0.1]) is Bad
    curve = CurvefittingAssessor(epoch_num=10, start_step=3)
    curve.assess_trial('ref', [0.9] * 10)
    curve.trial_end('ref', True)
    assert curve.assess_trial('odd', ['x', None, [1]]) is Good


# -------------------------------------------------------------------------------------------- Curvefitting


def test_curvefitting_defaults_and_nni_unit_test_values():
    assessor = CurvefittingAssessor(20)
    assert (assessor.start_step, assessor.target_pos, assessor.threshold, assessor.gap) == (6, 20, 0.95, 1)
    assert assessor.assess_trial(1, [1]) is Good
    assert CurveModel(21).predict([1, 199, 0, 199, 1, 209, 2]) is None  # no consistent fit
    model = CurveModel(21)
    model.target_pos = 20
    weights = [1 / 12] * 12
    # NNI's starting parameters are kept (its tests pin them)
    assert model.predict_y('vap', 9) == pytest.approx(0.5591906328335763)
    assert model.predict_y('logx_linear', 15) == pytest.approx(1.0704360293379522)
    assert model.f_comb(9, weights) == pytest.approx(1.1543379521172443)
    assert model.f_comb(15, weights) == pytest.approx(1.6949395581692737)


@pytest.mark.parametrize('top, rate', [(0.9, 0.3), (0.5, 0.3), (0.9, 0.05), (0.6, 0.5)])
def test_curve_model_extrapolates_clean_learning_curves(top, rate):
    observed = _curve(top, rate, 8)
    truth = _curve(top, rate, 20)[-1]
    assert CurveModel(20).predict(observed) == pytest.approx(truth, abs=0.02)


@pytest.mark.parametrize('history', [
    [0.5], [0.5, 0.6], [math.nan] * 8, [0.0] * 8, [math.inf, 0.1, 0.2], [],
])
def test_curve_model_gives_up_without_crashing_on_degenerate_curves(history):
    prediction = CurveModel(20).predict(history)
    assert prediction is None or math.isfinite(prediction)


def test_curve_model_skips_nan_points():
    curve = _curve(0.8, 0.4, 9)
    curve[3] = math.nan
    assert CurveModel(20).predict(curve) == pytest.approx(_curve(0.8, 0.4, 20)[-1], abs=0.03)


def test_curvefitting_stops_a_clearly_bad_curve_and_keeps_good_ones():
    assessor = CurvefittingAssessor(epoch_num=20, start_step=6)
    good = _curve(0.9, 0.3, 20)
    for step in range(1, 21):
        assert assessor.assess_trial('reference', good[:step]) is Good  # no completed trial yet
    assessor.trial_end('reference', True)
    assert assessor.completed_best_performance == pytest.approx(good[-1])

    bad = _curve(0.4, 0.3, 20)
    verdicts = [assessor.assess_trial('bad', bad[:step]) for step in range(1, 9)]
    assert verdicts[:5] == [Good] * 5  # before start_step
    assert Bad in verdicts[5:]

    similar = _curve(0.91, 0.25, 20)
    assert all(assessor.assess_trial('similar', similar[:step]) is Good for step in range(1, 15))
    flat = [0.5] * 10
    assert assessor.assess_trial('flat', flat) is Bad  # predicted 0.5, bar 0.95 * 0.9


def test_curvefitting_best_comes_from_the_trial_that_ended():
    """NNI takes the last history assessed by anyone; here each trial's own history counts."""
    assessor = CurvefittingAssessor(epoch_num=10, start_step=3)
    assessor.assess_trial('a', [0.2, 0.3, 0.35])
    assessor.assess_trial('b', [0.5, 0.7, 0.9])
    assessor.trial_end('a', True)
    assert assessor.completed_best_performance == pytest.approx(0.35)
    assessor.trial_end('b', False)  # failed: does not count
    assert assessor.completed_best_performance == pytest.approx(0.35)


def test_curvefitting_gap_skips_judgements():
    assessor = CurvefittingAssessor(epoch_num=20, start_step=6, gap=3)
    assessor.assess_trial('ref', [0.9] * 20)
    assessor.trial_end('ref', True)
    flat = [0.3] * 12
    assert assessor.assess_trial('t', flat[:6]) is Bad  # first judgement at start_step
    assert assessor.assess_trial('t', flat[:7]) is Good  # within the gap: not judged
    assert assessor.assess_trial('t', flat[:8]) is Good
    assert assessor.assess_trial('t', flat[:9]) is Bad


# ------------------------------------------------------------------------------------ config and registry


@pytest.mark.parametrize('config, problem', [
    ({'name': 'Medianstop', 'classArgs': {'optimize_mode': 'max'}}, 'optimize_mode should be in'),
    ({'name': 'Medianstop', 'classArgs': {'start_step': -1}}, 'start_step should be in range'),
    ({'name': 'Medianstop', 'classArgs': {'startstep': 1}}, "Wrong key 'startstep'"),
    ({'name': 'Curvefitting', 'classArgs': {}}, "Missing key: 'epoch_num'"),
    ({'name': 'Curvefitting', 'classArgs': {'epoch_num': 20, 'gap': 0}}, 'gap should be in range'),
    ({'name': 'Curvefitting', 'classArgs': {'epoch_num': 20, 'threshold': 'high'}}, 'threshold should be a number'),
])
def test_class_args_are_checked_before_start(config, problem):
    errors = validate_algorithm_config(config, 'assessor')
    assert len(errors) == 1 and errors[0].startswith('assessor.classArgs: ') and problem in errors[0]


def test_builtin_assessors_by_name_and_class_path():
    assert validate_algorithm_config({'name': 'medianstop', 'classArgs': {'optimize_mode': 'minimize'}},
                                     'assessor') == []
    assessor = create_algorithm({'name': 'Curvefitting', 'classArgs': {'epoch_num': 10, 'threshold': 1}},
                                'assessor')
    assert isinstance(assessor, CurvefittingAssessor) and assessor.threshold == 1
    by_path = create_algorithm({'className': 'nni.algorithms.hpo.medianstop_assessor.MedianstopAssessor',
                                'classArgs': {'start_step': 2}}, 'assessor')
    assert isinstance(by_path, MedianstopAssessor)
    from nni.algorithms.hpo.curvefitting_assessor import CurvefittingClassArgsValidator  # noqa: F401
    from nni.algorithms.hpo.medianstop_assessor import MedianstopClassArgsValidator  # noqa: F401


def test_missing_scipy_is_one_clear_error_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, 'scipy', None)  # as if scipy were not installed
    errors = validate_algorithm_config({'name': 'Curvefitting', 'classArgs': {'epoch_num': 20}}, 'assessor')
    assert len(errors) == 1
    assert 'scipy' in errors[0] and 'nni[bo]' in errors[0] and errors[0].startswith('assessor.name')
    with pytest.raises(ValueError, match=r'nni\[bo\]'):
        create_algorithm({'name': 'Curvefitting', 'classArgs': {'epoch_num': 20}}, 'assessor')
    # Medianstop needs nothing beyond the standard library
    assert validate_algorithm_config({'name': 'Medianstop'}, 'assessor') == []


def test_importing_the_assessor_modules_for_validation_stays_light():
    import subprocess

    code = ('import sys; from nni.algorithms.hpo.registry import validate_algorithm_config as v; '
            'v({"name": "Curvefitting", "classArgs": {"epoch_num": 5}}, "assessor"); '
            'v({"name": "BOHB", "classArgs": {"optimize_mode": "maximize"}}, "tuner"); '
            'v({"name": "Medianstop"}, "assessor"); '
            'print(sorted(m for m in ("numpy", "scipy", "statsmodels") if m in sys.modules))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == '[]'


# ------------------------------------------------------------------------------- dispatcher + assessor


class _RecordingTuner:
    """A tuner that hands out fixed parameters and records what it is told."""

    def __init__(self) -> None:
        self.results: list[tuple[Any, Any]] = []
        self.ends: list[tuple[Any, bool]] = []

    def update_search_space(self, space: Any) -> None:
        pass

    def generate_multiple_parameters(self, ids: list[int], **kwargs: Any) -> list[dict]:
        return [{'quality': 0.9 if i == 0 else 0.1} for i in ids]

    def receive_trial_result(self, parameter_id: Any, parameters: Any, value: Any, **kwargs: Any) -> None:
        self.results.append((parameter_id, value))

    def trial_end(self, parameter_id: Any, success: bool, **kwargs: Any) -> None:
        self.ends.append((parameter_id, success))


def _drive(assessor: Any, include_intermediate: bool) -> tuple[list[tuple[str, str]], _RecordingTuner, Any]:
    """Trial t0 (id 0) succeeds with a good curve, then t1 (id 1) reports a bad one."""
    import queue
    import time

    from nni.runtime.msg_dispatcher import Dispatcher

    answers: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
    tuner = _RecordingTuner()
    dispatcher = Dispatcher(None, None, lambda code, content: answers.put((code, content)),
                            include_intermediate_results=include_intermediate, tuner=tuner, assessor=assessor)
    dispatcher.start()

    def metric(trial: str, parameter_id: int, kind: str, sequence: int, value: float) -> None:
        dispatcher.command('ME', json.dumps({'parameter_id': parameter_id, 'trial_job_id': trial, 'type': kind,
                                             'sequence': sequence, 'value': json.dumps(value)}))

    def end(trial: str, parameter_id: int, event: str) -> None:
        dispatcher.command('EN', json.dumps({'trial_job_id': trial, 'event': event,
                                             'hyper_params': json.dumps({'parameter_id': parameter_id})}))

    try:
        dispatcher.command('IN', '{}')
        dispatcher.command('GE', '2')
        for step, value in enumerate([0.5, 0.7, 0.8, 0.85]):
            metric('t0', 0, 'PERIODICAL', step, value)
        metric('t0', 0, 'FINAL', 0, 0.85)
        end('t0', 0, 'SUCCEEDED')
        for step, value in enumerate([0.05, 0.06, 0.07, 0.08]):
            metric('t1', 1, 'PERIODICAL', step, value)
        end('t1', 1, 'EARLY_STOPPED')
        dispatcher.command('PI', '')
        deadline = time.monotonic() + 10
        while len(tuner.ends) < 2 and not dispatcher.failed and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        dispatcher.stop()
    sent = []
    while not answers.empty():
        sent.append(answers.get())
    return sent, tuner, dispatcher


@pytest.mark.parametrize('include_intermediate', [False, True])
def test_bad_verdict_sends_one_kill_and_the_tuner_hears_as_in_nni(include_intermediate):
    sent, tuner, _ = _drive(MedianstopAssessor(start_step=2), include_intermediate)
    assert [content for code, content in sent if code == 'KI'] == ['"t1"']  # once, though 3 more results came
    assert tuner.ends == [(0, True), (1, False)]
    if include_intermediate:
        # NNI's includeIntermediateResults: the result that got the trial stopped becomes its final one
        assert tuner.results == [(0, 0.85), (1, 0.06)]
    else:
        assert tuner.results == [(0, 0.85)]


def test_assessor_that_raises_reports_an_error():
    class Exploding(MedianstopAssessor):
        def assess_trial(self, trial_job_id, trial_history):
            raise ValueError('assessor exploded')

    sent, _, dispatcher = _drive(Exploding(), False)
    errors = [content for code, content in sent if code == 'ER']
    assert len(errors) == 1 and 'assessor exploded' in errors[0] and dispatcher.failed
