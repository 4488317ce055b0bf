"""NNI's own HPO tests and local integration driver, unchanged, against the installed package.

``runner.py`` does the work (see its docstring for how the vendored files are run); this module
runs it once and checks that every test that passes on NNI 3.0 (``nni30_passing.txt``, generated
from a real run of NNI 3.0) passes here too, except the ones ``exclusions.txt`` lists with a reason.
The per-file table is printed (``pytest -s`` shows it) and is part of any failure message.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.nni_upstream import runner

_SUITE_MARKS = (pytest.mark.slow, pytest.mark.upstream, pytest.mark.integration)


def _marked(test):  # type: ignore[no-untyped-def]
    for mark in _SUITE_MARKS:
        test = mark(test)
    return test


@pytest.fixture(scope='module')
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], str]]:
    workdir = tmp_path_factory.mktemp('nni-upstream')
    results = runner.run_suite(sys.executable, workdir)
    outcomes: dict[str, str] = {}
    for result in results:
        outcomes.update(result.outcomes)
    anchor, exclusions = runner.read_list(runner.ANCHOR_FILE), runner.read_list(runner.EXCLUSIONS_FILE)
    print('\n' + runner.table(outcomes, anchor, exclusions))
    for result in results:
        print(f'[{result.name}] exit {result.returncode} in {result.seconds:.0f} s')
    logs = '\n'.join(f'----- {r.name} -----\n{r.log[-4000:]}' for r in results)
    yield outcomes, logs
    shutil.rmtree(workdir, ignore_errors=True)


def _check(suite: tuple[dict[str, str], str], integration: bool) -> None:
    outcomes, logs = suite
    anchor, exclusions = runner.read_list(runner.ANCHOR_FILE), runner.read_list(runner.EXCLUSIONS_FILE)
    assert anchor, f'{runner.ANCHOR_FILE} is empty or missing'
    selected = {t: c for t, c in anchor.items() if t.startswith(runner.INTEGRATION_PREFIX) == integration}
    assert selected
    missing = runner.regressions(outcomes, selected, exclusions)
    assert not missing, (
        'tests that pass on NNI 3.0 fail here:\n' + '\n'.join(f'  {t}: {outcomes.get(t, "not run")}' for t in missing)
        + '\n\n' + runner.table(outcomes, anchor, exclusions) + '\n\n' + logs)


@_marked
def test_nni_unit_tests_that_pass_on_nni30_pass_here(suite: tuple[dict[str, str], str]) -> None:
    _check(suite, integration=False)


@_marked
def test_nni_integration_driver_local_cases_reach_done(suite: tuple[dict[str, str], str]) -> None:
    _check(suite, integration=True)


def test_every_exclusion_names_a_test_and_a_reason() -> None:
    anchor = runner.read_list(runner.ANCHOR_FILE)
    for test_id, reason in runner.read_list(runner.EXCLUSIONS_FILE).items():
        assert test_id in anchor, f'{test_id} is excluded but does not pass on NNI 3.0 either'
        assert len(reason) > 20, f'{test_id} needs a reason'


def test_vendored_files_carry_nni_licence_and_origin() -> None:
    vendor = Path(runner.VENDOR)
    assert 'MIT License' in (vendor / 'LICENSE').read_text()
    readme = (vendor / 'README.md').read_text()
    assert 'microsoft/nni' in readme and '767ed7f22e1e588ce76cbbecb6c6a4a76a309805' in readme
    for file in runner.UNIT_FILES:
        assert (vendor / 'test' / file).is_file(), file
