"""Random configs never crash construction or validation with anything but a config error."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nni.experiment.config import ConfigError, ExperimentConfig
from nni.experiment.config.utils.internal import camel_case

FIELDS = [
    'experiment_name', 'experiment_type', 'search_space_file', 'search_space', 'trial_command', 'trial_code_directory',
    'trial_concurrency', 'trial_gpu_number', 'max_experiment_duration', 'max_trial_number', 'max_trial_duration',
    'nni_manager_ip', 'use_annotation', 'debug', 'log_level', 'experiment_working_directory', 'tuner_gpu_indices',
    'tuner', 'assessor', 'advisor', 'training_service', 'shared_storage',
]
NESTED_KEYS = [
    'platform', 'name', 'className', 'codeDirectory', 'classArgs', 'gpuIndices', 'useActiveGpu', 'maxTrialNumberPerGpu',
    'reuseMode', 'trialCommand', 'trialGpuNumber', 'debug', 'storageType', 'localMountPoint', 'localMounted',
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(['local', 'remote', 'TPE', 'Random', '_none_', '0,1', '1,1', '1.5h', '10', '-1m', 'infs', '~', '.', 'info', 'hpo', 'NFS', '\0']),
)
json_like = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.one_of(st.sampled_from(NESTED_KEYS), st.text(max_size=6)), children, max_size=4),
    ),
    max_leaves=6,
)
keys = st.one_of(
    st.sampled_from(FIELDS),
    st.sampled_from(FIELDS).map(camel_case),
    st.text(min_size=1, max_size=15),
)
service = st.fixed_dictionaries({'platform': st.sampled_from(['local', 'remote', 5])}, optional={k: scalars for k in NESTED_KEYS[5:12]})
configs = st.dictionaries(
    keys,
    st.one_of(json_like, service, st.lists(service, max_size=3)),
    max_size=8,
)


@pytest.fixture(scope='module')
def in_tmp_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    # module scoped: hypothesis runs many examples per test call
    folder = tmp_path_factory.mktemp('property')
    previous = os.getcwd()
    os.chdir(folder)
    try:
        yield folder
    finally:
        os.chdir(previous)


def _check_message(error: BaseException) -> None:
    text = str(error)
    assert text.strip(), f'{type(error).__name__} without a message'
    if isinstance(error, ConfigError):
        assert error.errors and all(': ' in line for line in error.errors)
        assert text == '\n'.join(error.errors)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=configs)
def test_random_configs_fail_only_with_config_errors(in_tmp_dir: Path, data: dict[str, Any]) -> None:
    try:
        config = ExperimentConfig(**data)
    except (ConfigError, AttributeError, TypeError) as error:
        _check_message(error)
        return
    try:
        canonical = config.canonical_copy()
    except ConfigError as error:
        _check_message(error)
        return
    # a valid config survives the trip through its JSON (what the manager stores)
    assert ExperimentConfig(**canonical.json()).json() == config.json()


@settings(max_examples=200, deadline=None)
@given(attribute=st.one_of(st.sampled_from(FIELDS), st.text(min_size=1, max_size=12)), value=json_like)
def test_random_attribute_assignment(in_tmp_dir: Path, attribute: str, value: Any) -> None:
    try:
        config = ExperimentConfig('local')
        setattr(config, attribute, value)
        config.validate()
    except (ConfigError, AttributeError, TypeError) as error:
        _check_message(error)


VALID = {
    'searchSpace': {'x': {'_type': 'choice', '_value': [1, 2]}},
    'trialCommand': 'python3 trial.py',
    'trialConcurrency': 2,
    'tuner': {'name': 'Random'},
    'trainingService': {'platform': 'local'},
}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.dictionaries(st.sampled_from(FIELDS).map(camel_case), st.one_of(json_like, service), max_size=3))
def test_valid_config_with_random_changes(in_tmp_dir: Path, changes: dict[str, Any]) -> None:
    try:
        config = ExperimentConfig(**{**VALID, **changes})
        data = config.json()
    except (ConfigError, AttributeError, TypeError) as error:
        _check_message(error)
        return
    rebuilt = ExperimentConfig(**data)
    assert rebuilt.json() == data
    try:
        canonical = config.canonical_copy()
    except ConfigError as error:  # the launch checks json() leaves out (search space contents, algorithms)
        _check_message(error)
        assert all(line.startswith(('searchSpace', 'tuner', 'assessor')) for line in error.errors), error.errors
        return
    assert rebuilt == canonical
