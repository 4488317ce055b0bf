"""Result classes built from the exact JSON shapes of spec/rest.md."""

from __future__ import annotations

import json

import pytest

from nni.experiment.data import TrialHyperParameters, TrialJob, TrialMetricData, TrialResult

SUCCEEDED = json.loads(r'''
{
  "trialJobId": "Ab12c",
  "status": "SUCCEEDED",
  "hyperParameters": ["{\"parameter_id\":0,\"parameter_source\":\"algorithm\",\"parameters\":{\"lr\":0.01},\"parameter_index\":0}"],
  "logPath": "/home/u/nni-experiments/x1y2z3/environments/local-env/trials/Ab12c",
  "sequenceId": 0,
  "startTime": 1700000000000,
  "endTime": 1700000060000,
  "finalMetricData": [{"timestamp": 1700000059000, "trialJobId": "Ab12c", "parameterId": "0", "type": "FINAL", "sequence": 0, "data": "\"0.93\""}],
  "envId": "local-env"
}
''')


def test_trial_job_from_spec_example() -> None:
    job = TrialJob(**SUCCEEDED)
    assert job.trialJobId == 'Ab12c'
    assert job.status == 'SUCCEEDED'
    assert job.sequenceId == 0
    assert job.startTime == 1700000000000 and job.endTime == 1700000060000
    assert job.logPath.endswith('/trials/Ab12c')
    assert job.hyperParameters == [TrialHyperParameters(
        parameter_id=0, parameter_source='algorithm', parameters={'lr': 0.01}, parameter_index=0,
    )]
    [metric] = job.finalMetricData
    assert metric == TrialMetricData(1700000059000, 'Ab12c', '0', 'FINAL', 0, '"0.93"')
    assert metric.data == 0.93
    assert job.stderrPath == '' and job.message == '--'


def test_trial_job_running_defaults() -> None:
    job = TrialJob(trialJobId='Q1w2e', status='RUNNING', sequenceId=3, startTime=5, hyperParameters=[],
                   logPath='/p', envId='local-env', someFutureField=1)
    assert job.endTime == -1
    assert job.finalMetricData == [] and job.hyperParameters == []


def test_trial_job_failed_with_stderr_and_message() -> None:
    job = TrialJob(trialJobId='F', status='FAILED', sequenceId=1, startTime=1, endTime=2,
                   stderrPath='/p/stderr', message='exit code 1')
    assert job.stderrPath == '/p/stderr' and job.message == 'exit code 1'


@pytest.mark.parametrize('missing', ['startTime', 'sequenceId', 'trialJobId', 'status'])
def test_trial_job_required_fields(missing: str) -> None:
    data = dict(SUCCEEDED)
    del data[missing]
    with pytest.raises(TypeError):
        TrialJob(**data)


def test_hyper_parameters_keys_are_exact() -> None:
    base = {'parameter_id': None, 'parameter_source': 'customized', 'parameters': {'x': 1}, 'parameter_index': 0}
    hp = TrialHyperParameters(**base, placement_constraint={'type': 'None'}, version_info={'python': 3})
    assert hp.parameter_id is None and hp.version_info == {'python': 3}
    with pytest.raises(TypeError):
        TrialHyperParameters(**base, trial_job_id='Ab12c')
    without_index = dict(base)
    del without_index['parameter_index']
    with pytest.raises(TypeError):
        TrialHyperParameters(**without_index)


def test_metric_data_decoded_twice() -> None:
    record = {'timestamp': 1, 'trialJobId': 'A', 'parameterId': None, 'type': 'PERIODICAL', 'sequence': 2,
              'data': json.dumps(json.dumps({'default': 0.9, 'loss': 0.2}))}
    metric = TrialMetricData(**record)
    assert metric.data == {'default': 0.9, 'loss': 0.2}
    assert metric.parameterId is None and metric.sequence == 2 and metric.type == 'PERIODICAL'
    assert TrialMetricData(**{**record, 'parameterId': '3', 'data': '"5"'}).parameterId == '3'


def test_metric_data_rejects_unknown_keys() -> None:
    with pytest.raises(TypeError):
        TrialMetricData(timestamp=1, trialJobId='A', parameterId='0', type='FINAL', sequence=0, data='"1"', extra=1)


def test_trial_result_value_decoded_once() -> None:
    assert TrialResult(parameter={'C': 0.87}, value='0.9866666666666667', trialJobId='GPInz').value == 0.9866666666666667
    result = TrialResult(**{'parameter': {'C': 1}, 'value': '{"default": 0.98, "loss": 0.1}', 'trialJobId': 'X'})
    assert result.value == {'default': 0.98, 'loss': 0.1}
    assert result.parameter == {'C': 1} and result.trialJobId == 'X'
    with pytest.raises(TypeError):
        TrialResult(parameter={}, value='1', trialJobId='X', intermediate=[])


def test_repr_and_equality() -> None:
    job = TrialJob(**SUCCEEDED)
    assert 'Ab12c' in repr(job)
    assert job == TrialJob(**SUCCEEDED)
