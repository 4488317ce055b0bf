"""Standalone mode: trial code run without an experiment."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import nni
from nni.runtime.standalone import StandaloneTrialCommandChannel
from nni.runtime.trial_command_channel import get_default_trial_command_channel

TRIAL = textwrap.dedent('''
    import warnings
    warnings.simplefilter('always')
    import nni
    params = nni.get_next_parameter()
    print('PARAMS', params)
    nni.report_intermediate_result(0.5)
    nni.report_intermediate_result({'default': 0.6, 'loss': 2})
    nni.report_final_result(0.75)
    print('IDS', nni.get_experiment_id(), nni.get_trial_id(), nni.get_sequence_id())
''')


def run_trial(env: dict[str, str], code: str = TRIAL, cwd: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True,
                          timeout=60, cwd=cwd)


def test_standalone_in_clean_subprocess(clean_env, tmp_path):
    result = run_trial(clean_env, cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == 'PARAMS {}'
    time = r'\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] '
    assert re.fullmatch(time + r'Intermediate result: 0\.5  \(Index 0\)', lines[1])
    assert re.fullmatch(time + r"Intermediate result: \{'default': 0\.6, 'loss': 2\}  \(Index 1\)", lines[2])
    assert re.fullmatch(time + r'Final result: 0\.75', lines[3])
    assert lines[4] == 'IDS STANDALONE STANDALONE 0'
    assert 'RuntimeWarning: Running trial code without runtime.' in result.stderr
    # The warning points at the user's line, not at nni internals.
    assert '<string>:5: RuntimeWarning' in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written anywhere


def test_standalone_parameters_from_json(clean_env):
    env = dict(clean_env, NNI_STANDALONE_PARAMETERS='{"lr": 0.1, "layers": 3}')
    result = run_trial(env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "PARAMS {'lr': 0.1, 'layers': 3}"
    assert 'RuntimeWarning' not in result.stderr


def test_standalone_respects_application_logging(clean_env):
    code = 'import logging, sys\nlogging.basicConfig(stream=sys.stdout, format="APP %(name)s %(message)s")\n' + TRIAL
    result = run_trial(clean_env, code)
    assert result.returncode == 0, result.stderr
    assert 'APP nni Final result: 0.75' in result.stdout.splitlines()
    assert 'Final result' not in result.stdout.replace('APP nni Final result', '')


def test_in_process_standalone(caplog):
    assert isinstance(get_default_trial_command_channel(), StandaloneTrialCommandChannel)
    with pytest.warns(RuntimeWarning, match='without runtime'):
        assert nni.get_next_parameter() == {}
    assert nni.get_current_parameter() == {}
    with pytest.raises(KeyError):
        nni.get_current_parameter('lr')
    caplog.set_level('INFO', logger='nni')
    nni.report_intermediate_result(np.float32(0.5))
    nni.report_final_result(np.int64(3))
    assert [r.getMessage() for r in caplog.records if r.name == 'nni'] == [
        'Intermediate result: 0.5  (Index 0)', 'Final result: 3']


def test_report_without_parameters_is_fine_standalone(caplog):
    caplog.set_level('INFO', logger='nni')
    nni.report_final_result(1.0)  # NNI asserts only under an experiment
    assert 'Final result: 1.0' in caplog.text


def test_bad_metric_is_rejected_even_standalone():
    with pytest.raises(TypeError, match='nni.report_final_result'):
        nni.report_final_result('high')


@pytest.mark.parametrize('content', [
    {'lr': 0.2},
    {'parameter_id': 3, 'parameter_source': 'algorithm', 'parameters': {'lr': 0.2}, 'parameter_index': 0},
])
def test_standalone_parameters_from_file(tmp_path, monkeypatch, content):
    path = tmp_path / 'params.json'
    path.write_text(json.dumps(content))
    monkeypatch.setenv('NNI_STANDALONE_PARAMETERS', str(path))
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert nni.get_next_parameter() == {'lr': 0.2}


@pytest.mark.parametrize(('value', 'message'), [
    ('{"lr": ', 'not valid JSON'),
    ('/no/such/file.json', 'neither a JSON object nor a readable file'),
    ('{"parameter_id": 1, "parameters": [1]}', 'must hold a JSON object'),
])
def test_bad_standalone_parameters(monkeypatch, value, message):
    monkeypatch.setenv('NNI_STANDALONE_PARAMETERS', value)
    with pytest.raises(ValueError, match=message):
        nni.get_next_parameter()


def test_unittest_platform_is_standalone(monkeypatch):
    monkeypatch.setenv('NNI_PLATFORM', 'unittest')
    assert isinstance(get_default_trial_command_channel(), StandaloneTrialCommandChannel)
