"""Trial API forms NNI accepts: list / array final results, overwrite_intermediate_seq, nni.typehint."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

import nni
import nni.trial
from nni.runtime.trial_command_channel import (
    TrialCommandChannel,
    get_default_trial_command_channel,
    set_default_trial_command_channel,
)


class RecordingChannel(TrialCommandChannel):
    def __init__(self) -> None:
        self.metrics: list[dict] = []

    def receive_parameter(self):  # type: ignore[no-untyped-def]
        return {'parameter_id': 4, 'parameters': {'x': 1}}

    def send_metric(self, **kwargs):  # type: ignore[no-untyped-def]
        self.metrics.append(kwargs)


@pytest.fixture
def channel(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for name in ('NNI_PLATFORM', 'NNI_TRIAL_COMMAND_CHANNEL'):
        monkeypatch.delenv(name, raising=False)
    nni.trial._reset()
    previous = get_default_trial_command_channel()
    recording = RecordingChannel()
    set_default_trial_command_channel(recording)
    nni.get_next_parameter()
    yield recording
    set_default_trial_command_channel(previous)
    nni.trial._reset()


def test_final_result_may_be_a_list_or_tuple(channel: RecordingChannel) -> None:
    nni.report_final_result(['a', {'k': None}, 2, 0.5])
    nni.report_final_result((1, 2))
    assert [m['value'] for m in channel.metrics] == [['a', {'k': None}, 2, 0.5], [1, 2]]
    assert all(m['type'] == 'FINAL' and m['parameter_id'] == 4 for m in channel.metrics)


def test_final_result_may_be_an_array_and_numpy_scalars_stay_numbers(channel: RecordingChannel) -> None:
    np = pytest.importorskip('numpy')
    nni.report_final_result(np.array([[1, 2], [3, 4]]))
    nni.report_final_result(np.float32(0.25))
    assert channel.metrics[0]['value'] == [[1, 2], [3, 4]]
    assert channel.metrics[1]['value'] == 0.25 and type(channel.metrics[1]['value']) is float
    json.dumps([m['value'] for m in channel.metrics])  # plain JSON types only


def test_unusable_values_are_still_refused(channel: RecordingChannel) -> None:
    with pytest.raises(TypeError):
        nni.report_final_result([object()])
    with pytest.raises(TypeError):
        nni.report_final_result('0.9')


def test_overwrite_intermediate_seq_sets_the_next_sequence(channel: RecordingChannel) -> None:
    nni.report_intermediate_result(1)
    nni.trial.overwrite_intermediate_seq(7)
    nni.report_intermediate_result(2)
    assert [m['sequence'] for m in channel.metrics] == [0, 7]


def test_list_metric_does_not_import_numpy() -> None:
    code = textwrap.dedent('''
        import sys
        import nni
        from nni.runtime.trial_command_channel import TrialCommandChannel, set_default_trial_command_channel
        class C(TrialCommandChannel):
            def receive_parameter(self): return {'parameter_id': 0, 'parameters': {}}
            def send_metric(self, **kw): print(kw['value'])
        set_default_trial_command_channel(C())
        nni.get_next_parameter()
        nni.report_final_result([1, 2])
        print('numpy' in sys.modules)
    ''')
    env = {'PATH': '/usr/bin:/bin'}
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split('\n')[:2] == ['[1, 2]', 'False']


def test_typehint_names() -> None:
    from nni.typehint import ParameterRecord, Parameters, SearchSpace, TrialMetric, TrialRecord

    record: ParameterRecord = {'parameter_id': 1, 'parameters': {'x': 1}}
    assert record['parameters'] == {'x': 1}
    import typing

    assert TrialMetric is float
    assert typing.get_origin(Parameters) is dict and typing.get_origin(SearchSpace) is dict
    assert {'parameter', 'value'} <= set(TrialRecord.__annotations__)
