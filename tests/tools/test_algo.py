"""``nnictl algo`` and ``registered_algorithms.yml``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from nni.tools.nnictl import algo_registry


@pytest.fixture
def demo_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / 'algos'
    folder.mkdir()
    (folder / 'demo_algos.py').write_text(
        'class DemoTuner:\n    pass\n\n\n'
        'class DemoValidator:\n    def validate_class_args(self, **kwargs):\n        pass\n\n\n'
        'class DemoAssessor:\n    pass\n')
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    sys.modules.pop('demo_algos', None)


def _meta(tmp_path: Path, text: str) -> str:
    path = tmp_path / 'meta.yml'
    path.write_text(text)
    return str(path)


def test_config_dir_rules(monkeypatch, tmp_path):
    monkeypatch.setenv('NNI_CONFIG_DIR', str(tmp_path / 'cfg'))
    assert algo_registry.registry_path() == tmp_path / 'cfg' / 'registered_algorithms.yml'
    monkeypatch.delenv('NNI_CONFIG_DIR')
    in_venv = sys.prefix != sys.base_prefix
    if in_venv:
        assert algo_registry.config_dir() == Path(sys.prefix) / 'nni'


def test_register_list_show_unregister(nnictl, tmp_path, demo_module):
    meta = _meta(tmp_path, 'algoType: tuner\nbuiltinName: demotuner\nclassName: demo_algos.DemoTuner\n'
                           'classArgsValidator: demo_algos.DemoValidator\n')
    result = nnictl('algo', 'register', '--meta_path', meta)
    assert (result.code, result.out) == (0, 'demotuner registered successfully!\n')
    stored = yaml.safe_load(algo_registry.registry_path().read_text())
    assert stored == {'tuners': [{'builtinName': 'demotuner', 'className': 'demo_algos.DemoTuner',
                                  'classArgsValidator': 'demo_algos.DemoValidator', 'nniVersion': '3.0.0',
                                  'source': 'user'}]}
    # keys sorted alphabetically, block style (NNI's file shape)
    assert algo_registry.registry_path().read_text().startswith('tuners:\n- builtinName: demotuner\n  classArgsValidator:')

    result = nnictl('algo', 'reg', '-m', meta)  # alias and short option
    assert result.out == 'Updating exist algorithm\ndemotuner registered successfully!\n'

    listing = nnictl('algo', 'list').out.splitlines()
    assert listing[0] == listing[2] == listing[-1]
    assert '=' not in listing[0]
    assert listing[1] == ('|      Name       |    Type    |   source  |      Class Name      |'
                          '               Module Name                |')
    assert listing[3].startswith('| PPO             | tuner      | nni       | PPOTuner ')
    assert listing[-2] == '| demotuner       | tuner      | user      | DemoTuner            | demo_algos' + ' ' * 31 + '|'
    names = [row['name'] for row in nnictl('algo', 'list', '--json').json()]
    assert names.index('BOHB') < names.index('Medianstop') < names.index('demotuner')

    shown = json.loads(nnictl('algo', 'show', 'DEMOTUNER').out)
    assert list(shown) == ['builtinName', 'className', 'classArgsValidator', 'source', 'nniVersion']
    assert shown['source'] == 'user'
    assert json.loads(nnictl('algo', 'show', 'tpe').out)['className'] == 'nni.algorithms.hpo.tpe_tuner.TpeTuner'

    meta_found = algo_registry.find_registered_algorithm('DemoTuner', 'tuner')
    assert meta_found == {'builtinName': 'demotuner', 'alias': None, 'algoType': 'tuner',
                          'className': 'demo_algos.DemoTuner', 'classArgs': {},
                          'classArgsValidator': 'demo_algos.DemoValidator', 'acceptClassArgs': True,
                          'isAdvisor': False, 'source': 'user'}
    assert algo_registry.find_registered_algorithm('demotuner', 'assessor') is None

    result = nnictl('algo', 'unregister', 'demotuner')
    assert (result.code, result.out) == (0, 'demotuner unregistered successfully!\n')
    assert algo_registry.find_registered_algorithm('demotuner') is None


def test_register_several_and_advisor(nnictl, tmp_path, demo_module):
    meta = _meta(tmp_path, yaml.safe_dump({'algorithms': [
        {'algoType': 'assessor', 'builtinName': 'demoassessor', 'className': 'demo_algos.DemoAssessor',
         'classArgs': {'start_step': 3}},
        {'algoType': 'advisor', 'builtinName': 'demoadvisor', 'alias': 'DemoAdv', 'className': 'demo_algos.DemoTuner',
         'acceptClassArgs': False},
    ]}))
    assert nnictl('algo', 'register', '-m', meta).code == 0
    assert algo_registry.find_registered_algorithm('demoassessor', 'assessor')['classArgs'] == {'start_step': 3}
    advisor = algo_registry.find_registered_algorithm('demoadv', 'tuner')
    assert advisor['algoType'] == 'advisor' and advisor['isAdvisor'] and advisor['acceptClassArgs'] is False
    shown = json.loads(nnictl('algo', 'show', 'demoadvisor').out)
    assert shown['acceptClassArgs'] is False and shown['isAdvisor'] is True and shown['alias'] == 'DemoAdv'
    assert 'assessors' in yaml.safe_load(algo_registry.registry_path().read_text())


def test_register_errors(nnictl, tmp_path, demo_module):
    result = nnictl('algo', 'register', '-m', _meta(tmp_path, 'algoType: tuner\nbuiltinName: tpe\nclassName: demo_algos.DemoTuner\n'))
    assert (result.code, result.out) == (1, 'ERROR: Cannot overwrite builtin algorithm tpe\n')
    result = nnictl('algo', 'register', '-m', _meta(tmp_path, 'algoType: tuner\nbuiltinName: x\nclassName: demo_algos.Nope\n'))
    assert result.code == 1 and result.out.startswith('ERROR: x: cannot import className demo_algos.Nope')
    result = nnictl('algo', 'register', '-m', _meta(tmp_path, 'algoType: tuner\nbuiltinName: x\n'))
    assert result.code == 1 and 'misses className' in result.out
    result = nnictl('algo', 'register', '-m', _meta(tmp_path, 'algoType: [\n'))
    assert result.code == 1 and result.out.startswith('ERROR: yaml file format error!\nERROR: ')
    result = nnictl('algo', 'register', '-m', str(tmp_path / 'missing.yml'))
    assert result.code == 1 and 'missing.yml' in result.out
    assert not algo_registry.registry_path().exists()


def test_unregister_and_show_errors(nnictl):
    assert nnictl('algo', 'unregister', 'TPE').out == 'ERROR: TPE is provided by nni, can not be unregistered!\n'
    result = nnictl('algo', 'unreg', 'nothing')
    assert (result.code, result.out) == (1, 'ERROR: builtin algorithms nothing not found!\n')
    result = nnictl('algo', 'show', 'nothing')
    assert (result.code, result.out) == (1, 'ERROR: package nothing not found\n')


def test_old_entries_are_ignored(tmp_path):
    algo_registry.registry_path().parent.mkdir(parents=True, exist_ok=True)
    algo_registry.registry_path().write_text(yaml.safe_dump({
        'tuners': [{'builtinName': 'OldTPE', 'className': 'x.Y', 'source': 'nni'}],
        'advisors': [{'builtinName': 'legacyadvisor', 'className': 'x.Adv', 'source': 'user'}],
    }))
    assert algo_registry.find_registered_algorithm('OldTPE') is None
    assert algo_registry.find_registered_algorithm('legacyadvisor', 'tuner')['algoType'] == 'advisor'


def test_broken_file_does_not_break_lookups():
    algo_registry.registry_path().parent.mkdir(parents=True, exist_ok=True)
    algo_registry.registry_path().write_text('tuners: [\n')
    assert algo_registry.find_registered_algorithm('anything') is None
