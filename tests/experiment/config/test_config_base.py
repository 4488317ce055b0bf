"""Mechanics shared by every config class: names, attributes, nesting, equality, load()."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest

from nni.experiment.config import (
    AlgorithmConfig,
    ConfigBase,
    ConfigError,
    CustomAlgorithmConfig,
    ExperimentConfig,
    LocalConfig,
    SharedStorageConfig,
    UnknownFieldError,
)
from nni.experiment.config.algorithm import _AlgorithmConfig
from nni.experiment.config.utils.internal import MISSING, camel_case, current_base_path


@pytest.mark.parametrize('key', ['trial_command', 'trialCommand', 'TRIALCOMMAND', '_trial_command_', 'TrialCommand'])
def test_keys_match_ignoring_case_and_underscores(key: str) -> None:
    config = ExperimentConfig(**{key: 'python3 trial.py'})
    assert config.trial_command == 'python3 trial.py'


def test_last_spelling_wins() -> None:
    config = ExperimentConfig(trial_command='a', trialCommand='b')
    assert config.trial_command == 'b'


def test_defaults_and_missing() -> None:
    config = ExperimentConfig()
    assert config.trial_code_directory == '.'
    assert config.experiment_working_directory == '~/nni-experiments'
    assert config.use_annotation is False
    assert config.experiment_type == 'hpo'
    assert config.trial_concurrency is MISSING
    assert config.training_service is MISSING
    assert config.tuner is None


@pytest.mark.parametrize(
    ('name', 'camel'),
    [('max_trial_number_per_gpu', 'maxTrialNumberPerGpu'), ('nni_manager_ip', 'nniManagerIp'), ('debug', 'debug')],
)
def test_camel_case(name: str, camel: str) -> None:
    assert camel_case(name) == camel


def test_setting_unknown_attribute_suggests_field() -> None:
    config = ExperimentConfig()
    with pytest.raises(AttributeError, match='^ExperimentConfig does not have field trial_comand, did you mean trial_command\\?$'):
        config.trial_comand = 'x'  # type: ignore[attr-defined]


def test_setting_camel_case_attribute_suggests_snake_case() -> None:
    config = LocalConfig()
    with pytest.raises(AttributeError, match='^LocalConfig does not have field useActiveGpu, did you mean use_active_gpu\\?$'):
        config.useActiveGpu = True  # type: ignore[attr-defined]


def test_setting_far_off_attribute_lists_fields() -> None:
    with pytest.raises(AttributeError, match='^_AlgorithmConfig does not have field zzz; its fields are: name, class_name, code_directory, class_args$'):
        _AlgorithmConfig().zzz = 1  # type: ignore[attr-defined]


def test_reading_unknown_attribute_suggests_field() -> None:
    with pytest.raises(AttributeError, match='did you mean trial_command'):
        ExperimentConfig().trialCommand  # type: ignore[attr-defined]  # noqa: B018


def test_private_attributes_are_allowed() -> None:
    config = ExperimentConfig()
    config._note = 1  # our own bookkeeping attributes start with '_'
    assert config._note == 1


def test_unknown_constructor_keys_are_all_reported() -> None:
    with pytest.raises(UnknownFieldError) as info:
        ExperimentConfig(trialComand='x', tuner={'nmae': 'TPE'}, training_service={'platform': 'local', 'gpuIndex': 0})
    assert str(info.value).splitlines() == [
        'trialComand: unknown field, did you mean trialCommand?',
        'tuner.nmae: unknown field, did you mean name?',
        'trainingService.gpuIndex: unknown field, did you mean gpuIndices?',
    ]
    # both a ConfigError and the AttributeError NNI raised here
    assert isinstance(info.value, ConfigError)
    assert isinstance(info.value, AttributeError)
    assert isinstance(info.value, ValueError)


def test_snake_case_key_gets_snake_case_suggestion() -> None:
    with pytest.raises(UnknownFieldError, match='^max_trial_numbr: unknown field, did you mean max_trial_number\\?$'):
        ExperimentConfig(max_trial_numbr=3)


def test_nested_dicts_become_config_classes() -> None:
    config = ExperimentConfig(
        tuner={'name': 'TPE'},
        assessor={'className': 'my.Assessor'},
        trainingService={'platform': 'local', 'useActiveGpu': True},
        sharedStorage={'storageType': 'NFS'},
    )
    assert type(config.tuner) is _AlgorithmConfig
    assert type(config.assessor) is _AlgorithmConfig
    assert type(config.training_service) is LocalConfig
    assert config.training_service.use_active_gpu is True
    assert type(config.shared_storage) is SharedStorageConfig


def test_list_of_training_services() -> None:
    config = ExperimentConfig(training_service=[{'platform': 'local'}, LocalConfig(reuse_mode=True)])
    assert [type(ts) for ts in config.training_service] == [LocalConfig, LocalConfig]
    assert config.training_service[1].reuse_mode is True


def test_free_form_dicts_keep_their_keys() -> None:
    space = {'learning_rate': {'_type': 'choice', '_value': [0.1]}, 'Batch_Size': {'_type': 'choice', '_value': [1]}}
    config = ExperimentConfig(search_space=space, tuner={'name': 'TPE', 'class_args': {'optimize_mode': 'maximize'}})
    assert config.search_space == space
    assert config.tuner.class_args == {'optimize_mode': 'maximize'}


def test_config_objects_are_kept_as_given() -> None:
    tuner = AlgorithmConfig(name='TPE')
    config = ExperimentConfig(tuner=tuner)
    assert config.tuner is tuner


def test_equality() -> None:
    assert ExperimentConfig(trial_command='a') == ExperimentConfig(trialCommand='a')
    assert ExperimentConfig(trial_command='a') != ExperimentConfig(trial_command='b')
    assert LocalConfig() != ExperimentConfig()
    assert ExperimentConfig() != 'ExperimentConfig()'


def test_algorithm_classes_compare_by_value() -> None:
    # YAML gives the common base class; Python users write the specific ones
    assert AlgorithmConfig(name='TPE') == _AlgorithmConfig(name='TPE')
    assert CustomAlgorithmConfig(class_name='a.B', code_directory='.') == _AlgorithmConfig(class_name='a.B', code_directory='.')
    assert AlgorithmConfig(name='TPE') != _AlgorithmConfig(name='Random')


def test_configs_are_not_hashable() -> None:
    with pytest.raises(TypeError):
        hash(ExperimentConfig())


def test_repr_shows_set_fields() -> None:
    text = repr(ExperimentConfig(trial_command='python3 trial.py', tuner={'name': 'TPE'}))
    assert text.startswith("ExperimentConfig(experiment_type='hpo', trial_command='python3 trial.py', ")
    assert "tuner=_AlgorithmConfig(name='TPE')" in text
    assert 'None' not in text


def test_field_order_is_json_order(workdir: Path) -> None:
    algorithm = AlgorithmConfig(class_args={'x': 1}, name='TPE')
    assert list(algorithm.json()) == ['name', 'classArgs']
    custom = CustomAlgorithmConfig(class_args={}, class_name='m.C')
    assert list(custom.json()) == ['className', 'codeDirectory', 'classArgs']


def test_canonical_copy_does_not_touch_the_original(workdir: Path) -> None:
    config = ExperimentConfig(
        trial_command='python3 trial.py',
        trial_concurrency=1,
        search_space={},
        tuner={'name': 'Random'},
        training_service={'platform': 'local', 'gpu_indices': '0,1'},
    )
    before = copy.deepcopy(config)
    canonical = config.canonical_copy()
    assert config == before
    assert config.training_service.gpu_indices == '0,1'
    assert canonical.training_service.gpu_indices == [0, 1]
    assert canonical.trial_code_directory == str(workdir.resolve())


def test_validate_returns_none(workdir: Path, minimal) -> None:
    assert ExperimentConfig(**minimal()).validate() is None


def test_subclass_is_a_dataclass_automatically() -> None:
    class Extra(ConfigBase):
        level: int = 1
        label: str | None = None

    extra = Extra(LEVEL=3)
    assert (extra.level, extra.label) == (3, None)
    assert extra.json() == {'level': 3}


# ---------------------------------------------------------------------------------------------
# load()


def test_load_yaml_relative_to_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / 'exp'
    (folder / 'code').mkdir(parents=True)
    (folder / 'space.yaml').write_text('x: {_type: choice, _value: [1, 2]}\n')
    (folder / 'config.yml').write_text(
        'searchSpaceFile: space.yaml\n'
        'trialCommand: python3 trial.py\n'
        'trialCodeDirectory: code\n'
        'trialConcurrency: 1\n'
        'tuner: {name: Random}\n'
        'trainingService: {platform: local}\n'
    )
    elsewhere = tmp_path / 'elsewhere'
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    data = ExperimentConfig.load(folder / 'config.yml').json()
    assert data['searchSpaceFile'] == str((folder / 'space.yaml').resolve())
    assert data['searchSpace'] == {'x': {'_type': 'choice', '_value': [1, 2]}}
    assert data['trialCodeDirectory'] == str((folder / 'code').resolve())
    assert data['trainingService']['trialCodeDirectory'] == str((folder / 'code').resolve())


def test_load_json_file(tmp_path: Path) -> None:
    (tmp_path / 'config.json').write_text(
        json.dumps({'trialCommand': 'x', 'trialConcurrency': 1, 'searchSpace': {}, 'tuner': {'name': 'Random'},
                    'trainingService': {'platform': 'local'}})
    )
    assert ExperimentConfig.load(tmp_path / 'config.json').trial_concurrency == 1


def test_load_does_not_require_completeness(tmp_path: Path) -> None:
    (tmp_path / 'config.yml').write_text('trialCommand: python3 trial.py\n')
    config = ExperimentConfig.load(str(tmp_path / 'config.yml'))
    assert config.trial_concurrency is MISSING


def test_load_not_a_mapping(tmp_path: Path) -> None:
    (tmp_path / 'config.yml').write_text('- a\n- b\n')
    with pytest.raises(TypeError, match='is not a dict/object'):
        ExperimentConfig.load(tmp_path / 'config.yml')


def test_load_bad_yaml(tmp_path: Path) -> None:
    (tmp_path / 'config.yml').write_text('trialCommand: [unclosed\n')
    with pytest.raises(ConfigError, match='is not valid YAML or JSON'):
        ExperimentConfig.load(tmp_path / 'config.yml')


def test_load_failure_leaves_no_base_path_behind(tmp_path: Path) -> None:
    (tmp_path / 'bad.yml').write_text('trialComand: x\n')
    (tmp_path / 'good.yml').write_text('trialCommand: x\n')
    with pytest.raises(UnknownFieldError):
        ExperimentConfig.load(tmp_path / 'bad.yml')
    assert current_base_path() is None
    assert ExperimentConfig.load(tmp_path / 'good.yml').trial_command == 'x'


def test_load_reports_unknown_fields_and_every_other_problem(workdir: Path, no_validators: None) -> None:
    (workdir / 'config.yml').write_text(
        'trialComand: python3 trial.py\n'
        'trialConcurrency: 0\n'
        'searchSpace: {}\n'
        'tuner: {name: TPE}\n'
        'trainingService: {platform: local, useActivGpu: true}\n'
    )
    with pytest.raises(UnknownFieldError) as info:
        ExperimentConfig.load(workdir / 'config.yml')
    assert info.value.errors == [
        'trialComand: unknown field, did you mean trialCommand?',
        'trainingService.useActivGpu: unknown field, did you mean useActiveGpu?',
        'trialConcurrency: must be a positive integer, got 0',
    ]


def test_load_on_another_class(tmp_path: Path) -> None:
    (tmp_path / 'local.yml').write_text('platform: local\ngpuIndices: 1,2\n')
    local = LocalConfig.load(tmp_path / 'local.yml')
    assert local.gpu_indices == '1,2'


def test_path_fields_resolve_home_and_symlinks(workdir: Path, minimal, monkeypatch: pytest.MonkeyPatch) -> None:
    home = workdir / 'home'
    (home / 'real').mkdir(parents=True)
    os.symlink(home / 'real', home / 'link')
    monkeypatch.setenv('HOME', str(home))
    data = ExperimentConfig(**minimal(trialCodeDirectory='~/link', experimentWorkingDirectory='~/exps')).json()
    assert data['trialCodeDirectory'] == str((home / 'real').resolve())
    assert data['experimentWorkingDirectory'] == str((home / 'exps').resolve())


def test_pickle_and_deepcopy_keep_missing_fields_missing() -> None:
    import pickle

    config = ExperimentConfig(trial_command='x')
    for clone in (copy.deepcopy(config), pickle.loads(pickle.dumps(config))):
        assert clone == config
        assert clone.trial_concurrency is MISSING


def test_new_platform_plugs_into_the_registry(workdir: Path, minimal, monkeypatch: pytest.MonkeyPatch) -> None:
    from nni.experiment.config import TrainingServiceConfig, training_service

    monkeypatch.setattr(training_service, '_registry', dict(training_service._registry))

    class FakeClusterConfig(TrainingServiceConfig):
        platform: str = 'fakecluster'
        queue: str = 'default'

    assert training_service.known_platforms() == [
        'local', 'remote', 'openpai', 'aml', 'dlc', 'kubeflow', 'frameworkcontroller', 'slurm', 'fakecluster',
    ]
    config = ExperimentConfig(**minimal(trainingService={'platform': 'fakecluster', 'queue': 'gpu'}))
    assert type(config.training_service) is FakeClusterConfig
    assert config.json()['trainingService'] == {
        'platform': 'fakecluster',
        'trialCommand': 'python3 trial.py',
        'trialCodeDirectory': str(workdir.resolve()),
        'debug': False,
        'queue': 'gpu',
    }
    assert type(ExperimentConfig('fakecluster').training_service) is FakeClusterConfig
