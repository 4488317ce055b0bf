"""Every platform in the shapes NNI's documentation shows, YAML and Python: canonical form and round trips."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.experiment.config.sites import SPACE

from nni.experiment.config import (
    AmlConfig,
    AzureBlobConfig,
    ConfigError,
    DlcConfig,
    ExperimentConfig,
    FrameworkAttemptCompletionPolicy,
    FrameworkControllerConfig,
    FrameworkControllerRoleConfig,
    K8sAzureStorageConfig,
    K8sNfsConfig,
    K8sStorageConfig,
    KubeflowConfig,
    KubeflowRoleConfig,
    LocalConfig,
    NfsConfig,
    OpenpaiConfig,
    RemoteConfig,
    RemoteMachineConfig,
    SharedStorageConfig,
)

pytestmark = pytest.mark.usefixtures('no_validators')


def _real(path: Path) -> str:
    return str(path.resolve())


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


# ---------------------------------------------------------------------------------------------
# The YAML examples, one per platform, in the shapes of NNI's training service guides.

EXAMPLES: dict[str, str] = {
    'local': """
searchSpaceFile: search_space.json
trialCommand: python3 mnist.py
trialGpuNumber: 0
trialConcurrency: 4
maxTrialNumber: 20
tuner:
  name: TPE
  classArgs:
    optimize_mode: maximize
trainingService:
  platform: local
""",
    'remote': """
searchSpaceFile: search_space.json
trialCommand: python3 mnist.py
trialGpuNumber: 0
trialConcurrency: 4
maxTrialNumber: 20
tuner:
  name: TPE
  classArgs:
    optimize_mode: maximize
trainingService:
  platform: remote
  machineList:
    - host: 192.0.2.1
      user: alice
      ssh_key_file: ~/.ssh/id_rsa
    - host: 192.0.2.2
      port: 10022
      user: bob
      password: bob123
      pythonPath: /home/bob/.conda/envs/ENV-NAME/bin
""",
    'openpai': """
searchSpaceFile: search_space.json
trialCommand: python3 mnist.py
trialGpuNumber: 0
trialConcurrency: 1
maxTrialNumber: 10
tuner:
  name: TPE
  classArgs:
    optimize_mode: maximize
trainingService:
  platform: openpai
  host: http://192.0.2.10
  username: alice
  token: abc123
  dockerImage: msranni/nni
  trialCpuNumber: 1
  trialMemorySize: 8GB
  storageConfigName: confignfs-data
  localStorageMountPoint: pai_mount
  containerStorageMountPoint: /mnt/confignfs-data
""",
    'aml': """
searchSpaceFile: search_space.json
trialCommand: python3 mnist.py
trialConcurrency: 1
maxTrialNumber: 10
tuner:
  name: TPE
trainingService:
  platform: aml
  dockerImage: msranni/nni
  subscriptionId: sub-0001
  resourceGroup: my-group
  workspaceName: my-workspace
  computeTarget: gpu-cluster
  maxTrialNumberPerGpu: 1
  useActiveGpu: false
""",
    'dlc': """
experimentWorkingDirectory: work
searchSpaceFile: search_space.json
trialCommand: python mnist.py --data_dir /root/data/mnist
trialConcurrency: 1
maxTrialNumber: 10
tuner:
  name: TPE
  classArgs:
    optimize_mode: maximize
trainingService:
  platform: dlc
  type: Worker
  image: registry.example.com/pai-dlc/pytorch-training:1.6.0
  jobType: PyTorchJob
  podCount: 1
  ecsSpec: ecs.c6.large
  region: cn-hangzhou
  workspaceId: ws-0001
  accessKeyId: ak-id
  accessKeySecret: ak-secret
  nasDataSourceId: nas-0001
  ossDataSourceId: oss-0001
  localStorageMountPoint: /home/admin/workspace/
  containerStorageMountPoint: /root/data/
""",
    'kubeflow': """
searchSpaceFile: search_space.json
trialConcurrency: 2
maxTrialNumber: 10
tuner:
  name: TPE
  classArgs:
    optimize_mode: maximize
trainingService:
  platform: kubeflow
  operator: pytorch-operator
  apiVersion: v1alpha2
  storage:
    storageType: nfs
    server: 192.0.2.20
    path: /mnt/nfs/nni
  worker:
    replicas: 2
    command: python3 model.py
    gpuNumber: 1
    cpuNumber: 1
    memorySize: 4g
    codeDirectory: .
  master:
    replicas: 1
    command: python3 model.py
    gpuNumber: 0
    cpuNumber: 1
    memorySize: 4g
    codeDirectory: .
    dockerImage: msranni/nni:latest
""",
    'frameworkcontroller': """
trialCodeDirectory: .
searchSpaceFile: search_space.json
trialConcurrency: 2
maxTrialNumber: 10
tuner:
  name: TPE
  classArgs:
    optimize_mode: maximize
trainingService:
  platform: frameworkcontroller
  serviceAccountName: frameworkcontroller
  storage:
    storageType: azureStorage
    azureAccount: my-account
    azureShare: my-share
    keyVaultName: my-vault
    keyVaultKey: my-secret
  taskRoles:
    - name: worker
      taskNumber: 1
      command: python3 model.py
      gpuNumber: 1
      cpuNumber: 1
      memorySize: 4g
      frameworkAttemptCompletionPolicy:
        minFailedTaskCount: 1
        minSucceedTaskCount: 1
""",
    'hybrid': """
searchSpaceFile: search_space.json
trialCommand: python3 mnist.py
trialConcurrency: 2
tuner:
  name: TPE
  classArgs:
    optimize_mode: minimize
trainingService:
  - platform: remote
    machineList:
      - host: 127.0.0.1
        user: bob
        password: bob
  - platform: local
""",
    'shared storage (AzureBlob)': """
searchSpaceFile: search_space.json
trialCommand: python3 mnist.py
trialConcurrency: 2
tuner:
  name: TPE
trainingService:
  platform: remote
  reuseMode: true
  machineList:
    - host: 192.0.2.1
      user: alice
sharedStorage:
  storageType: AzureBlob
  localMountPoint: ~/shared
  remoteMountPoint: nni-shared
  storageAccountName: my-account
  storageAccountKey: my-key
  containerName: my-container
  localMounted: nnimount
""",
    'shared storage (NFS)': """
searchSpaceFile: search_space.json
trialCommand: python3 mnist.py
trialConcurrency: 2
tuner:
  name: TPE
trainingService:
  platform: remote
  reuseMode: true
  machineList:
    - host: 192.0.2.1
      user: alice
sharedStorage:
  storageType: NFS
  localMountPoint: /mnt/nfs-local
  remoteMountPoint: /mnt/nfs-remote
  nfsServer: 192.0.2.30
  exportedDirectory: /exports/nni
  localMounted: usermount
""",
}


def _services(site: Path) -> dict[str, Any]:
    """The canonical ``trainingService`` (and ``sharedStorage``) each example must produce."""
    cwd = _real(site)
    base = {'trialCodeDirectory': cwd, 'debug': False}
    key = _real(site / 'home' / '.ssh' / 'id_rsa')
    remote_one = {
        'platform': 'remote', 'trialCommand': 'python3 mnist.py', **base,
        'machineList': [
            {'host': '192.0.2.1', 'port': 22, 'user': 'alice', 'sshKeyFile': key, 'useActiveGpu': False, 'maxTrialNumberPerGpu': 1}
        ],
        'reuseMode': True,
    }
    return {
        'local': {
            'platform': 'local', 'trialCommand': 'python3 mnist.py', 'trialCodeDirectory': cwd, 'trialGpuNumber': 0,
            'debug': False, 'maxTrialNumberPerGpu': 1, 'reuseMode': False,
        },
        'remote': {
            'platform': 'remote', 'trialCommand': 'python3 mnist.py', 'trialCodeDirectory': cwd, 'trialGpuNumber': 0,
            'debug': False,
            'machineList': [
                {'host': '192.0.2.1', 'port': 22, 'user': 'alice', 'sshKeyFile': key, 'useActiveGpu': False,
                 'maxTrialNumberPerGpu': 1},
                {'host': '192.0.2.2', 'port': 10022, 'user': 'bob', 'password': 'bob123', 'useActiveGpu': False,
                 'maxTrialNumberPerGpu': 1, 'pythonPath': '/home/bob/.conda/envs/ENV-NAME/bin'},
            ],
            'reuseMode': False,
        },
        'openpai': {
            'platform': 'openpai', 'trialCommand': 'python3 mnist.py', 'trialCodeDirectory': cwd, 'trialGpuNumber': 0,
            'debug': False, 'host': 'http://192.0.2.10', 'username': 'alice', 'token': 'abc123', 'trialCpuNumber': 1,
            'trialMemorySize': '8GB', 'storageConfigName': 'confignfs-data', 'dockerImage': 'msranni/nni',
            'localStorageMountPoint': _real(site / 'pai_mount'), 'containerStorageMountPoint': '/mnt/confignfs-data',
            'reuseMode': True,
        },
        'aml': {
            'platform': 'aml', 'trialCommand': 'python3 mnist.py', **base, 'subscriptionId': 'sub-0001',
            'resourceGroup': 'my-group', 'workspaceName': 'my-workspace', 'computeTarget': 'gpu-cluster',
            'dockerImage': 'msranni/nni', 'maxTrialNumberPerGpu': 1, 'useActiveGpu': False,
        },
        'dlc': {
            'platform': 'dlc', 'trialCommand': 'python mnist.py --data_dir /root/data/mnist', **base, 'type': 'Worker',
            'image': 'registry.example.com/pai-dlc/pytorch-training:1.6.0', 'jobType': 'PyTorchJob', 'podCount': 1,
            'ecsSpec': 'ecs.c6.large', 'region': 'cn-hangzhou', 'workspaceId': 'ws-0001', 'nasDataSourceId': 'nas-0001',
            'ossDataSourceId': 'oss-0001', 'accessKeyId': 'ak-id', 'accessKeySecret': 'ak-secret',
            'localStorageMountPoint': '/home/admin/workspace/', 'containerStorageMountPoint': '/root/data/',
        },
        'kubeflow': {
            'platform': 'kubeflow', 'trialCommand': '', **base, 'operator': 'pytorch-operator', 'apiVersion': 'v1alpha2',
            'storage': {'storageType': 'nfs', 'server': '192.0.2.20', 'path': '/mnt/nfs/nni'},
            'worker': {'replicas': 2, 'command': 'python3 model.py', 'gpuNumber': 1, 'cpuNumber': 1, 'memorySize': '4gb',
                       'dockerImage': 'msranni/nni:latest', 'codeDirectory': '.'},
            'master': {'replicas': 1, 'command': 'python3 model.py', 'gpuNumber': 0, 'cpuNumber': 1, 'memorySize': '4gb',
                       'dockerImage': 'msranni/nni:latest', 'codeDirectory': '.'},
            'reuseMode': True, 'namespace': 'default',
        },
        'frameworkcontroller': {
            'platform': 'frameworkcontroller', 'trialCommand': '', **base,
            'storage': {'storageType': 'azureStorage', 'azureAccount': 'my-account', 'azureShare': 'my-share',
                        'keyVaultName': 'my-vault', 'keyVaultKey': 'my-secret'},
            'serviceAccountName': 'frameworkcontroller',
            'taskRoles': [{'name': 'worker', 'dockerImage': 'msranni/nni:latest', 'taskNumber': 1, 'command': 'python3 model.py',
                           'gpuNumber': 1, 'cpuNumber': 1, 'memorySize': '4gb',
                           'frameworkAttemptCompletionPolicy': {'minFailedTaskCount': 1, 'minSucceedTaskCount': 1}}],
            'reuseMode': True, 'namespace': 'default',
        },
        'hybrid': [
            {'platform': 'remote', 'trialCommand': 'python3 mnist.py', **base,
             'machineList': [{'host': '127.0.0.1', 'port': 22, 'user': 'bob', 'password': 'bob', 'useActiveGpu': False,
                              'maxTrialNumberPerGpu': 1}],
             'reuseMode': False},
            {'platform': 'local', 'trialCommand': 'python3 mnist.py', **base, 'maxTrialNumberPerGpu': 1, 'reuseMode': False},
        ],
        'shared storage (AzureBlob)': (
            remote_one,
            {'storageType': 'AzureBlob', 'localMountPoint': _real(site / 'home' / 'shared'), 'remoteMountPoint': 'nni-shared',
             'localMounted': 'nnimount', 'storageAccountName': 'my-account', 'storageAccountKey': 'my-key',
             'containerName': 'my-container'},
        ),
        'shared storage (NFS)': (
            remote_one,
            {'storageType': 'NFS', 'localMountPoint': '/mnt/nfs-local', 'remoteMountPoint': '/mnt/nfs-remote',
             'localMounted': 'usermount', 'nfsServer': '192.0.2.30', 'exportedDirectory': '/exports/nni'},
        ),
    }


@pytest.mark.parametrize('name', list(EXAMPLES))
def test_example_yaml_canonical_form(site: Path, name: str) -> None:
    config = ExperimentConfig.load(_write(site, 'config.yml', EXAMPLES[name]))
    data = config.json()
    expected = _services(site)[name]
    if isinstance(expected, tuple):
        assert data['trainingService'] == expected[0]
        assert data['sharedStorage'] == expected[1]
    else:
        assert data['trainingService'] == expected
    assert data['searchSpace'] == SPACE
    assert data['searchSpaceFile'] == _real(site / 'search_space.json')


@pytest.mark.parametrize('name', list(EXAMPLES))
def test_example_yaml_round_trips(site: Path, name: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    config = ExperimentConfig.load(_write(site, 'config.yml', EXAMPLES[name]))
    canonical = config.canonical_copy()
    data = config.json()
    assert canonical.json() == data
    # what the manager stores comes back as the same config, from a dict ...
    assert ExperimentConfig(**data).json() == data
    assert ExperimentConfig(**data).canonical_copy() == canonical
    # ... and from a JSON or YAML file anywhere else (the canonical paths are absolute)
    elsewhere = tmp_path_factory.mktemp('elsewhere')
    assert ExperimentConfig.load(_write(elsewhere, 'config.json', json.dumps(data))).json() == data
    assert ExperimentConfig.load(_write(elsewhere, 'config.yml', yaml.safe_dump(data))).json() == data


@pytest.mark.parametrize('name', list(EXAMPLES))
def test_example_yaml_in_snake_case(site: Path, name: str) -> None:
    # the same file with every key in Python spelling loads to the same config
    def snake(value: Any) -> Any:
        if isinstance(value, dict):
            return {_snake(key) if key not in ('searchSpace', 'classArgs') else key: snake(item) if key != 'classArgs' else item
                    for key, item in value.items()}
        if isinstance(value, list):
            return [snake(item) for item in value]
        return value

    data = yaml.safe_load(EXAMPLES[name])
    camel = ExperimentConfig.load(_write(site, 'camel.yml', EXAMPLES[name]))
    snaked = ExperimentConfig.load(_write(site, 'snake.yml', yaml.safe_dump(snake(data))))
    assert snaked.json() == camel.json()


def _snake(key: str) -> str:
    return ''.join('_' + char.lower() if char.isupper() else char for char in key)


def test_search_space_file_in_yaml(site: Path) -> None:
    _write(site, 'space.yaml', 'x:\n  _type: choice\n  _value: [1, 2]\n')
    text = EXAMPLES['aml'].replace('searchSpaceFile: search_space.json', 'searchSpaceFile: space.yaml')
    assert ExperimentConfig.load(_write(site, 'config.yml', text)).json()['searchSpace'] == SPACE


def test_inline_search_space(site: Path) -> None:
    text = EXAMPLES['dlc'].replace('searchSpaceFile: search_space.json', 'searchSpace: {x: {_type: choice, _value: [1, 2]}}')
    data = ExperimentConfig.load(_write(site, 'config.yml', text)).json()
    assert data['searchSpace'] == SPACE
    assert 'searchSpaceFile' not in data


def test_paths_are_relative_to_the_config_file(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sub = site / 'exp'
    sub.mkdir()
    (sub / 'search_space.json').write_text(json.dumps(SPACE))
    (sub / 'mnt').mkdir()
    (sub / 'job.yml').write_text('{}')
    text = EXAMPLES['openpai'].replace('localStorageMountPoint: pai_mount', 'localStorageMountPoint: mnt')
    text = text.replace('storageConfigName: confignfs-data', 'openpaiConfigFile: job.yml')
    path = _write(sub, 'config.yml', text)
    monkeypatch.chdir(site / 'home')  # somewhere else
    data = ExperimentConfig.load(path).json()['trainingService']
    assert data['localStorageMountPoint'] == _real(sub / 'mnt')
    assert data['openpaiConfigFile'] == _real(sub / 'job.yml')
    assert data['trialCodeDirectory'] == _real(sub)


def test_units_stay_verbatim(site: Path) -> None:
    text = EXAMPLES['openpai'] + 'maxExperimentDuration: 1.5h\nmaxTrialDuration: 30m\n'
    data = ExperimentConfig.load(_write(site, 'config.yml', text.replace('8GB', '8192'))).json()
    assert (data['maxExperimentDuration'], data['maxTrialDuration']) == ('1.5h', '30m')
    assert data['trainingService']['trialMemorySize'] == 8192


# ---------------------------------------------------------------------------------------------
# The same configs built in Python, as the guides (and the Python API guide) write them.


def _python_remote(site: Path) -> ExperimentConfig:
    config = ExperimentConfig('remote')
    config.search_space_file = 'search_space.json'
    config.trial_command = 'python3 mnist.py'
    config.trial_gpu_number = 0
    config.trial_concurrency = 4
    config.max_trial_number = 20
    config.tuner.name = 'TPE'
    config.tuner.class_args['optimize_mode'] = 'maximize'
    config.training_service.machine_list.append(RemoteMachineConfig(host='192.0.2.1', user='alice', ssh_key_file='~/.ssh/id_rsa'))
    machine = RemoteMachineConfig(host='192.0.2.2', port=10022, user='bob', password='bob123')
    machine.python_path = '/home/bob/.conda/envs/ENV-NAME/bin'
    config.training_service.machine_list.append(machine)
    return config


def _python_openpai(site: Path) -> ExperimentConfig:
    config = ExperimentConfig('openpai')
    config.search_space_file = 'search_space.json'
    config.trial_command = 'python3 mnist.py'
    config.trial_gpu_number = 0
    config.trial_concurrency = 1
    config.max_trial_number = 10
    config.tuner.name = 'TPE'
    config.tuner.class_args['optimize_mode'] = 'maximize'
    service = config.training_service
    service.host = 'http://192.0.2.10'
    service.username = 'alice'
    service.token = 'abc123'
    service.docker_image = 'msranni/nni'
    service.trial_cpu_number = 1
    service.trial_memory_size = '8GB'
    service.storage_config_name = 'confignfs-data'
    service.local_storage_mount_point = Path('pai_mount')
    service.container_storage_mount_point = '/mnt/confignfs-data'
    return config


def _python_aml(site: Path) -> ExperimentConfig:
    return ExperimentConfig(
        search_space_file='search_space.json',
        trial_command='python3 mnist.py',
        trial_concurrency=1,
        max_trial_number=10,
        tuner={'name': 'TPE'},
        training_service=AmlConfig(
            docker_image='msranni/nni', subscription_id='sub-0001', resource_group='my-group',
            workspace_name='my-workspace', compute_target='gpu-cluster', max_trial_number_per_gpu=1, use_active_gpu=False,
        ),
    )


def _python_dlc(site: Path) -> ExperimentConfig:
    config = ExperimentConfig('dlc')
    config.experiment_working_directory = 'work'
    config.search_space_file = 'search_space.json'
    config.trial_command = 'python mnist.py --data_dir /root/data/mnist'
    config.trial_concurrency = 1
    config.max_trial_number = 10
    config.tuner.name = 'TPE'
    config.tuner.class_args['optimize_mode'] = 'maximize'
    config.training_service = DlcConfig(
        type='Worker', image='registry.example.com/pai-dlc/pytorch-training:1.6.0', job_type='PyTorchJob', pod_count=1,
        ecs_spec='ecs.c6.large', region='cn-hangzhou', workspace_id='ws-0001', access_key_id='ak-id',
        access_key_secret='ak-secret', nas_data_source_id='nas-0001', oss_data_source_id='oss-0001',
        local_storage_mount_point='/home/admin/workspace/', container_storage_mount_point='/root/data/',
    )
    return config


def _python_kubeflow(site: Path) -> ExperimentConfig:
    # NNI's Kubeflow guide, with the platform fields set on the training service
    config = ExperimentConfig('kubeflow')
    config.search_space_file = 'search_space.json'
    config.tuner.name = 'TPE'
    config.tuner.class_args['optimize_mode'] = 'maximize'
    config.max_trial_number = 10
    config.trial_concurrency = 2
    config.training_service.operator = 'pytorch-operator'
    config.training_service.api_version = 'v1alpha2'
    config.training_service.storage = K8sNfsConfig()
    config.training_service.storage.server = '192.0.2.20'
    config.training_service.storage.path = '/mnt/nfs/nni'
    for name, replicas, gpus in (('worker', 2, 1), ('master', 1, 0)):
        role = KubeflowRoleConfig()
        role.replicas = replicas
        role.command = 'python3 model.py'
        role.gpu_number = gpus
        role.cpu_number = 1
        role.memory_size = '4g'
        role.code_directory = '.'
        setattr(config.training_service, name, role)
    config.training_service.master.docker_image = 'msranni/nni:latest'
    return config


def _python_frameworkcontroller(site: Path) -> ExperimentConfig:
    # NNI's FrameworkController guide
    config = ExperimentConfig('frameworkcontroller')
    config.trial_code_directory = '.'
    config.search_space_file = 'search_space.json'
    config.tuner.name = 'TPE'
    config.tuner.class_args['optimize_mode'] = 'maximize'
    config.max_trial_number = 10
    config.trial_concurrency = 2
    config.training_service.storage = K8sAzureStorageConfig()
    config.training_service.storage.azure_account = 'my-account'
    config.training_service.storage.azure_share = 'my-share'
    config.training_service.storage.key_vault_name = 'my-vault'
    config.training_service.storage.key_vault_key = 'my-secret'
    config.training_service.task_roles = [FrameworkControllerRoleConfig()]
    config.training_service.task_roles[0].name = 'worker'
    config.training_service.task_roles[0].task_number = 1
    config.training_service.task_roles[0].command = 'python3 model.py'
    config.training_service.task_roles[0].gpu_number = 1
    config.training_service.task_roles[0].cpu_number = 1
    config.training_service.task_roles[0].memory_size = '4g'
    config.training_service.task_roles[0].framework_attempt_completion_policy = FrameworkAttemptCompletionPolicy(
        min_failed_task_count=1, min_succeed_task_count=1
    )
    config.training_service.service_account_name = 'frameworkcontroller'
    return config


def _python_hybrid(site: Path) -> ExperimentConfig:
    config = ExperimentConfig(['remote', 'local'])
    config.search_space_file = 'search_space.json'
    config.trial_command = 'python3 mnist.py'
    config.trial_concurrency = 2
    config.tuner.name = 'TPE'
    config.tuner.class_args['optimize_mode'] = 'minimize'
    config.training_service[0].machine_list.append(RemoteMachineConfig(host='127.0.0.1', user='bob', password='bob'))
    return config


def _python_shared(storage: SharedStorageConfig) -> Callable[[Path], ExperimentConfig]:
    def build(site: Path) -> ExperimentConfig:
        return ExperimentConfig(
            search_space_file='search_space.json',
            trial_command='python3 mnist.py',
            trial_concurrency=2,
            tuner={'name': 'TPE'},
            training_service=RemoteConfig(reuse_mode=True, machine_list=[RemoteMachineConfig(host='192.0.2.1', user='alice')]),
            shared_storage=storage,
        )

    return build


PYTHON: dict[str, Callable[[Path], ExperimentConfig]] = {
    'remote': _python_remote,
    'openpai': _python_openpai,
    'aml': _python_aml,
    'dlc': _python_dlc,
    'kubeflow': _python_kubeflow,
    'frameworkcontroller': _python_frameworkcontroller,
    'hybrid': _python_hybrid,
    'shared storage (AzureBlob)': _python_shared(
        AzureBlobConfig(local_mount_point='~/shared', remote_mount_point='nni-shared', storage_account_name='my-account',
                        storage_account_key='my-key', container_name='my-container', local_mounted='nnimount')
    ),
    'shared storage (NFS)': _python_shared(
        NfsConfig(local_mount_point='/mnt/nfs-local', remote_mount_point='/mnt/nfs-remote', nfs_server='192.0.2.30',
                  exported_directory='/exports/nni', local_mounted='usermount')
    ),
}


@pytest.mark.parametrize('name', list(PYTHON))
def test_python_form_equals_yaml_form(site: Path, name: str) -> None:
    from_python = PYTHON[name](site)
    from_yaml = ExperimentConfig.load(_write(site, 'config.yml', EXAMPLES[name]))
    assert from_python.json() == from_yaml.json()
    assert from_python.canonical_copy() == from_yaml.canonical_copy()


@pytest.mark.parametrize(
    ('platform', 'cls'),
    [('local', LocalConfig), ('remote', RemoteConfig), ('openpai', OpenpaiConfig), ('aml', AmlConfig), ('dlc', DlcConfig),
     ('kubeflow', KubeflowConfig), ('frameworkcontroller', FrameworkControllerConfig)],
)
def test_template_mode_for_every_platform(platform: str, cls: type) -> None:
    config = ExperimentConfig(platform)
    assert type(config.training_service) is cls
    assert config.training_service.platform == platform
    assert config.tuner.name == '_none_'


def test_k8s_storage_classes_compare_by_value() -> None:
    assert K8sNfsConfig(server='s', path='/p') == K8sStorageConfig(storage_type='nfs', server='s', path='/p')
    assert SharedStorageConfig(storage_type='NFS', local_mount_point='/m', remote_mount_point='r', local_mounted='nomount',
                               nfs_server='s', exported_directory='/e') == NfsConfig(
        local_mount_point='/m', remote_mount_point='r', local_mounted='nomount', nfs_server='s', exported_directory='/e')
    assert K8sNfsConfig(server='s', path='/p') != K8sAzureStorageConfig()


def test_yaml_storage_is_the_base_class(site: Path) -> None:
    config = ExperimentConfig.load(_write(site, 'config.yml', EXAMPLES['kubeflow']))
    assert type(config.training_service.storage) is K8sStorageConfig
    shared = ExperimentConfig.load(_write(site, 'config.yml', EXAMPLES['shared storage (NFS)'])).shared_storage
    assert type(shared) is SharedStorageConfig


def test_remote_password_drops_the_key_file_and_warns(site: Path) -> None:
    machine = RemoteMachineConfig(host='h', user='u', password='p', ssh_key_file='~/.ssh/id_rsa')
    with pytest.warns(UserWarning, match='^The SSH password of h is kept in plain text'):
        data = machine.json()
    assert 'sshKeyFile' not in data
    assert machine.ssh_key_file == '~/.ssh/id_rsa'  # the object itself is left alone


def test_openpai_host_gets_https(site: Path) -> None:
    config = _python_openpai(site)
    config.training_service.host = '192.0.2.10'
    assert config.json()['trainingService']['host'] == 'https://192.0.2.10'


def test_openpai_job_config_replaces_job_settings(site: Path) -> None:
    config = _python_openpai(site)
    service = config.training_service
    service.trial_cpu_number = service.trial_memory_size = service.storage_config_name = None
    config.trial_gpu_number = None
    service.openpai_config_file = 'pai_job.yml'
    data = config.json()['trainingService']
    assert data['openpaiConfigFile'] == _real(site / 'pai_job.yml')
    assert 'trialCpuNumber' not in data and 'trialGpuNumber' not in data
    service.openpai_config_file = None
    service.openpai_config = {'protocolVersion': 2, 'taskRoles': {'taskrole': {'instances': 1}}}
    assert config.json()['trainingService']['openpaiConfig'] == service.openpai_config  # keys never renamed


def test_kubeflow_template_then_yaml_dicts(site: Path) -> None:
    # dicts assigned in Python become config objects when the config is validated
    config = _python_kubeflow(site)
    config.training_service.storage = {'storageType': 'nfs', 'server': '192.0.2.20', 'path': '/mnt/nfs/nni'}
    config.training_service.worker = yaml.safe_load(
        '{replicas: 2, command: python3 model.py, gpuNumber: 1, cpuNumber: 1, memorySize: 4g, codeDirectory: .}'
    )
    from_yaml = ExperimentConfig.load(_write(site, 'config.yml', EXAMPLES['kubeflow']))
    assert config.json() == from_yaml.json()


def test_camel_case_attribute_of_the_guides_is_refused_with_the_snake_name() -> None:
    # NNI's FrameworkController guide writes task_roles[0].gpuNumber = 1, which NNI refuses too
    role = FrameworkControllerRoleConfig()
    with pytest.raises(AttributeError, match='did you mean gpu_number'):
        role.gpuNumber = 1  # type: ignore[attr-defined]


def test_platform_field_set_on_the_experiment_points_at_the_training_service() -> None:
    # NNI's Kubeflow guide writes experiment.config.operator
    config = ExperimentConfig('kubeflow')
    with pytest.raises(AttributeError, match=r'\(operator is a field of KubeflowConfig: set config.training_service.operator\)$'):
        config.operator = 'pytorch-operator'  # type: ignore[attr-defined]


def test_validate_reports_problems_of_every_example_at_once(site: Path) -> None:
    # a sanity check of the fixture: removing the files the examples need breaks them all
    (site / 'search_space.json').unlink()
    for name, text in EXAMPLES.items():
        with pytest.raises(ConfigError, match='^searchSpaceFile: must be a readable JSON or YAML file'):
            ExperimentConfig.load(_write(site, f'{len(name)}.yml', text)).validate()
