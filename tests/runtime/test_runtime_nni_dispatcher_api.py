"""NNI's dispatcher API: MsgDispatcher over the legacy pipe framing, MsgDispatcherBase, _pack_parameter."""

from __future__ import annotations

import json
from io import BytesIO
from typing import Any

import pytest

from nni.assessor import Assessor, AssessResult
from nni.runtime import msg_dispatcher_base
from nni.runtime.msg_dispatcher import MsgDispatcher, _pack_parameter
from nni.runtime.msg_dispatcher_base import MsgDispatcherBase
from nni.runtime.tuner_command_channel import CommandType, legacy
from nni.tuner import Tuner


class CountingTuner(Tuner):
    """Suggests x = 10, 11, ... and records what it is told."""

    def __init__(self) -> None:
        self.next_x = 10
        self.results: list[tuple[Any, Any, Any]] = []
        self.ended: list[tuple[Any, bool]] = []
        self.spaces: list[Any] = []

    def generate_parameters(self, parameter_id: Any, **kwargs: Any) -> dict[str, int]:
        self.next_x += 1
        return {'x': self.next_x - 1}

    def receive_trial_result(self, parameter_id: Any, parameters: Any, value: Any, **kwargs: Any) -> None:
        self.results.append((parameter_id, parameters, value))

    def update_search_space(self, search_space: Any) -> None:
        self.spaces.append(search_space)

    def trial_end(self, parameter_id: Any, success: bool, **kwargs: Any) -> None:
        self.ended.append((parameter_id, success))


class ThresholdAssessor(Assessor):
    def __init__(self) -> None:
        self.ended: list[tuple[str, bool]] = []

    def assess_trial(self, trial_job_id: str, trial_history: list[Any]) -> AssessResult:
        return AssessResult.Bad if trial_history[-1] < 0 else AssessResult.Good

    def trial_end(self, trial_job_id: str, success: bool) -> None:
        self.ended.append((trial_job_id, success))


def _frames(*commands: tuple[CommandType, str]) -> BytesIO:
    buffer = BytesIO()
    legacy._set_out_file(buffer)
    for command, data in commands:
        legacy.send(command, data)
    buffer.seek(0)
    return buffer


def _read_all(buffer: BytesIO) -> list[tuple[CommandType, str]]:
    buffer.seek(0)
    legacy._set_in_file(buffer)
    out = []
    while True:
        command, data = legacy.receive()
        if command is None:
            return out
        out.append((command, data))


@pytest.fixture
def dispatch(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(msg_dispatcher_base, '_worker_fast_exit_on_terminate', False)

    def run(tuner: Any, assessor: Any, *commands: tuple[CommandType, str]) -> tuple[Any, list[tuple[CommandType, str]]]:
        legacy._set_in_file(_frames(*commands))
        answers = BytesIO()
        legacy._set_out_file(answers)
        dispatcher = MsgDispatcher('ws://_unittest_placeholder_', tuner, assessor)
        dispatcher._channel = legacy.LegacyCommandChannel()
        dispatcher.run()
        return dispatcher, _read_all(answers)

    return run


def test_legacy_framing_is_code_length_payload() -> None:
    buffer = _frames((CommandType.NewTrialJob, 'é'))
    assert buffer.getvalue() == b'TR00000000000002\xc3\xa9'
    assert _read_all(buffer) == [(CommandType.NewTrialJob, 'é')]


def test_tuner_commands_reach_the_tuner_and_trials_come_back(dispatch) -> None:  # type: ignore[no-untyped-def]
    tuner = CountingTuner()
    dispatcher, answers = dispatch(
        tuner, None,
        (CommandType.Initialize, '{"x": {"_type": "randint", "_value": [0, 100]}}'),
        (CommandType.RequestTrialJobs, '2'),
        (CommandType.ReportMetricData, '{"parameter_id": 1, "trial_job_id": "T1", "type": "FINAL", "sequence": 0, '
                                       '"value": "0.5"}'),
        (CommandType.TrialEnd, '{"trial_job_id": "T1", "event": "SUCCEEDED", "hyper_params": "{\\"parameter_id\\": 1}"}'),
    )
    assert dispatcher.worker_exceptions == []
    assert [command for command, _ in answers] == [CommandType.Initialized, CommandType.NewTrialJob,
                                                   CommandType.NewTrialJob]
    records = [json.loads(data) for _, data in answers[1:]]
    assert [(r['parameter_id'], r['parameters'], r['parameter_source']) for r in records] == [
        (0, {'x': 10}, 'algorithm'), (1, {'x': 11}, 'algorithm')]
    assert tuner.results == [(1, {'x': 11}, 0.5)]
    assert tuner.ended == [(1, True)]
    assert tuner.spaces == [{'x': {'_type': 'randint', '_value': [0, 100]}}]


def test_assessor_alone_kills_a_bad_trial_and_unsupported_commands_stop_the_run(dispatch) -> None:  # type: ignore[no-untyped-def]
    assessor = ThresholdAssessor()
    dispatcher, answers = dispatch(
        None, assessor,
        (CommandType.ReportMetricData, '{"parameter_id": 0, "trial_job_id": "A", "type": "PERIODICAL", "sequence": 0, '
                                       '"value": "-1"}'),
        (CommandType.TrialEnd, '{"trial_job_id": "A", "event": "USER_CANCELED", "hyper_params": "{\\"parameter_id\\": 0}"}'),
        (CommandType.NoMoreTrialJobs, ''),
    )
    assert answers == [(CommandType.KillTrialJob, '"A"')]
    assert assessor.ended == [('A', False)]
    assert [str(e) for e in dispatcher.worker_exceptions] == ['Unsupported command: CommandType.NoMoreTrialJobs']


def test_base_class_handlers_must_be_written() -> None:
    base = MsgDispatcherBase('ws://_unittest_x')
    with pytest.raises(NotImplementedError):
        base.process_command(CommandType.RequestTrialJobs, 1)
    base.process_command(CommandType.Ping, '')  # a keep-alive needs nothing
    with pytest.raises(AssertionError, match='Unsupported command: CommandType.KillTrialJob'):
        base.process_command(CommandType.KillTrialJob, '"x"')


def test_pack_parameter_is_the_record_a_trial_receives() -> None:
    assert json.loads(_pack_parameter(3, {'lr': 0.1})) == {
        'parameter_id': 3, 'parameter_source': 'algorithm', 'parameters': {'lr': 0.1}, 'parameter_index': 0}
    packed = json.loads(_pack_parameter(None, {'lr': 1}, customized=True, trial_job_id='abc', parameter_index=2))
    assert packed['parameter_source'] == 'customized' and packed['trial_job_id'] == 'abc'
    assert packed['parameter_index'] == 2


def test_command_codes_are_nni_wire_codes() -> None:
    assert CommandType.RequestTrialJobs.value == 'GE' and CommandType('KI') is CommandType.KillTrialJob
