"""Catalogue of bad configs for every platform: the exact messages, every problem at once."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nni.experiment.config import (
    ConfigError,
    ExperimentConfig,
    K8sNfsConfig,
    NfsConfig,
    RemoteMachineConfig,
    UnknownFieldError,
)

pytestmark = pytest.mark.usefixtures('no_validators')

MACHINE = 'a remote machine config such as {host: 10.0.0.2, user: alice, sshKeyFile: ~/.ssh/id_rsa}'
STORAGE = 'a storage config such as {storageType: nfs, server: 10.0.0.5, path: /exports/nni}'
ROLE = 'a role config such as {replicas: 1, command: python3 train.py, cpuNumber: 1, memorySize: 4gb, codeDirectory: .}'
TASK_ROLE = 'a task role config such as {name: worker, taskNumber: 1, command: python3 train.py, ...}'
MEMORY = "a memory size: megabytes as an integer, or a number with unit tb, gb, mb, kb or b such as '8gb'"
JOB = '(or give openpaiConfig or openpaiConfigFile)'
TASK_COUNT = 'a positive integer, or -1 for "never by this count"'


@pytest.fixture(autouse=True)
def site(workdir: Path) -> Iterator[Path]:
    (workdir / 'mnt').mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)  # the plain-text SSH password warning
        yield workdir


def _config(service: Any, **top: Any) -> dict[str, Any]:
    return {
        'searchSpace': {'x': {'_type': 'choice', '_value': [1, 2]}},
        'trialCommand': 'python3 trial.py',
        'trialConcurrency': 2,
        'tuner': {'name': 'TPE'},
        'trainingService': service,
        **top,
    }


def _role(**changes: Any) -> dict[str, Any]:
    role = {'replicas': 1, 'command': 'python3 train.py', 'cpuNumber': 1, 'memorySize': '4gb', 'codeDirectory': '.'}
    return {**role, **changes}


def _task_role(**changes: Any) -> dict[str, Any]:
    role = {
        'name': 'worker', 'taskNumber': 2, 'command': 'python3 train.py', 'gpuNumber': 0, 'cpuNumber': 1, 'memorySize': '1gb',
        'frameworkAttemptCompletionPolicy': {'minFailedTaskCount': 1, 'minSucceedTaskCount': 1},
    }
    return {**role, **changes}


NFS = {'storageType': 'nfs', 'server': '192.0.2.5', 'path': '/exports'}

CATALOGUE: list[tuple[str, dict[str, Any], list[str]]] = [
    # ------------------------------------------------------------------ remote
    (
        'remote without machines',
        _config({'platform': 'remote'}),
        ['trainingService.machineList: must be a non-empty list of machines, got []'],
    ),
    (
        'remote machines, every problem of every machine',
        _config(
            {
                'platform': 'remote',
                'machineList': [
                    {'host': '', 'port': 0, 'sshKeyFile': 'nokey'},
                    'h2',
                    {'host': 'h3', 'user': 'u', 'port': '22', 'password': 'p', 'gpuIndices': '0,0', 'maxTrialNumberPerGpu': 0},
                    {'host': 'h4', 'user': 'u', 'password': 'p', 'gpuIndices': [1]},
                ],
            },
            trialGpuNumber=2,
        ),
        [
            f"trainingService.machineList[1]: must be {MACHINE}, got 'h2'",
            "trainingService.machineList[0].host: must be an IP address or host name, got ''",
            'trainingService.machineList[0].port: must be a port number between 1 and 65535, got 0',
            'trainingService.machineList[0].user: not set, must be a user name',
            'trainingService.machineList[0].sshKeyFile: must be an existing private key file when no password is set '
            "(set password to log in with one), got '{cwd}/nokey'",
            "trainingService.machineList[2].port: must be a port number between 1 and 65535, got '22'",
            'trainingService.machineList[2].maxTrialNumberPerGpu: must be a positive integer, got 0',
            'trainingService.machineList[2].gpuIndices[1]: duplicate GPU index 0, each GPU may be listed once; got [0, 0]',
            'trainingService.machineList[3].gpuIndices: must list at least trialGpuNumber (2) GPUs or no trial can run on '
            'this machine, got [1]',
        ],
    ),
    (
        'remote sharing GPUs without GPUs',
        _config(
            {
                'platform': 'remote',
                'machineList': [
                    {'host': 'h', 'user': 'u', 'password': 'p'},
                    {'host': 'h', 'user': 'u', 'password': 'p', 'maxTrialNumberPerGpu': 2, 'useActiveGpu': 'yes', 'pythonPath': ''},
                ],
                'reuseMode': 1,
            }
        ),
        [
            "trainingService.machineList[1].useActiveGpu: must be true or false, got 'yes'",
            "trainingService.machineList[1].pythonPath: must be a string (a folder on the remote machine), got ''",
            'trainingService.reuseMode: must be true or false, got 1',
            'trainingService.machineList[1].maxTrialNumberPerGpu: must be 1 unless trialGpuNumber > 0 (trials without '
            'GPUs share none), got 2',
        ],
    ),
    # ------------------------------------------------------------------ openpai
    (
        'openpai with nothing set',
        _config({'platform': 'openpai'}),
        [
            'trainingService.host: not set, must be an address such as 10.10.5.1 or https://pai.example.com',
            'trainingService.username: not set, must be a user name',
            'trainingService.token: not set, must be an OpenPAI access token',
            'trainingService.localStorageMountPoint: not set, must be a path to the directory where the storage is mounted here',
            'trainingService.containerStorageMountPoint: not set, must be an absolute path in the container such as /mnt/data',
            f'trainingService.trialCpuNumber: not set, must be a positive integer {JOB}',
            f'trainingService.trialMemorySize: not set, must be {MEMORY} {JOB}',
            f'trainingService.storageConfigName: not set, must be a string (the name of a storage config of the cluster) {JOB}',
            f'trialGpuNumber: not set, must be a non-negative integer: OpenPAI needs the number of GPUs of each trial {JOB}',
        ],
    ),
    (
        'openpai bad values',
        _config(
            {
                'platform': 'openpai', 'host': 'h', 'username': 'u', 'token': 't', 'trialCpuNumber': 0,
                'trialMemorySize': '8 gigs', 'storageConfigName': 's', 'localStorageMountPoint': 'nomnt',
                'containerStorageMountPoint': 'mnt', 'openpaiConfig': {'a': 1}, 'openpaiConfigFile': 'job.yml',
                'reuseMode': 'true',
            },
            trialGpuNumber=0,
        ),
        [
            'trainingService.trialCpuNumber: must be a positive integer, got 0',
            f"trainingService.trialMemorySize: must be {MEMORY}, got '8 gigs'",
            "trainingService.containerStorageMountPoint: must be an absolute path in the container such as /mnt/data, got 'mnt'",
            "trainingService.reuseMode: must be true or false, got 'true'",
            "trainingService.localStorageMountPoint: must be an existing directory (the cluster storage mounted here), "
            "got '{cwd}/nomnt'",
            'trainingService.openpaiConfigFile: cannot be set together with openpaiConfig; keep one of them',
        ],
    ),
    (
        'openpai job config file missing',
        _config(
            {
                'platform': 'openpai', 'host': 'h', 'username': 'u', 'token': 't', 'localStorageMountPoint': 'mnt',
                'containerStorageMountPoint': '/mnt', 'openpaiConfigFile': 'job.yml', 'virtualCluster': '',
            }
        ),
        [
            "trainingService.virtualCluster: must be a virtual cluster name, got ''",
            "trainingService.openpaiConfigFile: must be an existing file, got '{cwd}/job.yml'",
        ],
    ),
    # ------------------------------------------------------------------ aml, dlc
    (
        'aml',
        _config({'platform': 'aml', 'subscriptionId': '', 'maxTrialNumberPerGpu': 0, 'useActiveGpu': 0}),
        [
            "trainingService.subscriptionId: must be an Azure subscription ID, got ''",
            'trainingService.resourceGroup: not set, must be an Azure resource group name',
            'trainingService.workspaceName: not set, must be an AML workspace name',
            'trainingService.computeTarget: not set, must be the name of an AML compute cluster',
            'trainingService.maxTrialNumberPerGpu: must be a positive integer, got 0',
            'trainingService.useActiveGpu: must be true or false, got 0',
        ],
    ),
    (
        'dlc',
        _config({'platform': 'dlc', 'jobType': 'MPIJob', 'podCount': '1', 'image': 'i', 'type': ''}),
        [
            "trainingService.type: must be a job spec type such as Worker, got ''",
            "trainingService.jobType: must be one of 'TFJob', 'PyTorchJob', got 'MPIJob'",
            "trainingService.podCount: must be a positive integer, got '1'",
            'trainingService.ecsSpec: not set, must be an ECS instance spec such as ecs.c6.large',
            'trainingService.region: not set, must be a region such as cn-hangzhou',
            'trainingService.workspaceId: not set, must be a PAI workspace ID',
            'trainingService.nasDataSourceId: not set, must be a NAS data source ID',
            'trainingService.accessKeyId: not set, must be an access key ID',
            'trainingService.accessKeySecret: not set, must be an access key secret',
            'trainingService.localStorageMountPoint: not set, must be a path (the NAS mount point on this machine)',
            'trainingService.containerStorageMountPoint: not set, must be a path (the NAS mount point in the pods)',
        ],
    ),
    # ------------------------------------------------------------------ kubeflow
    (
        'kubeflow with nothing set',
        _config({'platform': 'kubeflow'}, trialCommand=None),
        [
            "trainingService.operator: not set, must be one of 'tf-operator', 'pytorch-operator'",
            'trainingService.apiVersion: not set, must be an API version such as v1',
            f'trainingService.storage: not set, must be {STORAGE}',
        ],
    ),
    (
        'kubeflow tf-operator roles and nfs storage',
        _config(
            {
                'platform': 'kubeflow', 'operator': 'tf-operator', 'apiVersion': 'v1',
                'storage': {'storageType': 'nfs', 'server': 's', 'azureAccount': 'a'},
                'master': _role(replicas=0, memorySize='4 gigs'),
            }
        ),
        [
            "trainingService.storage.path: not set, required when storageType is 'nfs'",
            "trainingService.storage.azureAccount: is only used when storageType is 'azureStorage', got 'a' with storageType "
            "'nfs'; remove it",
            'trainingService.master.replicas: must be a positive integer, got 0',
            f"trainingService.master.memorySize: must be {MEMORY}, got '4 gigs'",
            f'trainingService.worker: not set, tf-operator jobs need a worker role ({ROLE})',
        ],
    ),
    (
        'kubeflow pytorch-operator roles and azure storage',
        _config(
            {
                'platform': 'kubeflow', 'operator': 'pytorch-operator', 'apiVersion': 'v1',
                'storage': {'storageType': 'azureStorage', 'server': 's'},
                'worker': _role(), 'ps': _role(gpuNumber=-1, codeDirectory=None), 'master': _role(command=''),
            }
        ),
        [
            "trainingService.storage.azureAccount: not set, required when storageType is 'azureStorage'",
            "trainingService.storage.azureShare: not set, required when storageType is 'azureStorage'",
            "trainingService.storage.keyVaultName: not set, required when storageType is 'azureStorage'",
            "trainingService.storage.keyVaultKey: not set, required when storageType is 'azureStorage'",
            "trainingService.storage.server: is only used when storageType is 'nfs', got 's' with storageType "
            "'azureStorage'; remove it",
            'trainingService.ps.gpuNumber: must be a non-negative integer, got -1',
            'trainingService.ps.codeDirectory: not set, must be a path (the trial code directory of this role)',
            "trainingService.master.command: must be the shell command the pods run, got ''",
        ],
    ),
    (
        'kubeflow wrong values',
        _config({'platform': 'kubeflow', 'operator': 'mxnet-operator', 'apiVersion': 'v1', 'storage': 'nfs', 'namespace': ''}),
        [
            "trainingService.operator: must be one of 'tf-operator', 'pytorch-operator', got 'mxnet-operator'",
            f"trainingService.storage: must be {STORAGE}, got 'nfs'",
            "trainingService.namespace: must be a Kubernetes namespace, got ''",
        ],
    ),
    (
        'kubeflow storage type',
        _config({'platform': 'kubeflow', 'operator': 'tf-operator', 'apiVersion': 'v1', 'storage': {'storageType': 'pvc'},
                 'worker': _role(), 'ps': _role()}),
        ["trainingService.storage.storageType: must be one of 'nfs', 'azureStorage', got 'pvc'"],
    ),
    # ------------------------------------------------------------------ frameworkcontroller
    (
        'frameworkcontroller with nothing set',
        _config({'platform': 'frameworkcontroller'}),
        [
            f'trainingService.storage: not set, must be {STORAGE}',
            'trainingService.taskRoles: must be a non-empty list of task roles, got []',
        ],
    ),
    (
        'frameworkcontroller task roles',
        _config(
            {
                'platform': 'frameworkcontroller', 'storage': NFS, 'serviceAccountName': '',
                'taskRoles': [
                    _task_role(frameworkAttemptCompletionPolicy={'minFailedTaskCount': 3, 'minSucceedTaskCount': 0}),
                    _task_role(frameworkAttemptCompletionPolicy=None, taskNumber=0),
                    5,
                    _task_role(gpuNumber=None, memorySize=0),
                ],
            }
        ),
        [
            "trainingService.serviceAccountName: must be a Kubernetes service account name, got ''",
            f'trainingService.taskRoles[2]: must be {TASK_ROLE}, got 5',
            f'trainingService.taskRoles[0].frameworkAttemptCompletionPolicy.minSucceedTaskCount: must be {TASK_COUNT}, got 0',
            'trainingService.taskRoles[0].frameworkAttemptCompletionPolicy.minFailedTaskCount: must be at most taskNumber (2) '
            'or -1, got 3',
            'trainingService.taskRoles[1].taskNumber: must be a positive integer, got 0',
            'trainingService.taskRoles[1].frameworkAttemptCompletionPolicy: not set, must be a completion policy such as '
            '{minFailedTaskCount: 1, minSucceedTaskCount: 1}',
            'trainingService.taskRoles[3].gpuNumber: not set, must be a non-negative integer',
            f'trainingService.taskRoles[3].memorySize: must be {MEMORY}, got 0',
            "trainingService.taskRoles[1].name: duplicate task role name, each role needs its own name; got 'worker'",
            "trainingService.taskRoles[3].name: duplicate task role name, each role needs its own name; got 'worker'",
        ],
    ),
    # ------------------------------------------------------------------ hybrid and shared storage
    (
        'hybrid: each item at its index',
        _config(
            [
                {'platform': 'local'},
                {'platform': 'remote', 'machineList': [{'host': 'h', 'user': 'u', 'port': 99999, 'password': 'p'}]},
                {'platform': 'kubeflow'},
            ]
        ),
        [
            'trainingService[1].machineList[0].port: must be a port number between 1 and 65535, got 99999',
            "trainingService[2].operator: not set, must be one of 'tf-operator', 'pytorch-operator'",
            'trainingService[2].apiVersion: not set, must be an API version such as v1',
            f'trainingService[2].storage: not set, must be {STORAGE}',
        ],
    ),
    (
        'hybrid: shortcut fields of an item override the experiment',
        _config([{'platform': 'local'}, {'platform': 'aml', 'trialGpuNumber': -1, 'subscriptionId': 's', 'resourceGroup': 'r',
                                         'workspaceName': 'w', 'computeTarget': 'c'}]),
        ['trainingService[1].trialGpuNumber: must be a non-negative integer, got -1'],
    ),
    (
        'shared storage of AzureBlob type',
        _config({'platform': 'local'}, sharedStorage={'storageType': 'AzureBlob', 'localMountPoint': 'mnt',
                                                     'remoteMountPoint': 'r', 'localMounted': 'nnimount'}),
        [
            "sharedStorage.storageAccountName: not set, required when storageType is 'AzureBlob'",
            "sharedStorage.containerName: not set, required when storageType is 'AzureBlob'",
        ],
    ),
]


@pytest.mark.parametrize(('config', 'expected'), [case[1:] for case in CATALOGUE], ids=[case[0] for case in CATALOGUE])
def test_bad_platform_config_catalogue(site: Path, config: dict[str, Any], expected: list[str]) -> None:
    config = {key: value for key, value in config.items() if value is not None}
    with pytest.raises(ConfigError) as info:
        ExperimentConfig(**config).validate()
    cwd = str(site.resolve())
    assert info.value.errors == [line.replace('{cwd}', cwd) for line in expected]


@pytest.mark.parametrize(
    ('service', 'expected'),
    [
        (
            {'platform': 'remote', 'machineList': [{'hots': 'h', 'ip': 'x', 'username': 'u', 'passwd': 'p', 'sshKeyPath': 'k',
                                                    'passphrase': 'pp', 'maxTrialNumPerGpu': 1}]},
            [
                'trainingService.machineList[0].hots: unknown field, did you mean host?',
                'trainingService.machineList[0].ip: is a legacy (v1) field, use host instead',
                'trainingService.machineList[0].username: is a legacy (v1) field, use user instead',
                'trainingService.machineList[0].passwd: is a legacy (v1) field, use password instead',
                'trainingService.machineList[0].sshKeyPath: is a legacy (v1) field, use sshKeyFile instead',
                'trainingService.machineList[0].passphrase: is a legacy (v1) field, use sshPassphrase instead',
                'trainingService.machineList[0].maxTrialNumPerGpu: is a legacy (v1) field, use maxTrialNumberPerGpu instead',
            ],
        ),
        (
            {'platform': 'frameworkcontroller', 'reuse': True,
             'taskRoles': [{'taskNum': 1, 'frameworkAttemptCompletionPolicy': {'minSucceededTaskCount': 1}}]},
            [
                'trainingService.reuse: is a legacy (v1) field, use reuseMode instead',
                'trainingService.taskRoles[0].taskNum: is a legacy (v1) field, use taskNumber instead',
                'trainingService.taskRoles[0].frameworkAttemptCompletionPolicy.minSucceededTaskCount: is a legacy (v1) field, '
                'use minSucceedTaskCount instead',
            ],
        ),
        (
            {'platform': 'kubeflow', 'worker': {'gpuNum': 1, 'memoryMB': 3, 'image': 'i'}, 'storage': {'storage': 'nfs'}},
            [
                'trainingService.storage.storage: unknown field, did you mean storageType?',
                'trainingService.worker.gpuNum: is a legacy (v1) field, use gpuNumber instead',
                'trainingService.worker.memoryMB: is a legacy (v1) field, use memorySize instead',
                'trainingService.worker.image: is a legacy (v1) field, use dockerImage instead',
            ],
        ),
        ({'platform': 'openpai', 'paiConfig': {}}, ['trainingService.paiConfig: unknown field, did you mean openpaiConfig?']),
        (
            {'platform': 'dlc', 'pod_cnt': 1},
            ['trainingService.pod_cnt: unknown field, did you mean pod_count?'],  # answered in the spelling used
        ),
    ],
)
def test_unknown_keys_of_platform_configs(service: dict[str, Any], expected: list[str]) -> None:
    with pytest.raises(UnknownFieldError) as info:
        ExperimentConfig(**_config(service))
    assert info.value.errors == expected


def test_unknown_key_in_a_loaded_file_lists_the_other_problems_too(site: Path) -> None:
    (site / 'config.yml').write_text(
        'searchSpace: {}\ntrialCommand: x\ntrialConcurrency: 1\ntuner: {name: TPE}\n'
        'trainingService:\n  platform: remote\n  machineList:\n    - {host: h, usr: u, password: p}\n    - {host: h, port: 0}\n'
    )
    with pytest.raises(UnknownFieldError) as info:
        ExperimentConfig.load(site / 'config.yml')
    assert info.value.errors == [
        'trainingService.machineList[0].usr: unknown field, did you mean user?',
        'trainingService.machineList[1].port: must be a port number between 1 and 65535, got 0',
        'trainingService.machineList[1].user: not set, must be a user name',
        "trainingService.machineList[1].sshKeyFile: must be an existing private key file when no password is set (set "
        f"password to log in with one), got '{Path('~/.ssh/id_rsa').expanduser().resolve()}'",
    ]


def test_python_classes_check_the_fields_of_their_type() -> None:
    with pytest.raises(ConfigError) as info:
        NfsConfig(local_mount_point='/m').validate()
    assert info.value.errors == [
        'remoteMountPoint: not set, must be a string (a path on the training machines)',
        "localMounted: not set, must be one of 'usermount', 'nnimount', 'nomount'",
        'nfsServer: not set, must be a string (host name or IP of the NFS server)',
        'exportedDirectory: not set, must be a string (the exported path on the NFS server)',
    ]
    with pytest.raises(ConfigError) as info:
        K8sNfsConfig(storage_type='azureStorage').validate()
    assert info.value.errors == [
        "storageType: must be 'nfs', got 'azureStorage'",
        'server: not set, must be an NFS server host name or IP',
        'path: not set, must be the directory exported by the NFS server',
        "azureAccount: not set, required when storageType is 'azureStorage'",
        "azureShare: not set, required when storageType is 'azureStorage'",
        "keyVaultName: not set, required when storageType is 'azureStorage'",
        "keyVaultKey: not set, required when storageType is 'azureStorage'",
    ]


def test_machine_appended_as_a_dict_is_checked_too() -> None:
    config = ExperimentConfig('remote', **{k: v for k, v in _config(None).items() if k != 'trainingService'})
    config.training_service.machine_list.append(RemoteMachineConfig(host='h', user='u', password='p'))
    config.training_service.machine_list.append({'host': 'h2', 'user': 'u', 'password': 'p', 'port': -1})
    with pytest.raises(ConfigError) as info:
        config.validate()
    assert info.value.errors == ['trainingService.machineList[1].port: must be a port number between 1 and 65535, got -1']
