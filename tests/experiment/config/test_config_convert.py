"""Legacy v1 YAML: converted by ExperimentConfig.load and to_v2 to the same config as its v2 equivalent."""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.experiment.config.sites import SPACE

from nni.experiment.config import ConfigError, ExperimentConfig, UnknownFieldError
from nni.experiment.config.convert import (
    convert_algo,
    convert_with_origins,
    is_v1_config,
    mapping_rows,
    to_v2,
)

pytestmark = pytest.mark.usefixtures('no_validators')


def _load(folder: Path, name: str, text: str) -> ExperimentConfig:
    path = folder / name
    path.write_text(text)
    return ExperimentConfig.load(path)


# (v1 YAML, equivalent v2 YAML) per platform
PAIRS: dict[str, tuple[str, str]] = {
    'local (the example of the compatibility notes)': (
        """
authorName: me
experimentName: demo
trialConcurrency: 2
maxExecDuration: 1h
maxTrialNum: 10
trainingServicePlatform: local
searchSpacePath: search_space.json
useAnnotation: false
tuner:
  builtinTunerName: TPE
  classArgs: {optimize_mode: maximize}
  gpuIndices: 0
trial:
  command: python3 mnist.py
  codeDir: .
  gpuNum: 0
localConfig:
  useActiveGpu: false
""",
        """
experimentName: demo
trialConcurrency: 2
maxExperimentDuration: 1h
maxTrialNumber: 10
searchSpaceFile: search_space.json
useAnnotation: false
trialCommand: python3 mnist.py
trialCodeDirectory: .
trialGpuNumber: 0
tuner: {name: TPE, classArgs: {optimize_mode: maximize}}
tunerGpuIndices: 0
trainingService: {platform: local, useActiveGpu: false}
""",
    ),
    'local with every top-level key': (
        """
authorName: me
description: all keys
experimentName: all
trialConcurrency: 3
maxExecDuration: 2d
maxTrialNum: 99
maxTrialDuration: 10m
trainingServicePlatform: local
searchSpacePath: search_space.json
logDir: logs
logLevel: warning
debug: true
multiPhase: false
multiThread: false
versionCheck: true
logCollection: none
nniManagerIp: 192.0.2.1
useAnnotation: false
tuner:
  codeDir: .
  classFileName: my_tuner.py
  className: MyTuner
  classArgs: {alpha: 1}
assessor:
  builtinAssessorName: Medianstop
  classArgs: {optimize_mode: maximize}
trial:
  command: python3 trial.py
  codeDir: .
  gpuNum: 1
localConfig:
  gpuIndices: '0,1'
  maxTrialNumPerGpu: 2
  useActiveGpu: true
""",
        """
experimentName: all
trialConcurrency: 3
maxExperimentDuration: 2d
maxTrialNumber: 99
maxTrialDuration: 10m
searchSpaceFile: search_space.json
experimentWorkingDirectory: logs
logLevel: warning
debug: true
nniManagerIp: 192.0.2.1
useAnnotation: false
trialCommand: python3 trial.py
trialCodeDirectory: .
trialGpuNumber: 1
tuner: {className: my_tuner.MyTuner, codeDirectory: ., classArgs: {alpha: 1}}
assessor: {name: Medianstop, classArgs: {optimize_mode: maximize}}
trainingService: {platform: local, gpuIndices: '0,1', maxTrialNumberPerGpu: 2, useActiveGpu: true}
""",
    ),
    'remote': (
        """
authorName: me
experimentName: remote
trialConcurrency: 2
trainingServicePlatform: remote
searchSpacePath: search_space.json
useAnnotation: false
advisor:
  builtinAdvisorName: BOHB
  classArgs: {optimize_mode: maximize}
trial:
  command: python3 mnist.py
  codeDir: .
  gpuNum: 1
remoteConfig:
  reuse: true
machineList:
  - ip: 192.0.2.1
    port: 2222
    username: alice
    sshKeyPath: ~/.ssh/id_rsa
    passphrase: secret
    gpuIndices: 0,1
    maxTrialNumPerGpu: 2
    useActiveGpu: true
  - ip: 192.0.2.2
    username: bob
    passwd: bob123
    pythonPath: /opt/python3/bin
""",
        """
experimentName: remote
trialConcurrency: 2
searchSpaceFile: search_space.json
useAnnotation: false
trialCommand: python3 mnist.py
trialCodeDirectory: .
trialGpuNumber: 1
advisor: {name: BOHB, classArgs: {optimize_mode: maximize}}
trainingService:
  platform: remote
  reuseMode: true
  machineList:
    - {host: 192.0.2.1, port: 2222, user: alice, sshKeyFile: ~/.ssh/id_rsa, sshPassphrase: secret, gpuIndices: '0,1',
       maxTrialNumberPerGpu: 2, useActiveGpu: true}
    - {host: 192.0.2.2, user: bob, password: bob123, pythonPath: /opt/python3/bin}
""",
    ),
    'pai': (
        """
authorName: me
experimentName: pai
trialConcurrency: 1
trainingServicePlatform: pai
searchSpacePath: search_space.json
useAnnotation: false
tuner: {builtinTunerName: Random}
trial:
  command: python3 mnist.py
  codeDir: .
  gpuNum: 0
  cpuNum: 1
  memoryMB: 8196
  image: msranni/nni:latest
  virtualCluster: default
  nniManagerNFSMountPath: pai_mount
  containerNFSMountPath: /mnt/data/nni
  paiStorageConfigName: confignfs-data
paiConfig:
  userName: alice
  token: abc
  host: 192.0.2.10
  reuse: false
  cpuNum: 2
""",
        """
experimentName: pai
trialConcurrency: 1
searchSpaceFile: search_space.json
useAnnotation: false
trialCommand: python3 mnist.py
trialCodeDirectory: .
trialGpuNumber: 0
tuner: {name: Random}
trainingService:
  platform: openpai
  host: 192.0.2.10
  username: alice
  token: abc
  trialCpuNumber: 2
  trialMemorySize: 8196
  storageConfigName: confignfs-data
  dockerImage: msranni/nni:latest
  virtualCluster: default
  localStorageMountPoint: pai_mount
  containerStorageMountPoint: /mnt/data/nni
  reuseMode: false
""",
    ),
    'aml': (
        """
authorName: me
experimentName: aml
trialConcurrency: 1
trainingServicePlatform: aml
searchSpacePath: search_space.json
useAnnotation: false
tuner: {builtinTunerName: TPE}
trial:
  command: python3 mnist.py
  codeDir: .
  image: msranni/nni
amlConfig:
  subscriptionId: sub
  resourceGroup: group
  workspaceName: workspace
  computeTarget: cluster
  maxTrialNumPerGpu: 1
  useActiveGpu: false
""",
        """
experimentName: aml
trialConcurrency: 1
searchSpaceFile: search_space.json
useAnnotation: false
trialCommand: python3 mnist.py
trialCodeDirectory: .
tuner: {name: TPE}
trainingService: {platform: aml, dockerImage: msranni/nni, subscriptionId: sub, resourceGroup: group,
                  workspaceName: workspace, computeTarget: cluster, maxTrialNumberPerGpu: 1, useActiveGpu: false}
""",
    ),
    'kubeflow': (
        """
authorName: me
experimentName: kubeflow
trialConcurrency: 2
maxTrialNum: 10
trainingServicePlatform: kubeflow
searchSpacePath: search_space.json
useAnnotation: false
tuner: {builtinTunerName: TPE}
trial:
  codeDir: .
  worker:
    replicas: 2
    command: python3 dist_mnist.py
    gpuNum: 1
    cpuNum: 1
    memoryMB: 8192
    image: msranni/nni:latest
  ps:
    replicas: 1
    command: python3 dist_mnist.py
    gpuNum: 0
    cpuNum: 1
    memoryMB: 8192
    image: msranni/nni:latest
kubeflowConfig:
  operator: tf-operator
  apiVersion: v1alpha2
  storage: nfs
  nfs:
    server: 192.0.2.20
    path: /exports/nni
  reuse: true
  namespace: nni
""",
        """
experimentName: kubeflow
trialConcurrency: 2
maxTrialNumber: 10
searchSpaceFile: search_space.json
useAnnotation: false
trialCodeDirectory: .
tuner: {name: TPE}
trainingService:
  platform: kubeflow
  operator: tf-operator
  apiVersion: v1alpha2
  storage: {storageType: nfs, server: 192.0.2.20, path: /exports/nni}
  worker: {replicas: 2, command: python3 dist_mnist.py, gpuNumber: 1, cpuNumber: 1, memorySize: 8192,
           dockerImage: 'msranni/nni:latest', codeDirectory: .}
  ps: {replicas: 1, command: python3 dist_mnist.py, gpuNumber: 0, cpuNumber: 1, memorySize: 8192,
       dockerImage: 'msranni/nni:latest', codeDirectory: .}
  reuseMode: true
  namespace: nni
""",
    ),
    'frameworkcontroller': (
        """
authorName: me
experimentName: fc
trialConcurrency: 2
trainingServicePlatform: frameworkcontroller
searchSpacePath: search_space.json
useAnnotation: false
tuner: {builtinTunerName: TPE}
trial:
  codeDir: .
  taskRoles:
    - name: worker
      taskNum: 2
      command: python3 mnist.py
      gpuNum: 1
      cpuNum: 1
      memoryMB: 8192
      image: msranni/nni:latest
      frameworkAttemptCompletionPolicy:
        minFailedTaskCount: 1
        minSucceededTaskCount: 2
frameworkcontrollerConfig:
  serviceAccountName: frameworkcontroller
  storage: azureStorage
  keyVault:
    vaultName: vault
    name: secret
  azureStorage:
    accountName: account
    azureShare: share
  uploadRetryCount: 3
""",
        """
experimentName: fc
trialConcurrency: 2
searchSpaceFile: search_space.json
useAnnotation: false
trialCommand: python3 mnist.py
trialCodeDirectory: .
tuner: {name: TPE}
trainingService:
  platform: frameworkcontroller
  serviceAccountName: frameworkcontroller
  storage: {storageType: azureStorage, azureAccount: account, azureShare: share, keyVaultName: vault, keyVaultKey: secret}
  taskRoles:
    - {name: worker, taskNumber: 2, command: python3 mnist.py, gpuNumber: 1, cpuNumber: 1, memorySize: 8192,
       dockerImage: 'msranni/nni:latest', frameworkAttemptCompletionPolicy: {minFailedTaskCount: 1, minSucceedTaskCount: 2}}
""",
    ),
    'hybrid': (
        """
authorName: me
experimentName: hybrid
trialConcurrency: 2
trainingServicePlatform: hybrid
searchSpacePath: search_space.json
useAnnotation: false
tuner: {builtinTunerName: TPE}
trial:
  command: python3 mnist.py
  codeDir: .
  gpuNum: 0
hybridConfig:
  trainingServicePlatforms: [local, remote]
machineList:
  - {ip: 192.0.2.1, username: bob, passwd: bob}
""",
        """
experimentName: hybrid
trialConcurrency: 2
searchSpaceFile: search_space.json
useAnnotation: false
trialCommand: python3 mnist.py
trialCodeDirectory: .
trialGpuNumber: 0
tuner: {name: TPE}
trainingService:
  - platform: local
  - platform: remote
    machineList: [{host: 192.0.2.1, user: bob, password: bob}]
""",
    ),
    'shared storage': (
        """
authorName: me
experimentName: shared
trialConcurrency: 2
trainingServicePlatform: remote
searchSpacePath: search_space.json
useAnnotation: false
tuner: {builtinTunerName: TPE}
trial: {command: python3 mnist.py, codeDir: .}
remoteConfig: {reuse: true}
machineList: [{ip: 192.0.2.1, username: alice}]
sharedStorage:
  storageType: NFS
  localMountPoint: /mnt/local
  remoteMountPoint: /mnt/remote
  nfsServer: 192.0.2.30
  exportedDirectory: /exports
  localMounted: nnimount
""",
        """
experimentName: shared
trialConcurrency: 2
searchSpaceFile: search_space.json
useAnnotation: false
trialCommand: python3 mnist.py
trialCodeDirectory: .
tuner: {name: TPE}
trainingService: {platform: remote, reuseMode: true, machineList: [{host: 192.0.2.1, user: alice}]}
sharedStorage: {storageType: NFS, localMountPoint: /mnt/local, remoteMountPoint: /mnt/remote, nfsServer: 192.0.2.30,
                exportedDirectory: /exports, localMounted: nnimount}
""",
    ),
}


@pytest.mark.parametrize('name', list(PAIRS))
def test_v1_file_loads_as_its_v2_equivalent(site: Path, name: str) -> None:
    v1_text, v2_text = PAIRS[name]
    v1 = _load(site, 'v1.yml', v1_text)
    v2 = _load(site, 'v2.yml', v2_text)
    assert v1.json() == v2.json()
    assert v1.canonical_copy() == v2.canonical_copy()


@pytest.mark.parametrize('name', list(PAIRS))
def test_to_v2_gives_the_v2_mapping(site: Path, name: str) -> None:
    v1_text, v2_text = PAIRS[name]
    v2, _ = convert_with_origins(yaml.safe_load(v1_text))
    assert v2 == yaml.safe_load(v2_text)
    assert to_v2(yaml.safe_load(v1_text)).json() == ExperimentConfig(**yaml.safe_load(v2_text)).json()


@pytest.mark.parametrize('name', list(PAIRS))
def test_converted_config_round_trips(site: Path, name: str) -> None:
    config = _load(site, 'v1.yml', PAIRS[name][0])
    data = config.json()
    assert ExperimentConfig(**data).json() == data
    assert _load(site, 'again.json', json.dumps(data)).json() == data


def test_relative_paths_stay_relative_to_the_v1_file(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = site / 'exp'
    folder.mkdir()
    (folder / 'search_space.json').write_text(json.dumps(SPACE))
    (folder / 'code').mkdir()
    path = folder / 'v1.yml'
    path.write_text(PAIRS['local (the example of the compatibility notes)'][0].replace('codeDir: .', 'codeDir: code'))
    monkeypatch.chdir(site / 'home')
    data = ExperimentConfig.load(path).json()
    assert data['searchSpaceFile'] == str((folder / 'search_space.json').resolve())
    assert data['trialCodeDirectory'] == str((folder / 'code').resolve())
    # to_v2 with the file's folder does the same
    v1 = yaml.safe_load(path.read_text())
    assert to_v2(v1, base_path=folder).json() == data


def test_load_logs_the_converted_config_and_the_dropped_keys(site: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    _load(site, 'v1.yml', PAIRS['local with every top-level key'][0])
    messages = [record.getMessage() for record in caplog.records]
    assert messages[:5] == [
        'authorName: no longer used in v2 configs, ignored',
        'description: no longer used in v2 configs, ignored',
        'multiThread: no longer used in v2 configs, ignored',
        'versionCheck: no longer used in v2 configs, ignored',
        'logCollection: no longer used in v2 configs, ignored',
    ]
    assert messages[5].startswith(f'Config file {site / "v1.yml"} uses the legacy v1 format; it was converted to this v2 config:\n')
    assert 'maxExperimentDuration: 2d' in messages[5]


def test_nnictl_create_reads_v1_files(site: Path) -> None:
    launch = pytest.importorskip('nni.tools.nnictl.launch')  # nnictl's own module, written alongside
    path = site / 'v1.yml'
    path.write_text(PAIRS['remote'][0])
    assert launch.load_config(str(path)).json() == _load(site, 'v2.yml', PAIRS['remote'][1]).json()


def test_v1_detection() -> None:
    assert is_v1_config({'trainingServicePlatform': 'local'})
    assert not is_v1_config({'trainingServicePlatform': None})
    assert not is_v1_config({'trainingService': {'platform': 'local'}})
    assert not is_v1_config(['trainingServicePlatform'])


def test_to_v2_leaves_its_input_alone() -> None:
    v1 = yaml.safe_load(PAIRS['frameworkcontroller'][0])
    before = copy.deepcopy(v1)
    to_v2(v1)
    assert v1 == before


def test_convert_algo() -> None:
    assert convert_algo('tuner', {'builtinTunerName': 'TPE', 'classArgs': {'a': 1}, 'gpuIndices': '0'}) == {
        'name': 'TPE', 'classArgs': {'a': 1},
    }
    assert convert_algo('assessor', {'codeDir': '.', 'classFileName': 'my_assessor.py', 'className': 'MyAssessor'}) == {
        'className': 'my_assessor.MyAssessor', 'codeDirectory': '.',
    }
    assert convert_algo('tuner', {'codeDir': 'c', 'className': 'pkg.mod.Tuner'}) == {'className': 'pkg.mod.Tuner', 'codeDirectory': 'c'}
    with pytest.raises(ConfigError, match=r"^advisor.className: cannot be set together with builtinAdvisorName"):
        convert_algo('advisor', {'builtinAdvisorName': 'BOHB', 'className': 'X'})


# ---------------------------------------------------------------------------------------------
# errors


def _v1(**changes: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        'trainingServicePlatform': 'local',
        'searchSpacePath': 'search_space.json',
        'trialConcurrency': 1,
        'tuner': {'builtinTunerName': 'TPE'},
        'trial': {'command': 'python3 trial.py', 'codeDir': '.'},
    }
    for key, value in changes.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    return config


CONVERSION_ERRORS: list[tuple[str, dict[str, Any], list[str]]] = [
    (
        'unknown platforms',
        _v1(trainingServicePlatform='adl'),
        ["trainingServicePlatform: AdaptDL (adl) experiments are not supported by this version, got 'adl'"],
    ),
    (
        'a v2 platform name',
        _v1(trainingServicePlatform='openpai'),
        ["trainingServicePlatform: must be one of local, remote, pai, aml, kubeflow, frameworkcontroller, hybrid, got 'openpai'"],
    ),
    (
        'typos everywhere',
        _v1(maxTrailNum=3, trial={'comand': 'x', 'codeDir': '.'}, tuner={'builtinTunerNmae': 'TPE'}, localConfig={'gpuIndex': 0}),
        [
            'maxTrailNum: unknown v1 key, did you mean maxTrialNum?',
            'tuner.builtinTunerNmae: unknown v1 key, did you mean builtinTunerName?',
            'localConfig.gpuIndex: unknown v1 key, did you mean gpuIndices?',
            'trial.comand: unknown v1 key, did you mean command?',
        ],
    ),
    (
        'sections of the wrong type',
        _v1(trial='python3 trial.py', tuner='TPE', machineList=[1], trainingServicePlatform='remote'),
        [
            "trial: must be a mapping (the v1 trial section), got 'python3 trial.py'",
            "tuner: must be a mapping (the v1 tuner section), got 'TPE'",
            'machineList[0]: must be a mapping (a v1 machine), got 1',
        ],
    ),
    (
        'custom algorithms',
        _v1(
            tuner={'builtinTunerName': 'TPE', 'classFileName': 'a.py', 'className': 'A'},
            assessor={'codeDir': '.', 'classFileName': 'a.txt', 'className': 'A'},
            advisor={'codeDir': '.', 'classFileName': 'a.py'},
        ),
        [
            "tuner.className: cannot be set together with builtinTunerName (a built-in algorithm), got 'A'; keep one",
            "assessor.classFileName: must be the name of a Python file (ending in .py), got 'a.txt'",
            'advisor.className: not set, must be the name of the class in a.py',
        ],
    ),
    ('multi-phase', _v1(multiPhase=True), ['multiPhase: multi-phase trials are not supported by v2 configs, got True']),
    (
        'hybrid',
        _v1(trainingServicePlatform='hybrid', hybridConfig={'trainingServicePlatforms': ['local', 'kubeflow'], 'other': 1}),
        [
            'hybridConfig.other: unknown v1 key; valid keys here are: trainingServicePlatforms',
            "hybridConfig.trainingServicePlatforms[1]: must be one of local, remote, pai, aml, got 'kubeflow'",
        ],
    ),
    (
        'kubernetes storage',
        _v1(trainingServicePlatform='frameworkcontroller', frameworkcontrollerConfig={'storage': 'pvc', 'pvc': {'path': '/x'}}),
        ["frameworkcontrollerConfig.storage: pvc storage has no v2 form; use 'nfs' or 'azureStorage'"],
    ),
    (
        'kubeflow keys of another platform',
        _v1(trainingServicePlatform='kubeflow', trial={'codeDir': '.', 'taskRoles': [], 'worker': {'replica': 1}}),
        [
            'trial.worker.replica: unknown v1 key, did you mean replicas?',
            'trial.taskRoles: unknown v1 key; valid keys here are: authFile, codeDir, command, gpuNum, master, nasMode, ps, worker',
        ],
    ),
]


@pytest.mark.parametrize(('v1', 'expected'), [case[1:] for case in CONVERSION_ERRORS], ids=[case[0] for case in CONVERSION_ERRORS])
def test_conversion_errors(v1: dict[str, Any], expected: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        to_v2(v1)
    assert info.value.errors == expected


def test_unknown_keys_dropped_when_not_strict(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    config = to_v2(_v1(maxTrailNum=3), strict=False)
    assert config.max_trial_number is None
    assert [record.getMessage() for record in caplog.records] == ['maxTrailNum: not a key of the v1 config format, ignored']


def test_validation_errors_name_the_v1_keys(site: Path) -> None:
    v1 = yaml.safe_load(PAIRS['remote'][0])
    v1['trial']['gpuNum'] = -1
    v1['maxExecDuration'] = '10'
    v1['machineList'][1]['port'] = 0
    v1['machineList'][0]['sshKeyPath'] = 'missing'
    with pytest.raises(ConfigError) as info:
        to_v2(v1, base_path=site).validate()
    duration = "a positive duration: seconds as an integer, or a number with unit s, m, h or d such as '30m' or '1.5h'"
    assert info.value.errors == [
        'trialGpuNumber: must be a non-negative integer, got -1 (v1: trial.gpuNum)',
        f"maxExperimentDuration: must be {duration}, got '10' (v1: maxExecDuration)",
        "trainingService.machineList[0].sshKeyFile: must be an existing private key file when no password is set (set "
        f"password to log in with one), got '{site.resolve()}/missing' (v1: machineList[0].sshKeyPath)",
        'trainingService.machineList[1].port: must be a port number between 1 and 65535, got 0 (v1: machineList[1].port)',
    ]


def test_missing_v1_sections_are_reported_by_v2_validation(site: Path) -> None:
    with pytest.raises(ConfigError) as info:
        to_v2(_v1(trainingServicePlatform='kubeflow', trial={'codeDir': '.'}, kubeflowConfig={'operator': 'tf-operator'})).validate()
    assert info.value.errors == [
        'trainingService.apiVersion: not set, must be an API version such as v1',
        'trainingService.storage: not set, must be a storage config such as {storageType: nfs, server: 10.0.0.5, path: /exports/nni}',
        'trainingService.worker: not set, tf-operator jobs need a worker role (a role config such as {replicas: 1, command: '
        'python3 train.py, cpuNumber: 1, memorySize: 4gb, codeDirectory: .})',
    ]


def test_v1_mapping_given_to_the_v2_constructor() -> None:
    with pytest.raises(UnknownFieldError, match='^trainingServicePlatform: is a key of the legacy v1 config format; '):
        ExperimentConfig(**_v1())


def test_mapping_rows_cover_every_table() -> None:
    rows = dict(mapping_rows())
    assert rows['maxExecDuration'] == 'maxExperimentDuration'
    assert rows['machineList[].passphrase'] == 'trainingService.machineList[].sshPassphrase'
    assert rows['trial.taskRoles[].frameworkAttemptCompletionPolicy.minSucceededTaskCount'] == (
        'trainingService.taskRoles[].frameworkAttemptCompletionPolicy.minSucceedTaskCount'
    )
    assert rows['authorName'] == 'dropped with a warning'
