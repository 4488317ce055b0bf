"""Random configs of every platform, and random v1 configs: the validator and the converter never crash.

They either accept the config (and then it survives its JSON round trip) or raise a ConfigError
whose every line names a path and says what is wrong.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nni.experiment.config import ConfigError, ExperimentConfig
from nni.experiment.config import convert as convert_module
from nni.experiment.config.convert import to_v2
from nni.experiment.config.training_service import known_platforms, training_service_config_class
from nni.experiment.config.training_services import (
    FrameworkAttemptCompletionPolicy,
    FrameworkControllerRoleConfig,
    K8sStorageConfig,
    KubeflowRoleConfig,
    RemoteMachineConfig,
)
from nni.experiment.config.utils.internal import camel_case


def _keys(*classes: type) -> list[str]:
    return sorted({camel_case(name) for cls in classes for name in cls._field_names()})


SERVICE_KEYS = _keys(*(training_service_config_class(platform) for platform in known_platforms()))
MACHINE_KEYS = _keys(RemoteMachineConfig)
STORAGE_KEYS = _keys(K8sStorageConfig)
ROLE_KEYS = _keys(KubeflowRoleConfig)
TASK_ROLE_KEYS = _keys(FrameworkControllerRoleConfig)
POLICY_KEYS = _keys(FrameworkAttemptCompletionPolicy)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-3, max_value=70000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from([
        'id_rsa', 'mnt', 'job.yml', '~/.ssh/id_rsa', '0,1', '1,1', '4g', '8gb', '8 gigs', 'tf-operator', 'pytorch-operator',
        'nfs', 'azureStorage', 'pvc', 'TFJob', 'PyTorchJob', '/mnt', 'mnt/x', '\0', 'h', '',
    ]),
)


def _mapping(keys: list[str], values: st.SearchStrategy[Any] = scalars) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.one_of(st.sampled_from(keys), st.text(max_size=5)), values, max_size=6)


policy = _mapping(POLICY_KEYS)
task_role = _mapping(TASK_ROLE_KEYS, st.one_of(scalars, policy))
nested = st.one_of(
    scalars,
    _mapping(STORAGE_KEYS),
    _mapping(ROLE_KEYS),
    st.lists(st.one_of(_mapping(MACHINE_KEYS), scalars), max_size=3),
    st.lists(st.one_of(task_role, scalars), max_size=3),
    st.dictionaries(st.text(max_size=4), scalars, max_size=2),
)
service = st.builds(
    lambda platform, fields: {**fields, 'platform': platform},
    st.sampled_from([*known_platforms(), 'pai', 3]),
    _mapping(SERVICE_KEYS, nested),
)


@pytest.fixture(scope='module')
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    # module scoped: hypothesis runs many examples per test call
    folder = tmp_path_factory.mktemp('property-platforms')
    (folder / 'id_rsa').write_text('key\n')
    (folder / 'mnt').mkdir()
    (folder / 'job.yml').write_text('{}\n')
    previous = os.getcwd()
    os.chdir(folder)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', UserWarning)
            yield folder
    finally:
        os.chdir(previous)


@pytest.fixture(autouse=True)
def _no_validators(no_validators: None) -> None:
    """Keep the search space and algorithm validators of other modules out of these runs."""


def _check_message(error: BaseException) -> None:
    text = str(error)
    assert text.strip(), f'{type(error).__name__} without a message'
    if isinstance(error, ConfigError):
        # one line per problem: "<path>: <message>" (a problem of the whole config has no path)
        assert error.problems and all(message.strip() for _, message in error.problems)
        assert all(': ' in line for (path, _), line in zip(error.problems, error.errors, strict=True) if path)
        assert text == '\n'.join(error.errors)


VALID_TOP = {
    'searchSpace': {'x': {'_type': 'choice', '_value': [1, 2]}},
    'trialCommand': 'python3 trial.py',
    'trialConcurrency': 2,
    'tuner': {'name': 'Random'},
}


def _accept_or_explain(data: dict[str, Any]) -> None:
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
    json_data = config.json()
    assert canonical.json() == json_data
    assert ExperimentConfig(**json_data).json() == json_data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(training_service=st.one_of(service, st.lists(service, max_size=3)))
def test_random_training_services(site: Path, training_service: Any) -> None:
    _accept_or_explain({**VALID_TOP, 'trainingService': training_service})


# Valid configs of every platform, changed at random in one of their fields.
VALID_SERVICES: dict[str, dict[str, Any]] = {
    'local': {'platform': 'local'},
    'remote': {'platform': 'remote', 'machineList': [{'host': 'h', 'user': 'u', 'sshKeyFile': 'id_rsa'}]},
    'openpai': {
        'platform': 'openpai', 'host': 'h', 'username': 'u', 'token': 't', 'trialGpuNumber': 0, 'trialCpuNumber': 1,
        'trialMemorySize': '1gb', 'storageConfigName': 's', 'localStorageMountPoint': 'mnt', 'containerStorageMountPoint': '/mnt',
    },
    'aml': {'platform': 'aml', 'subscriptionId': 's', 'resourceGroup': 'r', 'workspaceName': 'w', 'computeTarget': 'c'},
    'dlc': {
        'platform': 'dlc', 'image': 'i', 'podCount': 1, 'ecsSpec': 'e', 'region': 'r', 'workspaceId': 'w',
        'nasDataSourceId': 'n', 'accessKeyId': 'a', 'accessKeySecret': 's', 'localStorageMountPoint': '/l',
        'containerStorageMountPoint': '/c',
    },
    'kubeflow': {
        'platform': 'kubeflow', 'operator': 'tf-operator', 'apiVersion': 'v1',
        'storage': {'storageType': 'nfs', 'server': 's', 'path': '/p'},
        'worker': {'replicas': 1, 'command': 'c', 'cpuNumber': 1, 'memorySize': '1gb', 'codeDirectory': '.'},
    },
    'frameworkcontroller': {
        'platform': 'frameworkcontroller', 'storage': {'storageType': 'nfs', 'server': 's', 'path': '/p'},
        'taskRoles': [{'name': 'w', 'taskNumber': 1, 'command': 'c', 'gpuNumber': 0, 'cpuNumber': 1, 'memorySize': 1,
                       'frameworkAttemptCompletionPolicy': {'minFailedTaskCount': 1, 'minSucceedTaskCount': 1}}],
    },
}


def test_the_valid_services_are_valid(site: Path) -> None:
    for name, valid in VALID_SERVICES.items():
        ExperimentConfig(**VALID_TOP, trainingService=valid).validate(), name


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    platform=st.sampled_from(sorted(VALID_SERVICES)),
    changes=st.dictionaries(st.sampled_from(SERVICE_KEYS), nested, min_size=1, max_size=3),
)
def test_valid_services_with_random_changes(site: Path, platform: str, changes: dict[str, Any]) -> None:
    _accept_or_explain({**VALID_TOP, 'trainingService': {**VALID_SERVICES[platform], **changes}})


# ---------------------------------------------------------------------------------------------
# the v1 converter

V1_TOP_KEYS = sorted({*convert_module.TOP_LEVEL_KEYS, *convert_module.DROPPED_KEYS[''], 'multiPhase'})
V1_SECTION_KEYS = {
    'trial': sorted({*convert_module.TRIAL_KEYS, *convert_module.PAI_TRIAL_KEYS, 'worker', 'ps', 'master', 'taskRoles', 'nasMode'}),
    'tuner': sorted({*convert_module.ALGORITHM_KEYS, 'codeDir', 'classFileName', 'className', 'gpuIndices'}),
    'assessor': sorted({*convert_module.ALGORITHM_KEYS, 'codeDir', 'classFileName', 'className'}),
    'advisor': sorted({*convert_module.ALGORITHM_KEYS, 'gpuIndices'}),
    'localConfig': sorted(convert_module.LOCAL_KEYS),
    'remoteConfig': sorted(convert_module.REMOTE_KEYS),
    'paiConfig': sorted(convert_module.PAI_KEYS),
    'amlConfig': sorted(convert_module.AML_KEYS),
    'kubeflowConfig': sorted({*convert_module.KUBEFLOW_KEYS, 'storage', 'nfs', 'keyVault', 'azureStorage'}),
    'frameworkcontrollerConfig': sorted({*convert_module.FRAMEWORKCONTROLLER_KEYS, 'storage', 'nfs', 'pvc'}),
    'hybridConfig': ['trainingServicePlatforms'],
    'sharedStorage': sorted(convert_module.SHARED_STORAGE_KEYS),
}
v1_inner = st.one_of(
    scalars,
    _mapping(sorted({*convert_module.KUBEFLOW_ROLE_KEYS, 'server', 'path', 'vaultName', 'name', 'accountName'})),
    st.lists(st.one_of(_mapping(sorted(convert_module.MACHINE_KEYS)), _mapping(sorted(convert_module.TASK_ROLE_KEYS))), max_size=2),
    st.lists(st.sampled_from(['local', 'remote', 'pai', 'aml', 'kubeflow']), max_size=3),
)
v1_sections = st.fixed_dictionaries(
    {},
    optional={name: st.one_of(_mapping(keys, v1_inner), scalars) for name, keys in V1_SECTION_KEYS.items()},
)
v1_configs = st.builds(
    lambda platform, top, sections: {**top, **sections, 'trainingServicePlatform': platform},
    st.sampled_from([*convert_module.PLATFORMS, 'hybrid', 'adl', 'openpai', 7]),
    _mapping(V1_TOP_KEYS),
    v1_sections,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(v1=v1_configs, strict=st.booleans())
def test_random_v1_configs(site: Path, v1: dict[str, Any], strict: bool) -> None:
    try:
        config = to_v2(v1, strict=strict)
    except ConfigError as error:
        _check_message(error)
        return
    try:
        data = config.json()
    except ConfigError as error:
        _check_message(error)
        return
    assert ExperimentConfig(**data).json() == data


@settings(max_examples=100, deadline=None)
@given(value=st.one_of(scalars, st.lists(scalars, max_size=2)))
def test_to_v2_of_something_else(value: Any) -> None:
    with pytest.raises(ConfigError) as info:
        to_v2(value)
    _check_message(info.value)
