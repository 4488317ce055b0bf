"""Catalogue of bad configs and the exact messages they produce, several at once."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest

from nni.experiment.config import (
    ConfigError,
    ExperimentConfig,
    LocalConfig,
    UnknownFieldError,
    experiment_config,
)

pytestmark = pytest.mark.usefixtures('workdir', 'no_validators')

TUNER = "an algorithm config such as {name: TPE} or {className: my_module.MyTuner}"
SERVICE = 'a training service config such as {platform: local}'
DURATION = "a positive duration: seconds as an integer, or a number with unit s, m, h or d such as '30m' or '1.5h'"
SPACE = 'a mapping of parameter names to {_type, _value} specs'

CATALOGUE: list[tuple[str, dict[str, Any], list[str]]] = [
    (
        'nothing set',
        {'searchSpace': None, 'trialCommand': None, 'trialConcurrency': None, 'tuner': None, 'trainingService': None},
        [
            'trialConcurrency: not set, must be a positive integer',
            f'trainingService: not set, must be {SERVICE}, or a non-empty list of them',
            f'tuner: not set, must be {TUNER}',
            f'searchSpace: not set, must be {SPACE} (or set searchSpaceFile to a JSON or YAML file)',
        ],
    ),
    (
        'numbers and limits',
        {'maxTrialNumber': -3, 'trialConcurrency': 0, 'maxExperimentDuration': '10', 'maxTrialDuration': '-1h', 'logLevel': 'verbose'},
        [
            'trialConcurrency: must be a positive integer, got 0',
            f"maxExperimentDuration: must be {DURATION}, got '10'",
            'maxTrialNumber: must be a positive integer, got -3',
            f"maxTrialDuration: must be {DURATION}, got '-1h'",
            "logLevel: must be one of fatal, error, warning, info, debug, trace, got 'verbose'",
        ],
    ),
    (
        'wrong types',
        {'trialConcurrency': '2', 'useAnnotation': 'yes', 'debug': 1, 'experimentName': 3, 'trialGpuNumber': -1, 'nniManagerIp': ''},
        [
            'experimentName: must be a string, got 3',
            "trialConcurrency: must be a positive integer, got '2'",
            'trialGpuNumber: must be a non-negative integer, got -1',
            "nniManagerIp: must be an IP address or host name, got ''",
            "useAnnotation: must be true or false, got 'yes'",
            'debug: must be true or false, got 1',
        ],
    ),
    (
        'booleans are not counts',
        {'trialConcurrency': True, 'maxTrialDuration': 1.5},
        [
            'trialConcurrency: must be a positive integer, got True',
            f'maxTrialDuration: must be {DURATION}, got 1.5',
        ],
    ),
    (
        'gpu indices',
        {'tunerGpuIndices': [0, -1, 0, 'a'], 'trainingService': {'platform': 'local', 'gpuIndices': '0,x'}},
        [
            'tunerGpuIndices[1]: must be a non-negative integer (a GPU index), got -1',
            "tunerGpuIndices[2]: duplicate GPU index 0, each GPU may be listed once; got [0, -1, 0, 'a']",
            "tunerGpuIndices[3]: must be a non-negative integer (a GPU index), got 'a'",
            'trainingService.gpuIndices: must be a list of GPU indices, an integer or a comma-separated string such as '
            """"0,1", got '0,x'""",
        ],
    ),
    (
        'duplicate gpu in a string',
        {'trainingService': {'platform': 'local', 'gpuIndices': '1,1'}},
        ['trainingService.gpuIndices[1]: duplicate GPU index 1, each GPU may be listed once; got [1, 1]'],
    ),
    (
        'local gpu rules',
        {'trialGpuNumber': 2, 'trainingService': {'platform': 'local', 'gpuIndices': [0], 'maxTrialNumberPerGpu': 0}},
        [
            'trainingService.maxTrialNumberPerGpu: must be a positive integer, got 0',
            'trainingService.useActiveGpu: not set, must be true or false when trialGpuNumber is 2: true if this machine '
            'has a GUI (it keeps a GPU busy), false if several experiments share the machine',
            'trainingService.gpuIndices: must list at least trialGpuNumber (2) GPUs or no trial can start, got [0]',
        ],
    ),
    (
        'local sharing without gpus',
        {'trainingService': {'platform': 'local', 'maxTrialNumberPerGpu': 3, 'useActiveGpu': 'no'}},
        [
            "trainingService.useActiveGpu: must be true or false, got 'no'",
            'trainingService.maxTrialNumberPerGpu: must be 1 unless trialGpuNumber > 0 (trials without GPUs share none), got 3',
        ],
    ),
    (
        'name and className',
        {'tuner': {'name': 'TPE', 'className': 'a.B'}, 'assessor': {'classArgs': {'x': 1}}},
        [
            "tuner.className: cannot be set together with name (a built-in algorithm), got name='TPE' and "
            "className='a.B'; keep only one",
            'assessor.name: not set, must be a built-in algorithm name such as TPE (or set className for a custom algorithm)',
        ],
    ),
    (
        'code directories',
        {'tuner': {'name': 'TPE', 'codeDirectory': 'code'}, 'assessor': {'className': 'a.B', 'codeDirectory': 'nope'}},
        [
            "tuner.codeDirectory: is only used with className (a custom algorithm), got '{cwd}/code' with name='TPE'; remove it",
            "assessor.codeDirectory: must be an existing directory, got '{cwd}/nope'",
        ],
    ),
    (
        'algorithm field types',
        {'tuner': {'name': '', 'classArgs': [1]}},
        [
            "tuner.name: must be a built-in algorithm name such as TPE, got ''",
            'tuner.classArgs: must be a mapping of constructor argument names to values, got [1]',
        ],
    ),
    (
        'tuner not a mapping, and an advisor too',
        {'tuner': 'TPE', 'advisor': {'name': 'BOHB'}},
        [
            f"tuner: must be {TUNER}, got 'TPE'",
            'advisor: is deprecated and cannot be set together with tuner; set only tuner (advisors go there)',
        ],
    ),
    ('no tuner', {'tuner': None}, [f'tuner: not set, must be {TUNER}']),
    (
        'advisor errors keep the advisor path',
        {'tuner': None, 'advisor': {'codeDirectory': 'x'}},
        ['advisor.name: not set, must be a built-in algorithm name such as TPE (or set className for a custom algorithm)'],
    ),
    ('search space not a mapping', {'searchSpace': [1, 2]}, [f'searchSpace: must be {SPACE}, got [1, 2]']),
    (
        'search space file missing',
        {'searchSpace': None, 'searchSpaceFile': 'missing.json'},
        ["searchSpaceFile: must be a readable JSON or YAML file, got '{cwd}/missing.json' (No such file or directory)"],
    ),
    (
        'annotation with a search space',
        {'useAnnotation': True},
        ['searchSpace: must not be set when useAnnotation is true (annotations in the trial code define the search space)'],
    ),
    ('training service as a string', {'trainingService': 'local'}, [f"trainingService: must be {SERVICE}, or a non-empty list of them, got 'local'"]),
    ('empty hybrid list', {'trainingService': []}, [f'trainingService: must be {SERVICE}, or a non-empty list of them, got []']),
    ('bad hybrid item', {'trainingService': [{'platform': 'local'}, 5]}, [f'trainingService[1]: must be {SERVICE}, got 5']),
    ('trial code directory', {'trialCodeDirectory': 'nope'}, ["trialCodeDirectory: must be an existing directory, got '{cwd}/nope'"]),
    (
        'trial code directory of the training service',
        {'trainingService': {'platform': 'local', 'trialCodeDirectory': 'nope2'}},
        ["trainingService.trialCodeDirectory: must be an existing directory, got '{cwd}/nope2'"],
    ),
    ('no trial command', {'trialCommand': None}, ['trialCommand: not set, must be the shell command that runs one trial, such as "python3 trial.py"']),
    ('empty trial command', {'trialCommand': ''}, ["""trialCommand: must be the shell command that runs one trial, such as "python3 trial.py", got ''"""]),
    ('nas', {'experimentType': 'nas'}, ["experimentType: must be 'hpo' (the only experiment type supported), got 'nas'"]),
    (
        'shared storage values',
        {'sharedStorage': {'storageType': 'nfs', 'localMountPoint': '.', 'remoteMountPoint': '/x', 'localMounted': 'auto'}},
        [
            "sharedStorage.storageType: must be one of 'NFS', 'AzureBlob', got 'nfs'",
            "sharedStorage.localMounted: must be one of 'usermount', 'nnimount', 'nomount', got 'auto'",
        ],
    ),
    (
        'shared storage required fields',
        {'sharedStorage': {'storageType': 'NFS'}},
        [
            'sharedStorage.localMountPoint: not set, must be a path',
            'sharedStorage.remoteMountPoint: not set, must be a string (a path on the training machines)',
            "sharedStorage.localMounted: not set, must be one of 'usermount', 'nnimount', 'nomount'",
            "sharedStorage.nfsServer: not set, required when storageType is 'NFS'",
            "sharedStorage.exportedDirectory: not set, required when storageType is 'NFS'",
        ],
    ),
    (
        'hybrid items inherit and report at the top level once',
        {'trialCommand': None, 'trainingService': [{'platform': 'local'}, {'platform': 'local'}]},
        ['trialCommand: not set, must be the shell command that runs one trial, such as "python3 trial.py"'],
    ),
]


def _config(**overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        'searchSpace': {'x': {'_type': 'choice', '_value': [1, 2]}},
        'trialCommand': 'python3 trial.py',
        'trialConcurrency': 2,
        'tuner': {'name': 'TPE'},
        'trainingService': {'platform': 'local'},
    }
    for key, value in overrides.items():
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
    return config


@pytest.mark.parametrize(('overrides', 'expected'), [case[1:] for case in CATALOGUE], ids=[case[0] for case in CATALOGUE])
def test_bad_config_catalogue(workdir: Path, overrides: dict[str, Any], expected: list[str]) -> None:
    config = ExperimentConfig(**_config(**overrides))
    with pytest.raises(ConfigError) as info:
        config.validate()
    cwd = str(workdir.resolve())
    assert info.value.errors == [line.replace('{cwd}', cwd) for line in expected]
    assert str(info.value) == '\n'.join(info.value.errors)
    assert [f'{path}: {message}' for path, message in info.value.problems] == info.value.errors


def test_every_problem_is_also_raised_by_json_and_canonical_copy() -> None:
    config = ExperimentConfig(**_config(trialConcurrency=0, maxTrialNumber=0))
    for method in (config.json, config.canonical_copy, config.validate):
        with pytest.raises(ConfigError, match='^trialConcurrency: .*\nmaxTrialNumber: '):
            method()


# ---------------------------------------------------------------------------------------------
# construction errors (unknown names)


def test_unknown_fields_everywhere_at_once() -> None:
    with pytest.raises(UnknownFieldError) as info:
        ExperimentConfig(
            **_config(
                trialComand='x',
                tuner={'nmae': 'TPE'},
                trainingService=[{'platform': 'local'}, {'platform': 'local', 'useActivGpu': True}],
                sharedStorage={'storageTyp': 'NFS'},
            )
        )
    assert info.value.errors == [
        'trialComand: unknown field, did you mean trialCommand?',
        'tuner.nmae: unknown field, did you mean name?',
        'trainingService[1].useActivGpu: unknown field, did you mean useActiveGpu?',
        'sharedStorage.storageTyp: unknown field, did you mean storageType?',
    ]


def test_unknown_field_without_close_match_lists_fields() -> None:
    with pytest.raises(UnknownFieldError) as info:
        ExperimentConfig(tuner={'zzz': 1})
    assert str(info.value) == 'tuner.zzz: unknown field; valid fields of _AlgorithmConfig are: name, className, codeDirectory, classArgs'


def test_non_string_key_in_nested_mapping() -> None:
    with pytest.raises(UnknownFieldError, match='^tuner.1: unknown field; valid fields'):
        ExperimentConfig(tuner={1: 'TPE'})


PLATFORMS = 'local, remote, openpai, aml, dlc, kubeflow, frameworkcontroller, slurm'


@pytest.mark.parametrize(
    ('service', 'expected'),
    [
        ({'platform': 'lcoal'}, f"trainingService.platform: must be one of the known platforms ({PLATFORMS}), got 'lcoal', did you mean local?"),
        ({'platform': 'pai'}, f"trainingService.platform: must be one of the known platforms ({PLATFORMS}), got 'pai' (the v1 name of openpai)"),
        (
            {'platform': 'hybrid'},
            f"trainingService.platform: must be one of the known platforms ({PLATFORMS}), got 'hybrid' "
            '(hybrid mode is a list of training services, not a platform)',
        ),
        ({'platform': 'lsf'}, f"trainingService.platform: must be one of the known platforms ({PLATFORMS}), got 'lsf'"),
        ({'platform': 3}, f'trainingService.platform: must be one of the known platforms ({PLATFORMS}), got 3'),
        ({'useActiveGpu': True}, f'trainingService.platform: not set, must be one of the known platforms ({PLATFORMS})'),
    ],
)
def test_unknown_platform(service: dict[str, Any], expected: str) -> None:
    with pytest.raises(UnknownFieldError) as info:
        ExperimentConfig(**_config(trainingService=service))
    assert str(info.value) == expected


def test_unknown_platform_in_template_mode() -> None:
    with pytest.raises(ConfigError) as info:
        ExperimentConfig(['local', 'remote', 'pai', 'nope'])
    assert info.value.errors == [
        f"trainingService[2].platform: must be one of the known platforms ({PLATFORMS}), got 'pai' (the v1 name of openpai)",
        f"trainingService[3].platform: must be one of the known platforms ({PLATFORMS}), got 'nope'",
    ]


def test_template_platform_given_twice() -> None:
    with pytest.raises(ConfigError, match="^trainingService: given twice, as the platform argument 'local' and as a training_service value; keep one$"):
        ExperimentConfig('local', training_service=LocalConfig())


def test_template_empty_platform_list() -> None:
    with pytest.raises(ConfigError, match='^trainingService: must not be an empty list of platforms$'):
        ExperimentConfig([])


def test_legacy_v1_keys_name_their_replacement() -> None:
    with pytest.raises(UnknownFieldError) as info:
        ExperimentConfig(
            authorName='me',
            maxExecDuration='1h',
            searchSpacePath='ss.json',
            trial={'command': 'x'},
            tuner={'builtinTunerName': 'TPE', 'codeDir': '.'},
        )
    assert info.value.errors == [
        'authorName: is a legacy (v1) field that is no longer supported; remove it',
        'maxExecDuration: is a legacy (v1) field, use maxExperimentDuration instead',
        'searchSpacePath: is a legacy (v1) field, use searchSpaceFile instead',
        'trial: is a legacy (v1) field, use trialCommand, trialCodeDirectory and trialGpuNumber instead',
        'tuner.builtinTunerName: is a legacy (v1) field, use name instead',
        'tuner.codeDir: is a legacy (v1) field, use codeDirectory instead',
    ]


def test_whole_v1_config_points_at_the_converter() -> None:
    with pytest.raises(UnknownFieldError) as info:
        ExperimentConfig(authorName='me', trainingServicePlatform='local', maxExecDuration='1h', trial={'command': 'x'})
    assert info.value.errors == [
        'trainingServicePlatform: is a key of the legacy v1 config format; load the file with '
        'ExperimentConfig.load(path) (it converts v1 files) or convert the mapping with '
        'nni.experiment.config.convert.to_v2(config)'
    ]


def test_unknown_key_in_dict_assigned_later() -> None:
    config = ExperimentConfig(**_config())
    config.tuner = {'nmae': 'TPE'}  # type: ignore[assignment]
    with pytest.raises(ConfigError) as info:
        config.validate()
    assert info.value.errors == ['tuner.nmae: unknown field, did you mean name?']


def test_placeholder_with_class_args_but_no_name() -> None:
    config = ExperimentConfig('local', trial_command='x', trial_concurrency=1, search_space={})
    config.tuner.class_args['optimize_mode'] = 'maximize'
    with pytest.raises(ConfigError) as info:
        config.validate()
    assert info.value.errors == [
        'tuner.name: not set, must be a built-in algorithm name such as TPE (or set className for a custom algorithm); '
        'got only classArgs'
    ]


def test_search_space_file_that_is_not_json_or_yaml(workdir: Path) -> None:
    (workdir / 'space.json').write_text('{"a": [1,\n')
    with pytest.raises(ConfigError) as info:
        ExperimentConfig(**_config(searchSpace=None, searchSpaceFile='space.json')).validate()
    (line,) = info.value.errors
    assert line.startswith(f"searchSpaceFile: must be a readable JSON or YAML file, got '{workdir.resolve()}/space.json' (not valid JSON or YAML: ")
    assert '\n' not in line


def test_empty_search_space_file(workdir: Path) -> None:
    (workdir / 'space.yml').write_text('')
    with pytest.raises(ConfigError, match=r'\(the file is empty\)$'):
        ExperimentConfig(**_config(searchSpace=None, searchSpaceFile='space.yml')).validate()


def test_working_directory_that_is_a_file(workdir: Path) -> None:
    (workdir / 'file').write_text('')
    with pytest.raises(ConfigError, match=f"^experimentWorkingDirectory: must be a directory, got '{workdir.resolve()}/file', which is a file$"):
        ExperimentConfig(**_config(experimentWorkingDirectory='file')).validate()


# ---------------------------------------------------------------------------------------------
# checks delegated to other modules


def _install(monkeypatch: pytest.MonkeyPatch, module: str, **attributes: Any) -> None:
    fake = types.ModuleType(module)
    for name, value in attributes.items():
        setattr(fake, name, value)
    monkeypatch.setitem(sys.modules, module, fake)


_REAL_LOOKUPS = (experiment_config._search_space_validator, experiment_config._algorithm_validator)


@pytest.fixture
def real_lookups(monkeypatch: pytest.MonkeyPatch) -> None:
    """Undo no_validators: look the validators up by import again."""
    monkeypatch.setattr(experiment_config, '_search_space_validator', _REAL_LOOKUPS[0])
    monkeypatch.setattr(experiment_config, '_algorithm_validator', _REAL_LOOKUPS[1])


def test_search_space_validator_message_is_prefixed(monkeypatch: pytest.MonkeyPatch, real_lookups: None) -> None:
    def validate_search_space(space: Any, support_types: Any = None, raise_exception: bool = True) -> bool:
        raise ValueError('x: _type "normal" is not supported')

    _install(monkeypatch, 'nni.common.hpo_utils', validate_search_space=validate_search_space)
    _install(monkeypatch, 'nni.algorithms.hpo.registry', validate_algorithm_config=lambda config, kind: [])
    with pytest.raises(ConfigError) as info:
        ExperimentConfig(**_config(trialConcurrency=0)).validate()
    assert info.value.errors == [
        'trialConcurrency: must be a positive integer, got 0',
        'searchSpace: x: _type "normal" is not supported',
    ]


def test_search_space_from_file_is_reported_at_the_file(workdir: Path, monkeypatch: pytest.MonkeyPatch, real_lookups: None) -> None:
    def validate_search_space(space: Any, support_types: Any = None, raise_exception: bool = True) -> bool:
        raise ValueError('x: bad')

    (workdir / 'space.json').write_text('{"x": 1}')
    _install(monkeypatch, 'nni.common.hpo_utils', validate_search_space=validate_search_space)
    _install(monkeypatch, 'nni.algorithms.hpo.registry', validate_algorithm_config=lambda config, kind: [])
    with pytest.raises(ConfigError) as info:
        ExperimentConfig(**_config(searchSpace=None, searchSpaceFile='space.json')).validate()
    assert info.value.errors == [f'searchSpaceFile: x: bad (in {workdir.resolve()}/space.json)']


def test_algorithm_registry_messages_are_placed_under_the_section(monkeypatch: pytest.MonkeyPatch, real_lookups: None) -> None:
    seen: list[tuple[dict[str, Any], str]] = []

    def validate_algorithm_config(config: dict[str, Any], kind: str) -> list[str]:
        seen.append((config, kind))
        if kind == 'tuner':
            return ['tuner.name: unknown tuner "TPX", did you mean TPE?', "tuner.classArgs: optimize_mode should be in ['maximize', 'minimize']!"]
        return ['assessor: something is off']

    _install(monkeypatch, 'nni.common.hpo_utils', validate_search_space=lambda space, support_types=None, raise_exception=True: True)
    _install(monkeypatch, 'nni.algorithms.hpo.registry', validate_algorithm_config=validate_algorithm_config)
    with pytest.raises(ConfigError) as info:
        ExperimentConfig(**_config(tuner=None, advisor={'name': 'TPX', 'classArgs': {'optimize_mode': 'max'}}, assessor={'name': 'Curvefitting'})).validate()
    assert seen == [({'name': 'TPX', 'classArgs': {'optimize_mode': 'max'}}, 'tuner'), ({'name': 'Curvefitting'}, 'assessor')]
    assert info.value.errors == [
        'advisor.name: unknown tuner "TPX", did you mean TPE?',
        "advisor.classArgs: optimize_mode should be in ['maximize', 'minimize']!",
        'assessor: something is off',
    ]


def test_missing_validators_are_skipped(monkeypatch: pytest.MonkeyPatch, real_lookups: None) -> None:
    # while the modules are being written the config still validates on its own
    monkeypatch.setitem(sys.modules, 'nni.common.hpo_utils', None)
    monkeypatch.setitem(sys.modules, 'nni.algorithms.hpo.registry', None)
    ExperimentConfig(**_config(searchSpace={'x': 'not a spec'}, tuner={'name': 'NoSuchTuner'})).validate()
