"""docs/config.md is generated from the config classes and must stay in sync with them."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / 'scripts' / 'gen_config_docs.py'


@pytest.fixture(scope='module')
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location('gen_config_docs', SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_reference_is_what_the_script_generates(generator: ModuleType) -> None:
    committed = (ROOT / 'docs' / 'config.md').read_text(encoding='utf-8')
    assert committed == generator.render(), 'docs/config.md is out of date: run python scripts/gen_config_docs.py'


def test_check_mode(generator: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / 'config.md'
    assert generator.main(['--check', '--output', str(target)]) == 1
    assert 'is out of date' in capsys.readouterr().err
    assert generator.main(['--output', str(target)]) == 0
    assert generator.main(['--check', '--output', str(target)]) == 0


def test_every_field_of_every_class_is_documented(generator: ModuleType) -> None:
    undocumented = [
        f'{cls.__name__}.{field.name}'
        for _, classes in generator.SECTIONS
        for cls in classes
        for field in dataclasses.fields(cls)
        if not generator.field_doc(cls, field.name)
    ]
    assert undocumented == []


def test_every_public_config_class_has_a_table(generator: ModuleType) -> None:
    import nni.experiment.config as config

    documented = {cls.__name__ for _, classes in generator.SECTIONS for cls in classes}
    public = {name for name in config.__all__ if name.endswith(('Config', 'Policy')) and name != 'ConfigBase'}
    assert public <= documented


def test_tables_hold_names_types_defaults_and_text(generator: ModuleType) -> None:
    text = generator.render()
    assert '| `sshKeyFile` | `ssh_key_file` | `PathLike \\| None` | `"~/.ssh/id_rsa"` | Private key' in text
    assert '| `machineList` | `machine_list` | `list[RemoteMachineConfig]` | `[]` |' in text
    assert '| `trialConcurrency` | `trial_concurrency` | `int` | required | How many trials run at once. |' in text
    assert '| `machineList[].passphrase` | trainingService.machineList[].sshPassphrase |' in text
