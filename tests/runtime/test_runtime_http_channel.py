"""The HTTP trial channel against a stdlib fake manager."""

from __future__ import annotations

import json
import math

import pytest

import nni
from nni.runtime import http_channel
from nni.runtime.http_channel import HttpTrialCommandChannel
from nni.runtime.trial_command_channel import get_default_trial_command_channel


@pytest.fixture
def http_trial(trial_env, fake_manager, monkeypatch):
    monkeypatch.setenv('NNI_TRIAL_COMMAND_CHANNEL', fake_manager.url)
    return fake_manager


def test_channel_selected_from_url(http_trial):
    channel = get_default_trial_command_channel()
    assert isinstance(channel, HttpTrialCommandChannel)
    assert channel.url == http_trial.url


def test_first_parameters_come_from_parameter_cfg_without_round_trip(http_trial, record):
    assert nni.get_next_parameter() == record['parameters']
    assert http_trial.requests == []
    assert nni.get_current_parameter() == record['parameters']
    assert nni.get_current_parameter('lr') == 0.01
    # NNI 3.0 has no multi-phase: later calls get nothing, still without asking the manager.
    assert nni.get_next_parameter() is None
    assert http_trial.requests == []


def test_metric_put_bodies_headers_and_keep_alive(http_trial):
    nni.get_next_parameter()
    nni.report_intermediate_result(0.5)
    nni.report_intermediate_result({'default': 0.6, 'loss': 1.25})
    nni.report_final_result(0.75)

    puts = http_trial.metric_puts()
    assert len(puts) == 3
    for put in puts:
        assert put['path'] == '/env/local-env/Ab3xZ'
        assert put['headers']['X-NNI-Token'] == 's3cret'
        assert put['headers']['Content-Type'] == 'application/json'
        assert put['headers'].get('Connection', '').lower() != 'close'
    # All requests arrived on one kept-alive connection (same client port).
    assert len({put['client'] for put in puts}) == 1

    # Exact bytes: NNI's separators, value double-encoded.
    assert puts[0]['body'] == json.dumps({
        'type': 'metric',
        'metric': '{"parameter_id": 7, "trial_job_id": "Ab3xZ", "type": "PERIODICAL", "sequence": 0, '
                  '"value": "0.5"}',
    }).encode()
    assert http_trial.envelopes() == [
        {'parameter_id': 7, 'trial_job_id': 'Ab3xZ', 'type': 'PERIODICAL', 'sequence': 0, 'value': '0.5'},
        {'parameter_id': 7, 'trial_job_id': 'Ab3xZ', 'type': 'PERIODICAL', 'sequence': 1,
         'value': '{"default": 0.6, "loss": 1.25}'},
        {'parameter_id': 7, 'trial_job_id': 'Ab3xZ', 'type': 'FINAL', 'sequence': 0, 'value': '0.75'},
    ]


def test_nan_and_infinity_travel_as_json_tokens(http_trial):
    nni.get_next_parameter()
    nni.report_intermediate_result(float('nan'))
    nni.report_final_result({'default': float('inf'), 'worst': -math.inf})
    values = [envelope['value'] for envelope in http_trial.envelopes()]
    assert values == ['NaN', '{"default": Infinity, "worst": -Infinity}']


def test_no_token_header_when_no_token(http_trial, monkeypatch):
    monkeypatch.delenv('NNI_TRIAL_TOKEN')
    nni.get_next_parameter()
    nni.report_final_result(1)
    assert 'X-NNI-Token' not in http_trial.metric_puts()[0]['headers']


def test_fallback_to_metrics_file_when_manager_is_down(trial_env, dead_url, monkeypatch, read_metrics):
    monkeypatch.setenv('NNI_TRIAL_COMMAND_CHANNEL', dead_url)
    assert nni.get_next_parameter() == {'lr': 0.01, 'units': 64}
    nni.report_intermediate_result(0.5)
    nni.report_final_result({'default': 0.75, 'note': 'ok'})

    path = trial_env / '.nni' / 'metrics'
    first = '{"parameter_id": 7, "trial_job_id": "Ab3xZ", "type": "PERIODICAL", "sequence": 0, "value": "0.5"}'
    raw = path.read_bytes()
    # Framing: "ME", six-digit length of JSON + newline, JSON, newline.
    assert raw.startswith(b'ME%06d' % (len(first) + 1) + first.encode() + b'\n')
    assert [json.loads(text) for text in read_metrics(path)] == [
        json.loads(first),
        {'parameter_id': 7, 'trial_job_id': 'Ab3xZ', 'type': 'FINAL', 'sequence': 0,
         'value': '{"default": 0.75, "note": "ok"}'},
    ]
    assert 'cannot deliver metric' in (trial_env / 'trial.log').read_text()


def test_fallback_on_error_status_then_recovery(http_trial, trial_env, monkeypatch, read_metrics):
    monkeypatch.setattr(http_channel, 'OFFLINE_COOLDOWN', 0.0)
    nni.get_next_parameter()
    http_trial.put_status = 500
    nni.report_intermediate_result(1)
    http_trial.put_status = 200
    nni.report_intermediate_result(2)
    records = [json.loads(text) for text in read_metrics(trial_env / '.nni' / 'metrics')]
    assert [r['sequence'] for r in records] == [0]
    assert [e['sequence'] for e in http_trial.envelopes()] == [0, 1]  # the manager saw both attempts


def test_cooldown_sends_straight_to_file(http_trial, read_metrics, trial_env):
    nni.get_next_parameter()
    http_trial.put_status = 503
    nni.report_intermediate_result(1)
    http_trial.put_status = 200
    nni.report_intermediate_result(2)  # within the cool-down: no request at all
    assert len(http_trial.metric_puts()) == 1
    records = [json.loads(text) for text in read_metrics(trial_env / '.nni' / 'metrics')]
    assert [r['sequence'] for r in records] == [0, 1]


def test_stale_keep_alive_connection_is_retried_once(http_trial, trial_env):
    http_trial.close_silently_after_each = True
    nni.get_next_parameter()
    for i in range(4):
        nni.report_intermediate_result(i)
    assert [e['sequence'] for e in http_trial.envelopes()] == [0, 1, 2, 3]
    assert not (trial_env / '.nni' / 'metrics').exists()


def test_parameter_requested_with_get_when_cfg_missing(http_trial, trial_env, record):
    (trial_env / 'parameter.cfg').unlink()
    answer = json.dumps({'type': 'parameter', 'parameter': json.dumps(record)}).encode()
    http_trial.get_answers = [(408, b''), (408, b''), (200, answer)]
    assert nni.get_next_parameter() == record['parameters']
    gets = [r for r in http_trial.requests if r['method'] == 'GET']
    assert len(gets) == 3
    assert all(r['headers']['X-NNI-Token'] == 's3cret' for r in gets)
    assert nni.get_next_parameter() is None


def test_closed_channel_gives_none(http_trial, trial_env):
    (trial_env / 'parameter.cfg').unlink()
    http_trial.get_answers = [(410, b'')]
    assert nni.get_next_parameter() is None
    assert nni.get_current_parameter() is None
    with pytest.raises(AssertionError, match=r'get_next_parameter\(\) needs to be called before report_final'):
        nni.report_final_result(1.0)


def test_unexpected_get_status_raises_oserror(http_trial, trial_env):
    (trial_env / 'parameter.cfg').unlink()
    http_trial.get_answers = [(403, b'bad token')]
    with pytest.raises(OSError, match='HTTP 403'):
        nni.get_next_parameter()


def test_unreachable_manager_without_cfg_raises(trial_env, dead_url, monkeypatch):
    monkeypatch.setattr(http_channel, 'PARAMETER_CONNECT_RETRIES', 1)
    monkeypatch.setenv('NNI_TRIAL_COMMAND_CHANNEL', dead_url)
    (trial_env / 'parameter.cfg').unlink()
    with pytest.raises(OSError, match='cannot reach the NNI manager'):
        nni.get_next_parameter()


def test_metric_lost_is_an_error(dead_url, monkeypatch):
    monkeypatch.setenv('NNI_PLATFORM', 'local')
    monkeypatch.setenv('NNI_TRIAL_COMMAND_CHANNEL', dead_url)
    channel = HttpTrialCommandChannel(dead_url, sys_dir=None)
    with pytest.raises(OSError, match='metric lost'):
        channel.send_metric(type='FINAL', parameter_id=0, trial_job_id='x', sequence=0, value=1)


def test_rejects_non_http_url():
    with pytest.raises(ValueError, match='http://'):
        HttpTrialCommandChannel('ws://127.0.0.1:1/env/a/b')


def test_forked_child_uses_its_own_connection(http_trial):
    import os

    nni.get_next_parameter()
    nni.report_intermediate_result(0)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 0
        try:
            nni.report_intermediate_result(1)
        except BaseException:
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    nni.report_intermediate_result(2)
    puts = http_trial.metric_puts()
    assert len(puts) == 3
    # parent's two requests share a connection; the child's came on another one
    assert puts[0]['client'] == puts[2]['client'] != puts[1]['client']


def test_metric_refused_by_manager_raises(http_trial, trial_env):
    nni.get_next_parameter()
    http_trial.put_status = 400
    with pytest.raises(ValueError, match='the NNI manager refused the metric'):
        nni.report_final_result(1.0)
    assert not (trial_env / '.nni' / 'metrics').exists()
    http_trial.put_status = 200
    nni.report_final_result(1.0)  # the connection is still usable
    assert len(http_trial.metric_puts()) == 2


def test_reporting_to_a_live_manager_loads_no_heavy_module(tmp_path, fake_manager):
    import subprocess
    import sys
    import textwrap

    from conftest import RECORD, clean_environ

    (tmp_path / 'parameter.cfg').write_text(json.dumps(RECORD))
    code = textwrap.dedent('''
        import sys
        import nni
        nni.get_next_parameter()
        nni.report_intermediate_result(0.5)
        nni.report_final_result(1)
        print([name for name in ('http.client', 'ssl', 'email', 'urllib.parse', 'threading', 'logging')
               if name in sys.modules])
    ''')
    env = dict(clean_environ(), NNI_PLATFORM='local', NNI_SYS_DIR=str(tmp_path), NNI_OUTPUT_DIR=str(tmp_path),
               NNI_TRIAL_COMMAND_CHANNEL=fake_manager.url, NNI_TRIAL_TOKEN='tok')
    result = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '[]'
    assert [envelope['type'] for envelope in fake_manager.envelopes()] == ['PERIODICAL', 'FINAL']
