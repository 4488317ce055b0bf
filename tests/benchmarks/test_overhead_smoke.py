"""benchmarks/overhead.py works: every measurement of ours in a tiny configuration, without NNI 3.0.

No wall-clock assertions: the numbers depend on the machine; only their presence and sanity are checked.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / 'benchmarks' / 'overhead.py'


def load_overhead():
    spec = importlib.util.spec_from_file_location('benchmarks_overhead', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


overhead = load_overhead()


def collect_errors(value, path: str = '') -> list[str]:
    """Every ``error`` anywhere in the results, with where it was found."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == 'error':
                found.append(f'{path}: {item}')
            found.extend(collect_errors(item, f'{path}.{key}'))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(collect_errors(item, f'{path}[{index}]'))
    return found


@pytest.mark.slow
@pytest.mark.integration
def test_main_skip_nni_tiny(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / 'results' / 'overhead.json'
    code = overhead.main([
        '--skip-nni', '--trials', '4', '--repeat', '1', '--trial-repeat', '1', '--concurrency', '2', '4',
        '--json', str(out),
    ])
    assert code == 0
    results = json.loads(out.read_text())
    assert collect_errors(results) == []
    assert results['nni_python'] is None
    assert set(results['import']) == {'ours'}

    imported = results['import']['ours']
    assert imported['bare_ms'] > 0 and imported['import_ms'] > 0
    assert imported['bare_rss_mb'] > 0 and imported['import_rss_mb'] > 0

    start = results['start']['ours']
    assert start['failed_runs'] == 0
    assert start['start_s'] > 0 and len(start['start_samples_s']) == 1

    for concurrency in ('2', '4'):
        row = results['trials'][concurrency]
        # the python -c pass loop (the physical limit) is measured at the budget's concurrency only
        # and so is the experiment with every trial in a fresh interpreter
        assert set(row) == ({'ours', 'bare', 'pass', 'ours_cold'} if concurrency == '4' else {'ours', 'bare'})
        if concurrency == '4':
            assert row['pass']['failed_processes'] == 0 and row['pass']['trials_per_s'] > 0
            assert row['ours_cold']['trial_statuses'] == {'SUCCEEDED': 4}
        assert row['bare']['failed_processes'] == 0
        assert row['bare']['trials_per_s'] > 0 and row['bare']['trial_mean_s'] > 0
        assert row['ours']['trial_statuses'] == {'SUCCEEDED': 4}
        assert row['ours']['trials_per_s'] > 0 and row['ours']['elapsed_s'] > 0
        assert row['ours']['trial_mean_s'] > 0

    assert set(results['budgets']) == {'import_ms', 'import_mb', 'start_s', 'trials_fraction_of_bare_c4',
                                       'trials_fraction_of_pass_c4'}
    assert all(isinstance(met, bool) for met in results['budgets'].values())

    printed = capsys.readouterr().out
    assert 'import nni over bare (ms)' in printed
    assert 'NNI 3.0 (skipped)' in printed
    assert 'c=4: experiment / its bare loop' in printed
    assert '3. trivial trials, Random tuner (4)' in printed
    assert str(out) in printed


def test_table_with_nni_columns() -> None:
    """The table's NNI 3.0 columns and ratios, from made-up results (no process is started)."""
    results = {
        'machine': {'python': '3.11.7', 'platform': 'Linux', 'cpus': 2},
        'settings': {'trials': 50, 'nni_trials': 20, 'repeat': 5, 'trial_repeat': 3, 'concurrencies': [4]},
        'ours_python': sys.executable,
        'nni_python': '/venv/bin/python',
        'import': {
            'ours': {'bare_ms': 15.0, 'import_ms': 20.0, 'over_ms': 5.0, 'bare_rss_mb': 8.5, 'import_rss_mb': 9.5,
                     'over_mb': 1.0},
            'nni': {'bare_ms': 15.0, 'import_ms': 1015.0, 'over_ms': 1000.0, 'bare_rss_mb': 8.5,
                    'import_rss_mb': 133.5, 'over_mb': 125.0},
        },
        'start': {'ours': {'start_s': 0.2, 'stop_s': 0.1, 'errors': []},
                  'nni': {'start_s': 1.1, 'stop_s': 0.05, 'errors': []}},
        'trials': {'4': {
            'bare': {'trials_per_s': 50.0},
            'ours': {'trials_per_s': 45.0, 'elapsed_s': 1.1, 'trial_statuses': {'SUCCEEDED': 50}, 'errors': []},
            'nni_bare': {'trials_per_s': 2.0},
            'nni': {'trials_per_s': 1.0, 'elapsed_s': 20.0, 'trial_statuses': {'SUCCEEDED': 19, 'FAILED': 1},
                    'errors': [{'error': 'Traceback...\nRuntimeError: boom', 'output_tail': 'last line'}]},
        }},
    }
    results['budgets'] = overhead.check_budgets(results)
    assert results['budgets'] == {'import_ms': True, 'import_mb': True, 'start_s': True,
                                  'trials_fraction_of_bare_c4': True, 'trials_fraction_of_pass_c4': None}

    table = overhead.format_table(results)
    lines = {line.strip().split('  ')[0]: line for line in table.splitlines()}
    assert '200.0x' in lines['import nni over bare (ms)']  # 1000 ms / 5 ms
    assert '125.0x' in lines['max RSS over bare (MB)']
    assert '5.5x' in lines['2. Experiment.start() until the API answers (s)']
    assert '45.0x' in lines['c=4: experiment, start() to DONE (trials/s)']
    assert '90.0%' in lines['c=4: experiment / its bare loop'] and '50.0%' in lines['c=4: experiment / its bare loop']
    assert '2.0%' in lines['c=4: experiment / bare loop of our trials']
    assert ">= 80%  ok" in lines['c=4: experiment / its bare loop']
    assert '(50 for ours, 20 for NNI)' in table
    assert 'RuntimeError: boom' in table
    assert "trial statuses: {'SUCCEEDED': 19, 'FAILED': 1}" in table


def test_budgets_missed_and_unmeasured() -> None:
    results = {
        'import': {'ours': {'over_ms': 31.0, 'over_mb': 4.0}},
        'start': {'ours': {'error': 'RuntimeError: no manager'}},
        'trials': {'4': {'ours': {'trials_per_s': 7.0}, 'bare': {'trials_per_s': 10.0}}},
    }
    assert overhead.check_budgets(results) == {
        'import_ms': False, 'import_mb': True, 'start_s': None, 'trials_fraction_of_bare_c4': False,
        'trials_fraction_of_pass_c4': None,
    }
    results['trials']['4']['pass'] = {'trials_per_s': 20.0}
    assert overhead.check_budgets(results)['trials_fraction_of_pass_c4'] is False  # 7/20 = 0.35x
    results['trials']['4']['pass'] = {'trials_per_s': 11.0}
    assert overhead.check_budgets(results)['trials_fraction_of_pass_c4'] is True  # 0.64x
