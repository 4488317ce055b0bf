"""Random configs of every platform, and random v1 configs: the validator and the converter never crash.

They either accept the config (and then it survives its JSON round trip) or raise a ConfigError
whose every line names a path and says what is wrong.
"""

from __future__ import annotations

import copy
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

pytestmark = pytest.mark.filterwarnings('ignore:The SSH password:UserWarning')


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
    (folder / 'search_space.json').write_text('{"x": {"_type": "choice", "_value": [1, 2]}}')
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


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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


#: Values that are valid for a key on some platform; drawn as often as junk, so that many of the
#: changed configs are still valid and go through the round trip.
GOOD_VALUES: dict[str, list[Any]] = {
    'trialCommand': ['python3 other.py'],
    'trialGpuNumber': [0, 1],
    'debug': [True, False],
    'nniManagerIp': ['192.0.2.1'],
    'useActiveGpu': [True, False],
    'maxTrialNumberPerGpu': [1],
    'gpuIndices': ['0,1', [0, 1, 2], 3],
    'reuseMode': [True, False],
    'dockerImage': ['img:1'],
    'machineList': [
        [{'host': 'h', 'user': 'u', 'password': 'p'}],
        [{'host': 'h', 'user': 'u', 'sshKeyFile': 'id_rsa', 'port': 2222, 'gpuIndices': '0', 'pythonPath': '/bin'},
         {'host': 'h2', 'user': 'u', 'password': 'p', 'useActiveGpu': True}],
    ],
    'trialMemorySize': ['4g', 2048, '1.5gb'],
    'trialCpuNumber': [2],
    'virtualCluster': ['vc'],
    'openpaiConfig': [{'taskRoles': {}}],
    'openpaiConfigFile': ['job.yml'],
    'host': ['192.0.2.3', 'https://pai'],
    'jobType': ['PyTorchJob'],
    'podCount': [2],
    'ossDataSourceId': ['oss'],
    'operator': ['pytorch-operator'],
    'storage': [
        {'storageType': 'azureStorage', 'azureAccount': 'a', 'azureShare': 's', 'keyVaultName': 'v', 'keyVaultKey': 'k'},
        {'storageType': 'nfs', 'server': '192.0.2.4', 'path': '/x'},
    ],
    'master': [{'replicas': 1, 'command': 'c', 'cpuNumber': 1, 'memorySize': 512, 'codeDirectory': 'code'}],
    'ps': [{'replicas': 2, 'command': 'c', 'cpuNumber': 2, 'memorySize': '2gb', 'codeDirectory': '.', 'gpuNumber': 1}],
    'namespace': ['nni'],
    'serviceAccountName': ['sa'],
    'taskRoles': [
        [{'name': 'a', 'taskNumber': 3, 'command': 'c', 'gpuNumber': 1, 'cpuNumber': 1, 'memorySize': '1g',
          'frameworkAttemptCompletionPolicy': {'minFailedTaskCount': -1, 'minSucceedTaskCount': 3}},
         {'name': 'b', 'taskNumber': 1, 'command': 'c', 'gpuNumber': 0, 'cpuNumber': 1, 'memorySize': 1,
          'frameworkAttemptCompletionPolicy': {'minFailedTaskCount': 1, 'minSucceedTaskCount': -1}}],
    ],
}


def test_the_valid_services_are_valid(site: Path) -> None:
    for valid in VALID_SERVICES.values():
        ExperimentConfig(**VALID_TOP, trainingService=valid).validate()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_valid_services_with_random_changes(site: Path, data: st.DataObject) -> None:
    platform = data.draw(st.sampled_from(sorted(VALID_SERVICES)), label='platform')
    keys = [key for key in _keys(training_service_config_class(platform)) if key != 'platform']
    chosen = data.draw(st.lists(st.sampled_from(keys), min_size=1, max_size=3, unique=True), label='keys')
    changes = {
        key: data.draw(st.one_of(st.sampled_from([None, *GOOD_VALUES.get(key, [])]), nested), label=key) for key in chosen
    }
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


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(v1=v1_configs, strict=st.booleans())
def test_random_v1_configs(site: Path, v1: dict[str, Any], strict: bool) -> None:
    _convert_or_explain(v1, strict)


def _convert_or_explain(v1: Any, strict: bool = True) -> bool:
    try:
        config = to_v2(v1, strict=strict)
    except ConfigError as error:
        _check_message(error)
        return False
    try:
        data = config.json()
    except ConfigError as error:
        _check_message(error)
        return False
    assert ExperimentConfig(**data).json() == data
    return True


_V1_COMMON = {
    'authorName': 'me', 'experimentName': 'e', 'trialConcurrency': 1, 'searchSpacePath': 'search_space.json',
    'useAnnotation': False, 'tuner': {'builtinTunerName': 'Random'},
}
_K8S_ROLE = {'replicas': 1, 'command': 'c', 'gpuNum': 0, 'cpuNum': 1, 'memoryMB': 1024, 'image': 'img'}
VALID_V1: dict[str, dict[str, Any]] = {
    'local': {**_V1_COMMON, 'trainingServicePlatform': 'local', 'trial': {'command': 'c', 'codeDir': '.'}},
    'remote': {
        **_V1_COMMON, 'trainingServicePlatform': 'remote', 'trial': {'command': 'c', 'codeDir': '.'},
        'machineList': [{'ip': 'h', 'username': 'u', 'sshKeyPath': 'id_rsa'}],
    },
    'pai': {
        **_V1_COMMON, 'trainingServicePlatform': 'pai',
        'trial': {'command': 'c', 'codeDir': '.', 'gpuNum': 0, 'cpuNum': 1, 'memoryMB': 1024, 'image': 'img',
                  'nniManagerNFSMountPath': 'mnt', 'containerNFSMountPath': '/mnt', 'paiStorageConfigName': 's'},
        'paiConfig': {'userName': 'u', 'token': 't', 'host': 'h'},
    },
    'aml': {
        **_V1_COMMON, 'trainingServicePlatform': 'aml', 'trial': {'command': 'c', 'codeDir': '.', 'image': 'img'},
        'amlConfig': {'subscriptionId': 's', 'resourceGroup': 'r', 'workspaceName': 'w', 'computeTarget': 'c'},
    },
    'kubeflow': {
        **_V1_COMMON, 'trainingServicePlatform': 'kubeflow', 'trial': {'codeDir': '.', 'worker': _K8S_ROLE},
        'kubeflowConfig': {'operator': 'tf-operator', 'apiVersion': 'v1', 'nfs': {'server': 's', 'path': '/p'}},
    },
    'frameworkcontroller': {
        **_V1_COMMON, 'trainingServicePlatform': 'frameworkcontroller',
        'trial': {'codeDir': '.', 'taskRoles': [{'name': 'w', 'taskNum': 1, 'command': 'c', 'gpuNum': 0, 'cpuNum': 1,
                                                 'memoryMB': 1024, 'image': 'img', 'frameworkAttemptCompletionPolicy': {
                                                     'minFailedTaskCount': 1, 'minSucceededTaskCount': 1}}]},
        'frameworkcontrollerConfig': {'storage': 'nfs', 'nfs': {'server': 's', 'path': '/p'}},
    },
    'hybrid': {
        **_V1_COMMON, 'trainingServicePlatform': 'hybrid', 'trial': {'command': 'c', 'codeDir': '.'},
        'hybridConfig': {'trainingServicePlatforms': ['local', 'remote']},
        'machineList': [{'ip': 'h', 'username': 'u', 'passwd': 'p'}],
    },
}

# (section, key) -> values valid there; '' is the top level
V1_GOOD_VALUES: dict[tuple[str, str], list[Any]] = {
    ('', 'maxExecDuration'): ['1h', '30m'],
    ('', 'maxTrialNum'): [5],
    ('', 'maxTrialDuration'): ['2h'],
    ('', 'logLevel'): ['debug', 'trace'],
    ('', 'debug'): [True],
    ('', 'nniManagerIp'): ['192.0.2.1'],
    ('', 'multiPhase'): [False],
    ('', 'versionCheck'): [False],
    ('trial', 'gpuNum'): [0, 2],
    ('trial', 'command'): ['python3 x.py'],
    ('tuner', 'classArgs'): [{'optimize_mode': 'minimize'}],
    ('tuner', 'gpuIndices'): ['0', 1],
    ('assessor', 'builtinAssessorName'): ['Medianstop'],
    ('localConfig', 'useActiveGpu'): [True],
    ('localConfig', 'gpuIndices'): ['0,1'],
    ('remoteConfig', 'reuse'): [True],
    ('paiConfig', 'reuse'): [False],
    ('paiConfig', 'memoryMB'): [4096],
    ('amlConfig', 'maxTrialNumPerGpu'): [1],
    ('kubeflowConfig', 'namespace'): ['nni'],
    ('kubeflowConfig', 'reuse'): [False],
    ('frameworkcontrollerConfig', 'serviceAccountName'): ['sa'],
    ('sharedStorage', 'storageType'): ['NFS'],
}


def _v1_change(section: str, key: str) -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from([None, *V1_GOOD_VALUES.get((section, key), [])]), scalars)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_valid_v1_configs_with_random_changes(site: Path, data: st.DataObject) -> None:
    platform = data.draw(st.sampled_from(sorted(VALID_V1)), label='platform')
    v1 = copy.deepcopy(VALID_V1[platform])
    places = sorted(V1_GOOD_VALUES) + [('', key) for key in V1_TOP_KEYS] + [
        (section, key) for section, keys in V1_SECTION_KEYS.items() for key in keys
    ]
    for section, key in data.draw(st.lists(st.sampled_from(places), min_size=1, max_size=3, unique=True), label='places'):
        value = data.draw(_v1_change(section, key), label=f'{section}.{key}')
        target = v1 if not section else v1.setdefault(section, {})
        if isinstance(target, dict):
            target[key] = value
    _convert_or_explain(v1)


def test_the_valid_v1_configs_are_valid(site: Path) -> None:
    for v1 in VALID_V1.values():
        assert _convert_or_explain(v1)


@settings(max_examples=100, deadline=None)
@given(value=st.one_of(scalars, st.lists(scalars, max_size=2)))
def test_to_v2_of_something_else(value: Any) -> None:
    with pytest.raises(ConfigError) as info:
        to_v2(value)
    _check_message(info.value)
