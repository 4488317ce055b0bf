"""ExperimentConfig as users write it: Python and YAML, template mode, canonical JSON, round trips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from nni.experiment.config import (
    AlgorithmConfig,
    ConfigError,
    CustomAlgorithmConfig,
    ExperimentConfig,
    LocalConfig,
    SharedStorageConfig,
)
from nni.experiment.config.algorithm import _AlgorithmConfig
from nni.experiment.config.base import ConfigBase

SEARCH_SPACE = {
    'dropout_rate': {'_type': 'uniform', '_value': [0.5, 0.9]},
    'conv_size': {'_type': 'choice', '_value': [2, 3, 5, 7]},
    'learning_rate': {'_type': 'choice', '_value': [0.0001, 0.001, 0.01, 0.1]},
}


def _home() -> str:
    return str(Path('~/nni-experiments').expanduser().resolve())


# ---------------------------------------------------------------------------------------------
# the launch script of NNI's "launch an experiment from Python" documentation


def test_python_template_mode(workdir: Path) -> None:
    config = ExperimentConfig('local')
    config.experiment_name = 'MNIST example'
    config.trial_concurrency = 2
    config.max_trial_number = 10
    config.search_space = SEARCH_SPACE
    config.trial_command = 'python3 mnist.py'
    config.trial_code_directory = workdir
    config.tuner.name = 'TPE'
    config.tuner.class_args['optimize_mode'] = 'maximize'
    config.training_service.use_active_gpu = True

    assert config.json() == {
        'experimentName': 'MNIST example',
        'experimentType': 'hpo',
        'searchSpace': SEARCH_SPACE,
        'trialCommand': 'python3 mnist.py',
        'trialCodeDirectory': str(workdir.resolve()),
        'trialConcurrency': 2,
        'maxTrialNumber': 10,
        'useAnnotation': False,
        'debug': False,
        'logLevel': 'info',
        'experimentWorkingDirectory': _home(),
        'tuner': {'name': 'TPE', 'classArgs': {'optimize_mode': 'maximize'}},
        'trainingService': {
            'platform': 'local',
            'trialCommand': 'python3 mnist.py',
            'trialCodeDirectory': str(workdir.resolve()),
            'debug': False,
            'useActiveGpu': True,
            'maxTrialNumberPerGpu': 1,
            'reuseMode': False,
        },
    }


def test_template_mode_creates_blank_services_and_placeholders() -> None:
    config = ExperimentConfig('local')
    assert config.training_service == LocalConfig()
    for name in ('tuner', 'assessor', 'advisor'):
        placeholder = getattr(config, name)
        assert isinstance(placeholder, _AlgorithmConfig)
        assert placeholder.name == '_none_'
        assert placeholder.class_args == {}


def test_template_mode_list_is_hybrid() -> None:
    config = ExperimentConfig(['local', 'local'])
    assert config.training_service == [LocalConfig(), LocalConfig()]


def test_template_placeholders_become_none(workdir: Path) -> None:
    config = ExperimentConfig('local', trial_command='x', trial_concurrency=1, search_space={})
    config.tuner.name = 'Random'
    canonical = config.canonical_copy()
    assert canonical.assessor is None
    assert canonical.advisor is None
    # the placeholder's empty class args stay (as NNI serialises them)
    assert config.json()['tuner'] == {'name': 'Random', 'classArgs': {}}


def test_template_placeholder_used_as_custom_algorithm(workdir: Path) -> None:
    config = ExperimentConfig('local', trial_command='x', trial_concurrency=1, search_space={})
    config.tuner.name = 'TPE'
    config.assessor.class_name = 'my_assessor.MyAssessor'
    assert config.json()['assessor'] == {'className': 'my_assessor.MyAssessor', 'codeDirectory': str(workdir.resolve()), 'classArgs': {}}


def test_template_mode_keyword_argument() -> None:
    assert ExperimentConfig(training_service_platform='local').training_service == LocalConfig()


def test_template_mode_does_not_replace_given_algorithms() -> None:
    config = ExperimentConfig('local', tuner=AlgorithmConfig(name='TPE'))
    assert config.tuner == AlgorithmConfig(name='TPE')


def test_template_mode_bad_argument_type() -> None:
    with pytest.raises(TypeError, match='must be a platform name or a list of names, got 3'):
        ExperimentConfig(3)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# dict / YAML configs in both spellings


def test_real_validators_check_the_search_space(workdir: Path) -> None:
    pytest.importorskip('nni.common.hpo_utils')
    config = ExperimentConfig(
        searchSpace={'a': 1},
        trialCommand='python main.py',
        trialConcurrency=2,
        tuner={'name': 'random'},
        trainingService={'platform': 'local'},
    )
    with pytest.raises(ConfigError) as info:
        config.validate()
    assert len(info.value.errors) == 1
    assert info.value.errors[0].startswith('searchSpace.a: must be a dict')


def test_minimal_canonical_json_matches_nni(workdir: Path, no_validators: None) -> None:
    # the expectation of NNI's own unit test for this input
    data = ExperimentConfig(
        searchSpace={'a': 1},
        trialCommand='python main.py',
        trialConcurrency=2,
        tuner={'name': 'random'},
        trainingService={'platform': 'local'},
    ).json()
    cwd = str(workdir.resolve())
    assert data == {
        'experimentType': 'hpo',
        'searchSpace': {'a': 1},
        'trialCommand': 'python main.py',
        'trialCodeDirectory': cwd,
        'trialConcurrency': 2,
        'useAnnotation': False,
        'debug': False,
        'logLevel': 'info',
        'experimentWorkingDirectory': _home(),
        'tuner': {'name': 'random'},
        'trainingService': {
            'platform': 'local',
            'trialCommand': 'python main.py',
            'trialCodeDirectory': cwd,
            'debug': False,
            'maxTrialNumberPerGpu': 1,
            'reuseMode': False,
        },
    }
    assert list(data) == list(data)  # key order is field order
    assert list(data)[:4] == ['experimentType', 'searchSpace', 'trialCommand', 'trialCodeDirectory']


SNAKE_YAML = """
experiment_name: snake
search_space:
  x: {_type: choice, _value: [1, 2, 3]}
trial_command: python3 trial.py
trial_code_directory: .
trial_concurrency: 3
max_trial_number: 20
max_experiment_duration: 10m
tuner:
  name: TPE
  class_args:
    optimize_mode: minimize
training_service:
  platform: local
  use_active_gpu: false
"""

CAMEL_YAML = """
experimentName: snake
searchSpace:
  x: {_type: choice, _value: [1, 2, 3]}
trialCommand: python3 trial.py
trialCodeDirectory: .
trialConcurrency: 3
maxTrialNumber: 20
maxExperimentDuration: 10m
tuner:
  name: TPE
  classArgs:
    optimize_mode: minimize
trainingService:
  platform: local
  useActiveGpu: false
"""


def test_both_spellings_give_the_same_config(workdir: Path) -> None:
    (workdir / 'snake.yml').write_text(SNAKE_YAML)
    (workdir / 'camel.yml').write_text(CAMEL_YAML)
    snake = ExperimentConfig.load(workdir / 'snake.yml')
    camel = ExperimentConfig.load(workdir / 'camel.yml')
    assert snake == camel
    assert snake.json() == camel.json()
    assert snake.json()['maxExperimentDuration'] == '10m'
    assert snake.json()['tuner']['classArgs'] == {'optimize_mode': 'minimize'}


def test_detailed_local_yaml(tmp_path: Path, no_validators: None) -> None:
    # the "detailed local" case of NNI's unit tests: a YAML file in a sub-directory (its
    # className has no module part, which the algorithm registry rejects, hence no_validators)
    folder = tmp_path / 'configs'
    folder.mkdir()
    (tmp_path / 'assets').mkdir()
    (folder / 'search_space.json').write_text(json.dumps({'a': {'_type': 'choice', '_value': [1, 2]}}))
    (folder / 'config.yml').write_text(
        """
searchSpaceFile: search_space.json
trialCommand: python main.py
trialCodeDirectory: ../assets
trialConcurrency: 2
trialGpuNumber: 1
maxExperimentDuration: 1.5h
maxTrialDuration: 60
debug: true
logLevel: warning
tunerGpuIndices: 0
tuner:
  className: Tuner
  codeDirectory: .
trainingService:
  platform: local
  useActiveGpu: false
  maxTrialNumberPerGpu: 2
  gpuIndices: 1,2
  reuseMode: true
sharedStorage:
  storageType: NFS
  localMountPoint: .
  remoteMountPoint: /tmp
  localMounted: usermount
  nfsServer: nfs.example
  exportedDirectory: /exports
"""
    )
    data = ExperimentConfig.load(folder / 'config.yml').json()
    resolved = str(folder.resolve())
    assets = str((tmp_path / 'assets').resolve())
    assert data == {
        'experimentType': 'hpo',
        'searchSpaceFile': str((folder / 'search_space.json').resolve()),
        'searchSpace': {'a': {'_type': 'choice', '_value': [1, 2]}},
        'trialCommand': 'python main.py',
        'trialCodeDirectory': assets,
        'trialConcurrency': 2,
        'trialGpuNumber': 1,
        'maxExperimentDuration': '1.5h',
        'maxTrialDuration': 60,
        'useAnnotation': False,
        'debug': True,
        'logLevel': 'warning',
        'experimentWorkingDirectory': _home(),
        'tunerGpuIndices': [0],
        'tuner': {'className': 'Tuner', 'codeDirectory': resolved},
        'trainingService': {
            'platform': 'local',
            'trialCommand': 'python main.py',
            'trialCodeDirectory': assets,
            'trialGpuNumber': 1,
            'debug': True,
            'useActiveGpu': False,
            'maxTrialNumberPerGpu': 2,
            'gpuIndices': [1, 2],
            'reuseMode': True,
        },
        'sharedStorage': {
            'storageType': 'NFS',
            'localMountPoint': resolved,
            'remoteMountPoint': '/tmp',
            'localMounted': 'usermount',
            'nfsServer': 'nfs.example',
            'exportedDirectory': '/exports',
        },
    }


def test_python_classes_instead_of_dicts(workdir: Path) -> None:
    config = ExperimentConfig(
        search_space=SEARCH_SPACE,
        trial_command='python3 trial.py',
        trial_concurrency=1,
        tuner=AlgorithmConfig(name='TPE', class_args={'optimize_mode': 'maximize'}),
        assessor=CustomAlgorithmConfig(class_name='my_assessor.Stop'),
        training_service=LocalConfig(gpu_indices=1, use_active_gpu=True),
    )
    data = config.json()
    assert data['assessor'] == {'className': 'my_assessor.Stop', 'codeDirectory': str(workdir.resolve())}
    assert data['trainingService']['gpuIndices'] == [1]


# ---------------------------------------------------------------------------------------------
# canonical form details


def test_search_space_file_in_yaml_format(workdir: Path, minimal) -> None:
    (workdir / 'space.yml').write_text('lr: {_type: loguniform, _value: [0.0001, 0.1]}\n')
    data = ExperimentConfig(**minimal(searchSpace=None, searchSpaceFile='space.yml')).json()
    assert data['searchSpace'] == {'lr': {'_type': 'loguniform', '_value': [0.0001, 0.1]}}
    assert data['searchSpaceFile'] == str((workdir / 'space.yml').resolve())


def test_search_space_file_wins_over_inline(workdir: Path, minimal) -> None:
    (workdir / 'space.json').write_text('{"b": {"_type": "choice", "_value": [0]}}')
    data = ExperimentConfig(**minimal(searchSpace={'a': {'_type': 'choice', '_value': [1]}}, searchSpaceFile='space.json')).json()
    assert data['searchSpace'] == {'b': {'_type': 'choice', '_value': [0]}}


def test_empty_search_space_is_valid(workdir: Path, minimal) -> None:
    assert ExperimentConfig(**minimal(searchSpace={})).json()['searchSpace'] == {}


def test_annotation_needs_no_search_space(workdir: Path, minimal) -> None:
    data = ExperimentConfig(**minimal(searchSpace=None, useAnnotation=True)).json()
    assert data['useAnnotation'] is True
    assert 'searchSpace' not in data


@pytest.mark.parametrize(('debug', 'level'), [(False, 'info'), (True, 'debug')])
def test_log_level_default_follows_debug(workdir: Path, minimal, debug: bool, level: str) -> None:
    data = ExperimentConfig(**minimal(debug=debug)).json()
    assert data['logLevel'] == level
    assert data['trainingService']['debug'] is debug


def test_explicit_log_level_is_kept_in_debug_mode(workdir: Path, minimal) -> None:
    assert ExperimentConfig(**minimal(debug=True, logLevel='warning')).json()['logLevel'] == 'warning'


@pytest.mark.parametrize(('given', 'canonical'), [('0,1', [0, 1]), (' 2', [2]), (3, [3]), ([1, 0], [1, 0])])
def test_gpu_indices_are_normalised(workdir: Path, minimal, given: Any, canonical: list[int]) -> None:
    data = ExperimentConfig(**minimal(tunerGpuIndices=given, trainingService={'platform': 'local', 'gpuIndices': given})).json()
    assert data['tunerGpuIndices'] == canonical
    assert data['trainingService']['gpuIndices'] == canonical


@pytest.mark.parametrize(('given', 'kept'), [('1.5h', '1.5h'), (60, 60), ('2D', '2D'), ('0.5m', '0.5m')])
def test_durations_are_kept_verbatim(workdir: Path, minimal, given: Any, kept: Any) -> None:
    data = ExperimentConfig(**minimal(maxExperimentDuration=given, maxTrialDuration=given)).json()
    assert data['maxExperimentDuration'] == kept
    assert data['maxTrialDuration'] == kept


def test_advisor_moves_into_tuner(workdir: Path, minimal, no_validators: None) -> None:
    config = ExperimentConfig(**minimal(tuner=None, advisor={'name': 'Hyperband', 'classArgs': {'R': 60}}))
    data = config.json()
    assert data['tuner'] == {'name': 'Hyperband', 'classArgs': {'R': 60}}
    assert 'advisor' not in data
    assert config.advisor is not None  # the original keeps its advisor


def test_shortcut_fields_set_on_the_training_service_win(workdir: Path, minimal) -> None:
    (workdir / 'other').mkdir()
    service = {'platform': 'local', 'trialCommand': 'python3 other.py', 'trialCodeDirectory': 'other', 'debug': True,
               'trialGpuNumber': 0}
    data = ExperimentConfig(**minimal(trialGpuNumber=1, trainingService=service)).json()
    assert data['trialCommand'] == 'python3 trial.py'
    assert data['trainingService']['trialCommand'] == 'python3 other.py'
    assert data['trainingService']['trialCodeDirectory'] == str((workdir / 'other').resolve())
    assert data['trainingService']['debug'] is True
    assert data['trainingService']['trialGpuNumber'] == 0
    assert data['trialGpuNumber'] == 1


def test_nni_manager_ip_is_not_copied_into_local(workdir: Path, minimal) -> None:
    data = ExperimentConfig(**minimal(nniManagerIp='10.0.0.2')).json()
    assert data['nniManagerIp'] == '10.0.0.2'
    assert 'nniManagerIp' not in data['trainingService']


def test_hybrid_list_repeats_shortcuts_in_each_service(workdir: Path, minimal) -> None:
    data = ExperimentConfig(**minimal(trainingService=[{'platform': 'local'}, {'platform': 'local', 'reuseMode': True}])).json()
    assert [service['trialCommand'] for service in data['trainingService']] == ['python3 trial.py'] * 2
    assert data['trainingService'][1]['reuseMode'] is True


def test_shared_storage_base_class(workdir: Path, minimal) -> None:
    storage = {'storageType': 'AzureBlob', 'localMountPoint': 'mnt', 'remoteMountPoint': '/mnt', 'localMounted': 'nnimount',
               'storageAccountName': 'account', 'containerName': 'box'}
    config = ExperimentConfig(**minimal(sharedStorage=storage))
    assert type(config.shared_storage) is SharedStorageConfig
    assert config.json()['sharedStorage']['localMountPoint'] == str((workdir / 'mnt').resolve())


def test_none_means_default(workdir: Path, minimal) -> None:
    data = ExperimentConfig(**minimal(), trial_code_directory=None, experiment_working_directory=None, debug=None).json()
    assert data['trialCodeDirectory'] == str(workdir.resolve())
    assert data['experimentWorkingDirectory'] == _home()
    assert data['debug'] is False


def test_dicts_assigned_later_are_converted(workdir: Path, minimal) -> None:
    config = ExperimentConfig(**minimal())
    config.tuner = {'name': 'Random'}  # type: ignore[assignment]
    config.training_service = {'platform': 'local', 'reuse_mode': True}  # type: ignore[assignment]
    data = config.json()
    assert data['tuner'] == {'name': 'Random'}
    assert data['trainingService']['reuseMode'] is True


# ---------------------------------------------------------------------------------------------
# round trips


def test_json_rebuilds_an_equal_config(workdir: Path, minimal, no_validators: None) -> None:
    (workdir / 'space.json').write_text(json.dumps(SEARCH_SPACE))
    config = ExperimentConfig(
        **minimal(
            searchSpace=None,
            searchSpaceFile='space.json',
            advisor=None,
            assessor={'name': 'Medianstop'},
            maxTrialDuration='1h',
            tunerGpuIndices='0',
            trainingService={'platform': 'local', 'gpuIndices': '0,1', 'useActiveGpu': False},
            trialGpuNumber=1,
        )
    )
    canonical = config.canonical_copy()
    rebuilt = ExperimentConfig(**config.json())
    assert rebuilt == canonical
    assert rebuilt.canonical_copy() == canonical
    assert rebuilt.json() == config.json()


def test_template_json_rebuilds_an_equal_config(workdir: Path) -> None:
    config = ExperimentConfig('local', trial_command='x', trial_concurrency=1, search_space={})
    config.tuner.name = 'TPE'
    assert ExperimentConfig(**config.json()) == config.canonical_copy()


def test_yaml_round_trip_is_stable(tmp_path: Path, no_validators: None) -> None:
    (tmp_path / 'code').mkdir()
    (tmp_path / 'space.json').write_text(json.dumps(SEARCH_SPACE))
    (tmp_path / 'a.yml').write_text(
        'searchSpaceFile: space.json\ntrialCommand: python3 t.py\ntrialCodeDirectory: code\ntrialConcurrency: 4\n'
        'maxExperimentDuration: 2h\nadvisor: {name: Hyperband}\ntrainingService: [{platform: local}, {platform: local}]\n'
    )
    first = ExperimentConfig.load(tmp_path / 'a.yml').json()
    (tmp_path / 'b.yml').write_text(yaml.safe_dump(first))
    second = ExperimentConfig.load(tmp_path / 'b.yml').json()
    assert second == first
    (tmp_path / 'c.json').write_text(json.dumps(second))
    assert ExperimentConfig.load(tmp_path / 'c.json').json() == first


def test_json_is_json_serialisable(workdir: Path, minimal) -> None:
    data = ExperimentConfig(**minimal(trialCodeDirectory=workdir)).json()
    assert json.loads(json.dumps(data)) == data


def test_invalid_config_has_no_json(workdir: Path, minimal) -> None:
    with pytest.raises(ConfigError):
        ExperimentConfig(**minimal(trialConcurrency=None)).json()


def test_json_leaves_launch_checks_to_validate(workdir: Path) -> None:
    # NNI serialises such a config; the tuner name and the space's contents are checked at launch
    config = ExperimentConfig(searchSpace={'a': 1}, trialCommand='python main.py', trialConcurrency=1,
                              tuner={'name': 'randomm'}, assessor={'name': 'assess'}, trainingService={'platform': 'local'})
    assert config.json()['searchSpace'] == {'a': 1}
    assert config.json()['tuner'] == {'name': 'randomm'}
    with pytest.raises(ConfigError) as info:
        config.validate()
    paths = [line.split(':')[0] for line in info.value.errors]
    assert 'searchSpace.a' in paths and any(path.startswith('tuner') for path in paths)
    with pytest.raises(ConfigError):
        config.canonical_copy()  # what every launch path runs
    bad = ExperimentConfig(trialCommand='python main.py', trialConcurrency=0, searchSpace={'a': 1},
                           tuner={'name': 'random'}, trainingService={'platform': 'local'})
    with pytest.raises(ConfigError, match='trialConcurrency'):
        bad.json()  # structural problems still stop serialisation


def test_six_search_space_mistakes_in_one_message(workdir: Path) -> None:
    space = {
        'lr': {'_type': 'loguniform', '_value': [0, 0.1]},
        'optimizer': {'_type': 'choic', '_value': ['sgd', 'adam']},
        'layers': {'_type': 'randint', '_value': [1.0, 4.0]},
        'batch': {'_type': 'choice', '_value': ['a', object()]},
        'model': {'_type': 'choice', '_value': [
            {'_name': 'mlp', 'hidden': {'_type': 'quniform', '_value': [8, 64]}},
            {'_name': 'cnn', 'kernel': {'_type': 'normal', '_value': [3, 0]}}]},
        'units': 64,
    }
    config = ExperimentConfig(searchSpace=space, trialCommand='python main.py', trialConcurrency=1,
                              tuner={'name': 'Random'}, trainingService={'platform': 'local'})
    with pytest.raises(ConfigError) as info:
        config.validate()
    assert [line.split(': ')[0] for line in info.value.errors] == [
        'searchSpace.lr._value', 'searchSpace.optimizer._type', 'searchSpace.layers._value',
        'searchSpace.batch._value[1]', 'searchSpace.model._value[0].hidden._value',
        'searchSpace.model._value[1].kernel._value', 'searchSpace.units']
    assert 'randint must have int values' in str(info.value)


class _NniStyleLeaf(ConfigBase):
    """Written against NNI's hook signatures: _canonicalize(self, parents), _validate_canonical(self)."""

    name: str

    def _canonicalize(self, parents):  # type: ignore[no-untyped-def]
        if '/' not in self.name:
            self.name = parents[0].name + '/' + self.name
        super()._canonicalize(parents)

    def _validate_canonical(self) -> None:
        super()._validate_canonical()
        if not self.name.endswith('!'):
            raise ValueError('name must end with "!"')


class _NniStyleRoot(ConfigBase):
    name: str
    leaves: list[_NniStyleLeaf]


def test_user_subclass_with_nni_hooks(workdir: Path) -> None:
    from nni.experiment.config.utils import diff

    root = _NniStyleRoot(name='r', leaves=[{'name': 'a!'}, {'name': 'b'}])
    with pytest.raises(ConfigError) as info:
        root.validate()
    assert info.value.errors == ['leaves[1]: name must end with "!"']
    good = _NniStyleRoot(name='r', leaves=[{'name': 'a!'}])
    assert good.json() == {'name': 'r', 'leaves': [{'name': 'r/a!'}]}
    assert diff(good, _NniStyleRoot(name='r', leaves=[{'name': 'a!'}])) == ''
    assert '+            "name": "s/a!"' in diff(good, _NniStyleRoot(name='s', leaves=[{'name': 'a!'}]))
