"""The upstream runner's bookkeeping: junit and driver-log parsing, the table, regressions."""

from __future__ import annotations

from pathlib import Path

from tests.nni_upstream import runner

JUNIT = '''<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="ut.sdk.test_trial.TrialTestCase" name="test_a" file="ut/sdk/test_trial.py" line="3" time="0.1"/>
<testcase classname="ut.sdk.test_utils" name="test_b" file="ut/sdk/test_utils.py" line="3" time="0.1"><failure message="x">x</failure></testcase>
<testcase classname="ut.tools.nnictl.test_kill_command" name="test_c" file="ut/tools/nnictl/test_kill_command.py" line="1" time="0"><skipped message="s"/></testcase>
<testcase classname="" name="ut.sdk.test_version" time="0"><error message="collection failure">ImportError</error></testcase>
</testsuite></testsuites>'''

DRIVER_LOG = '''## \x1b[32mTesting: sklearn-classification\x1b[0m ##
launch command:  nnictl create --config x
\x1b[32mTest sklearn-classification: TEST PASS IN 9 SECONDS\x1b[0m
## \x1b[32mTesting: shared-storage-remote-nfs\x1b[0m ##
skipped shared-storage-remote-nfs, training service local not match [remote]
## \x1b[32mTesting: metrics-float\x1b[0m ##
launch command:  nnictl create --config y
Traceback (most recent call last):
'''


def test_parse_junit(tmp_path: Path) -> None:
    path = tmp_path / 'junit.xml'
    path.write_text(JUNIT)
    assert runner.parse_junit(path) == {
        'ut/sdk/test_trial.py::TrialTestCase::test_a': 'passed',
        'ut/sdk/test_utils.py::test_b': 'failed',
        'ut/tools/nnictl/test_kill_command.py::test_c': 'skipped',
        'ut/sdk/test_version.py::<collect>': 'error',
    }
    assert runner.parse_junit(tmp_path / 'missing.xml') == {}


def test_parse_driver_log_counts_only_cases_that_ran() -> None:
    assert runner.parse_driver_log(DRIVER_LOG) == {
        'integration::sklearn-classification': 'passed',
        'integration::metrics-float': 'failed',
    }


def test_table_and_regressions() -> None:
    anchor = {'ut/a.py::t1': '', 'ut/a.py::t2': '', 'integration::x': ''}
    outcomes = {'ut/a.py::t1': 'passed', 'ut/a.py::t2': 'failed', 'ut/a.py::t3': 'passed'}
    assert runner.regressions(outcomes, anchor, {}) == ['integration::x', 'ut/a.py::t2']
    assert runner.regressions(outcomes, anchor, {'ut/a.py::t2': 'why', 'integration::x': 'why'}) == []
    lines = runner.table(outcomes, anchor, {}).splitlines()
    assert lines[0].split()[0] == 'file'
    assert [line.split() for line in lines[1:]] == [['training_service/nnitest/run_tests.py', '1', '0', '0', '0', '0'],
                                                    ['ut/a.py', '2', '1', '0', '2', '1']]


def test_read_list_keeps_reasons(tmp_path: Path) -> None:
    path = tmp_path / 'list.txt'
    path.write_text('# header\nut/a.py::t1  # because\n\nut/b.py::t2\n')
    assert runner.read_list(path) == {'ut/a.py::t1': 'because', 'ut/b.py::t2': ''}
