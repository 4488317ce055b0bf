"""Environment variables are read at call time."""

from __future__ import annotations

import pytest

import nni
from nni.runtime import env_vars


def test_ids_follow_the_environment(monkeypatch):
    assert (nni.get_experiment_id(), nni.get_trial_id(), nni.get_sequence_id()) == ('STANDALONE', 'STANDALONE', 0)
    monkeypatch.setenv('NNI_EXP_ID', 'GZpuJIs5')
    monkeypatch.setenv('NNI_TRIAL_JOB_ID', 'Ab3xZ')
    monkeypatch.setenv('NNI_TRIAL_SEQ_ID', '12')
    assert (nni.get_experiment_id(), nni.get_trial_id(), nni.get_sequence_id()) == ('GZpuJIs5', 'Ab3xZ', 12)
    monkeypatch.setenv('NNI_TRIAL_SEQ_ID', '-1')
    assert nni.get_sequence_id() == -1
    monkeypatch.setenv('NNI_TRIAL_SEQ_ID', 'junk')
    assert nni.get_sequence_id() == 0


def test_nni_style_views(monkeypatch):
    assert env_vars.trial_env_vars.NNI_PLATFORM is None
    monkeypatch.setenv('NNI_PLATFORM', 'local')
    monkeypatch.setenv('NNI_CHECKPOINT_DIRECTORY', '/tmp/ckpt')
    assert env_vars.trial_env_vars.NNI_PLATFORM == 'local'
    assert env_vars.dispatcher_env_vars.NNI_CHECKPOINT_DIRECTORY == '/tmp/ckpt'
    with pytest.raises(AttributeError):
        env_vars.trial_env_vars.NOT_A_VAR  # noqa: B018
    with pytest.raises(AttributeError):
        env_vars.trial_env_vars.NNI_PLATFORM = 'x'


def test_empty_values_count_as_unset(monkeypatch):
    monkeypatch.setenv('NNI_TRIAL_COMMAND_CHANNEL', '')
    monkeypatch.setenv('NNI_PLATFORM', '')
    assert env_vars.command_channel() is None
    assert env_vars.is_standalone()


@pytest.mark.parametrize(('value', 'expected'), [('true', True), ('True', True), ('1', True), ('false', False)])
def test_flags(monkeypatch, value, expected):
    monkeypatch.setenv('MULTI_PHASE', value)
    assert env_vars.is_multi_phase() is expected
