"""Legacy file channel (NNI_PLATFORM set, no channel URL)."""

from __future__ import annotations

import json
import threading

import pytest

import nni
from nni.runtime import file_channel
from nni.runtime.file_channel import FileTrialCommandChannel, append_metric_record, frame_record
from nni.runtime.trial_command_channel import get_default_trial_command_channel


def test_selected_when_platform_without_url(trial_env):
    assert isinstance(get_default_trial_command_channel(), FileTrialCommandChannel)


def test_parameters_and_metrics(trial_env, record, read_metrics):
    assert nni.get_next_parameter() == record['parameters']
    assert nni.get_next_parameter() is None
    nni.report_intermediate_result(0.25)
    nni.report_intermediate_result(0.5)
    nni.report_final_result(0.75)
    envelopes = [json.loads(text) for text in read_metrics(trial_env / '.nni' / 'metrics')]
    assert [(e['type'], e['sequence'], e['value'], e['parameter_id'], e['trial_job_id']) for e in envelopes] == [
        ('PERIODICAL', 0, '0.25', 7, 'Ab3xZ'),
        ('PERIODICAL', 1, '0.5', 7, 'Ab3xZ'),
        ('FINAL', 0, '0.75', 7, 'Ab3xZ'),
    ]


def test_multi_phase_reads_numbered_files(trial_env, record, monkeypatch):
    monkeypatch.setenv('MULTI_PHASE', 'true')
    second = dict(record, parameter_id=8, parameters={'lr': 0.1})
    (trial_env / 'parameter_1.cfg').write_text(json.dumps(second))
    assert nni.get_next_parameter() == record['parameters']
    assert nni.get_next_parameter() == {'lr': 0.1}
    assert nni.get_current_parameter('lr') == 0.1


def test_missing_parameter_file_is_requested_and_awaited(trial_env, record, monkeypatch, read_metrics):
    monkeypatch.setattr(file_channel, 'POLL_INTERVAL', 0.02)
    cfg = trial_env / 'parameter.cfg'
    cfg.unlink()
    timer = threading.Timer(0.1, lambda: cfg.write_text(json.dumps(record)))
    timer.start()
    try:
        channel = FileTrialCommandChannel(str(trial_env), poll_interval=0.02)
        assert channel.receive_parameter() == record
    finally:
        timer.cancel()
    request = json.loads(read_metrics(trial_env / '.nni' / 'metrics')[0])
    assert request == {'trial_job_id': 'Ab3xZ', 'type': 'REQUEST_PARAMETER', 'sequence': 0, 'parameter_index': 0}


def test_malformed_parameter_file(trial_env):
    (trial_env / 'parameter.cfg').write_text('[1, 2]')
    with pytest.raises(ValueError, match='parameter record'):
        nni.get_next_parameter()


def test_framing_counts_bytes_including_newline():
    assert frame_record('{"a": "\u00e9"}') == b'ME000012{"a": "\xc3\xa9"}\n'


def test_append_creates_directory(tmp_path):
    path = append_metric_record(str(tmp_path / 'x'), '{}')
    assert open(path, 'rb').read() == b'ME000003{}\n'
    append_metric_record(str(tmp_path / 'x'), '[]')
    assert open(path, 'rb').read() == b'ME000003{}\nME000003[]\n'


def test_append_without_directory_is_an_error():
    with pytest.raises(OSError, match='NNI_SYS_DIR'):
        append_metric_record(None, '{}')


def test_import_url_selects_a_custom_channel(tmp_path, monkeypatch):
    (tmp_path / 'my_channel_mod.py').write_text(
        'from nni.runtime.trial_command_channel.base import TrialCommandChannel\n'
        'class Mine(TrialCommandChannel):\n'
        '    sent = []\n'
        '    def receive_parameter(self):\n'
        '        return {"parameter_id": 1, "parameters": {"a": 1}}\n'
        '    def send_metric(self, **kwargs):\n'
        '        self.sent.append(kwargs)\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv('NNI_PLATFORM', 'local')
    monkeypatch.setenv('NNI_TRIAL_COMMAND_CHANNEL', 'import://my_channel_mod.Mine')
    assert nni.get_next_parameter() == {'a': 1}
    nni.report_final_result(0.5)
    channel = get_default_trial_command_channel()
    assert type(channel).__name__ == 'Mine'
    assert channel.sent == [{'type': 'FINAL', 'parameter_id': 1, 'trial_job_id': 'STANDALONE', 'sequence': 0,
                             'value': 0.5}]
