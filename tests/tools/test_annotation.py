"""NNI annotation: parsing, rewriting, search space generation, and ``nnictl ss_gen``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nni.tools.annotation import AnnotationError, expand_annotations, generate_search_space
from nni.tools.annotation.rewriter import rewrite_module
from nni.tools.annotation.specs import parse_annotation

from .conftest import REPO

TRIAL = textwrap.dedent('''\
    """Module docstring."""
    from __future__ import annotations

    import math


    def relu(x):
        return max(x, 0.0)


    def main():
        """@nni.get_next_parameter()"""
        """@nni.variable(nni.choice(16, 32, 'auto'), name=batch_size)"""
        batch_size = 8
        """@nni.variable(nni.loguniform(0.0001, 0.1), name=lr)"""
        lr = 0.01
        total = 0.0
        for step in range(2):
            """@nni.function_choice(relu(lr - 0.5), math.tanh(lr), name=activation)"""
            value = relu(lr - 0.5)
            total += value
            """@nni.report_intermediate_result(total)"""
        """@nni.report_final_result(total)"""
        print(json.dumps({'batch_size': batch_size, 'lr': lr, 'total': total}))


    import json

    main()
''')


def _run(path: Path, parameters: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith('NNI_')}
    if parameters is not None:
        env['NNI_STANDALONE_PARAMETERS'] = json.dumps(parameters)
    env['PYTHONPATH'] = str(REPO / 'src')
    completed = subprocess.run([sys.executable, path.name], cwd=path.parent, capture_output=True, text=True, env=env,
                               check=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_parse_forms():
    variable = parse_annotation('@nni.variable(nni.choice(1, 2.5, "a"), name=x)', 3)
    assert (variable.kind, variable.name, variable.spec) == ('variable', 'x', {'_type': 'choice', '_value': [1, 2.5, 'a']})
    assert variable.options == {}
    numeric = parse_annotation('@nni.variable(nni.quniform(-1, 1, 0.5), name="y")', 1)
    assert numeric.spec == {'_type': 'quniform', '_value': [-1, 1, 0.5]}
    expressions = parse_annotation('@nni.variable(nni.choice(math.tan, math.sin), name=f)', 1)
    assert expressions.spec == {'_type': 'choice', '_value': ['math.tan', 'math.sin']}
    assert list(expressions.options) == ['math.tan', 'math.sin']
    unnamed = parse_annotation('@nni.function_choice(a(1), b(2))', 12)
    assert unnamed.name == 'function_choice_12' and unnamed.spec['_value'] == ['a(1)', 'b(2)']
    report = parse_annotation('  @nni.report_final_result(acc * 100)  ', 1)
    assert report.kind == 'report_final_result'


@pytest.mark.parametrize(('text', 'message'), [
    ('@nni.variable(nni.uniform(0, x), name=y)', 'arguments must be number literals'),
    ('@nni.variable(nni.uniform(0), name=y)', 'takes 2 numbers, got 1'),
    ('@nni.variable(nni.gauss(0, 1), name=y)', 'needs an nni distribution'),
    ('@nni.variable(nni.choice(), name=y)', 'needs at least one option'),
    ('@nni.variable(nni.choice(1), label=y)', "unknown keyword argument 'label'"),
    ('@nni.mutable_layers({})', 'NAS annotation'),
    ('@nni.report_final_result()', 'takes 1 argument, got 0'),
    ('@nni.whatever(1)', 'unknown annotation @nni.whatever'),
    ('@nni.variable(nni.choice(1, 2)', 'not a valid Python call'),
    ('@mylib.variable(1)', 'must be a call of an nni function'),
])
def test_parse_errors(text, message):
    with pytest.raises(AnnotationError, match=message) as info:
        parse_annotation(text, 7, 'pkg/trial.py')
    assert str(info.value).startswith('pkg/trial.py:7: ')


def test_rewrite_keeps_docstring_and_future_first():
    result = rewrite_module(TRIAL, 'trial.py')
    assert result is not None
    lines = result.source.splitlines()
    assert lines[0] == '"""Module docstring."""'
    assert lines[1] == 'from __future__ import annotations'
    assert lines[2] == 'from nni.tools.annotation import runtime as _nni_annotation'
    assert "batch_size = _nni_annotation.variable('batch_size', lambda: 8)" in result.source
    assert '@nni.' not in result.source
    assert {name: spec for name, (spec, _) in result.parameters.items()} == {
        'batch_size': {'_type': 'choice', '_value': [16, 32, 'auto']},
        'lr': {'_type': 'loguniform', '_value': [0.0001, 0.1]},
        'activation': {'_type': 'choice', '_value': ['relu(lr - 0.5)', 'math.tanh(lr)']},
    }
    assert rewrite_module('x = 1\n') is None
    assert rewrite_module('x = "@nni.variable in a normal string"\n') is None


def test_rewritten_code_runs_with_and_without_parameters(tmp_path):
    source = tmp_path / 'src'
    source.mkdir()
    (source / 'trial.py').write_text(TRIAL)
    original = _run(source / 'trial.py')
    assert original == {'batch_size': 8, 'lr': 0.01, 'total': 0.0}

    out = tmp_path / 'out'
    space = expand_annotations(source, out)
    assert set(space) == {'batch_size', 'lr', 'activation'}
    # no parameters (run outside an experiment): the values written in the code
    assert _run(out / 'trial.py') == original
    chosen = _run(out / 'trial.py', {'batch_size': 'auto', 'lr': 0.05, 'activation': 'math.tanh(lr)'})
    assert chosen['batch_size'] == 'auto' and chosen['lr'] == 0.05
    assert chosen['total'] == pytest.approx(2 * __import__('math').tanh(0.05))


def test_choice_outside_options_is_an_error(tmp_path):
    source = tmp_path / 'src'
    source.mkdir()
    (source / 'trial.py').write_text(TRIAL)
    expand_annotations(source, tmp_path / 'out')
    with pytest.raises(subprocess.CalledProcessError) as info:
        _run(tmp_path / 'out' / 'trial.py', {'activation': 'sigmoid(lr)'})
    assert "parameter 'activation' is 'sigmoid(lr)', which is not one of the annotated options" in info.value.stderr


@pytest.mark.parametrize(('code', 'message'), [
    ('"""@nni.variable(nni.choice(1, 2), name=a)"""\nb = 1\n', 'name=a does not match the assigned variable'),
    ('"""@nni.variable(nni.choice(1, 2), name=a)"""\nprint(a)\n', 'must be followed by an assignment'),
    ('x = 1\n"""@nni.variable(nni.choice(1, 2), name=a)"""\n', 'must be followed by the statement'),
    ('"""@nni.function_choice(f(), g())"""\nimport os\n', 'must be followed by a statement with a value'),
    ('"""@nni.variable(nni.choice(1, 2), name=a)"""\na = 1\n"""@nni.variable(nni.choice(3), name=a)"""\na = 2\n',
     "parameter 'a' is annotated twice with different values"),
    ('def f(:\n    """@nni.report_final_result(1)"""\n', 'cannot parse the module'),
])
def test_rewrite_errors(code, message):
    with pytest.raises(AnnotationError, match=message):
        rewrite_module(code, 'trial.py')


def test_annotations_in_nested_blocks():
    code = textwrap.dedent('''\
        class Model:
            def fit(self):
                try:
                    with open(__file__) as f:
                        if True:
                            """@nni.variable(nni.randint(1, 5), name=depth)"""
                            depth: int = 2
                except OSError:
                    """@nni.report_final_result(0)"""
                else:
                    """@nni.report_final_result(depth)"""
                    return depth
    ''')
    result = rewrite_module(code, 'model.py')
    assert result is not None and set(result.parameters) == {'depth'}
    assert "depth: int = _nni_annotation.variable('depth', lambda: 2)" in result.source
    assert result.source.count('_nni_annotation.report_final_result(') == 2


def test_expand_copies_the_tree(tmp_path):
    source = tmp_path / 'code'
    (source / 'pkg').mkdir(parents=True)
    (source / 'data').mkdir()
    (source / '.git').mkdir()
    (source / '__pycache__').mkdir()
    (source / 'data' / 'train.csv').write_text('a,b\n')
    (source / '.git' / 'HEAD').write_text('ref')
    (source / 'pkg' / '__init__.py').write_text('')
    (source / 'pkg' / 'model.py').write_text('"""@nni.variable(nni.uniform(0.1, 0.9), name=dropout)"""\ndropout = 0.5\n')
    (source / 'main.py').write_text('"""@nni.variable(nni.uniform(0.1, 0.9), name=dropout)"""\ndropout = 0.2\n')
    (source / 'run.sh').write_text('#!/bin/sh\n')
    (source / 'run.sh').chmod(0o755)
    # the output may live inside the code directory: it is not copied into itself
    out = source / 'out'
    space = expand_annotations(source, out)
    assert space == {'dropout': {'_type': 'uniform', '_value': [0.1, 0.9]}}
    assert (out / 'data' / 'train.csv').read_text() == 'a,b\n'
    assert (out / 'pkg' / '__init__.py').exists()
    assert '_nni_annotation' in (out / 'pkg' / 'model.py').read_text()
    assert os.access(out / 'run.sh', os.X_OK)
    assert not (out / '.git').exists() and not (out / '__pycache__').exists() and not (out / 'out').exists()
    assert generate_search_space(source) == space


def test_conflicting_parameters_across_files(tmp_path):
    (tmp_path / 'a.py').write_text('"""@nni.variable(nni.choice(1, 2), name=k)"""\nk = 1\n')
    (tmp_path / 'b.py').write_text('"""@nni.variable(nni.choice(3, 4), name=k)"""\nk = 3\n')
    with pytest.raises(AnnotationError, match=r"^b.py:1: parameter 'k' is annotated with different values here and at a.py:1"):
        generate_search_space(tmp_path)


def test_example_is_annotated_and_runs_standalone():
    example = REPO / 'examples' / 'annotated'
    space = generate_search_space(example)
    assert set(space) == {'batch_size', 'learning_rate', 'epochs', 'features'}
    env = {k: v for k, v in os.environ.items() if not k.startswith('NNI_')}
    completed = subprocess.run([sys.executable, 'trial.py'], cwd=example, capture_output=True, text=True, env=env,
                               check=True)
    assert completed.stdout.startswith('batch_size=16 learning_rate=0.05 epochs=4 features=plain_features')


def test_ss_gen(nnictl, tmp_path):
    out = tmp_path / 'space.json'
    result = nnictl('ss_gen', '--trial_command', 'python3 trial.py', '--trial_dir', str(REPO / 'examples' / 'annotated'),
                    '--file', str(out))
    assert result.code == 0
    first, rest = result.out.split('\n', 1)
    assert first == f"INFO:  Generate search space done: '{out}'."
    assert json.loads(rest) == json.loads(out.read_text())
    assert json.loads(rest)['epochs'] == {'_type': 'randint', '_value': [2, 8]}
    result = nnictl('ss_gen', '-d', str(REPO / 'examples' / 'annotated'), '-f', str(out))
    assert result.out.startswith(f'WARNING: {out} already exists, will be overwritten.\n')


def test_ss_gen_errors(nnictl, tmp_path):
    result = nnictl('ss_gen', '-d', str(tmp_path / 'nope'))
    assert (result.code, result.out) == (1, f'ERROR: {tmp_path / "nope"} is not a directory.\n')
    (tmp_path / 'trial.py').write_text('print(1)\n')
    result = nnictl('ss_gen', '-d', str(tmp_path), '-f', str(tmp_path / 's.json'))
    assert result.code == 1 and 'No @nni.variable or @nni.function_choice annotation found' in result.out
    (tmp_path / 'trial.py').write_text('"""@nni.variable(nni.choice(1), name=a)"""\nb = 1\n')
    result = nnictl('ss_gen', '-d', str(tmp_path), '-f', str(tmp_path / 's.json'))
    assert result.code == 1 and result.out.startswith(f'ERROR: Annotation error in {tmp_path}: trial.py:1: ')


def test_runtime_imports_only_the_standard_library():
    code = ('import sys; import nni.tools.annotation.runtime; '
            'print(sorted(m for m in sys.modules if m.startswith("nni")))')
    completed = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True,
                               env={**os.environ, 'PYTHONPATH': str(REPO / 'src')})
    loaded = set(eval(completed.stdout))  # noqa: S307 - our own output
    assert {'nni.tools.annotation.runtime'} <= loaded
    assert not loaded & {'nni.tools.annotation.code_dir', 'nni.tools.annotation.rewriter',
                         'nni.tools.annotation.specs', 'nni.experiment', 'nni.tools.nnictl'}
