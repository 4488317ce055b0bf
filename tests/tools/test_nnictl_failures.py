"""nnictl says what happened when trials fail (issue 15): create --foreground, experiment status, top."""

from __future__ import annotations

import json
import sys

import pytest

from .conftest import free_port, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.integration]

MISSING_MODULE = 'nni_nnictl_no_such_module'


def test_foreground_create_prints_the_first_failure_and_exits_1(nnictl, write_config, nni_env):
    config = write_config(trialCommand=f'{sys.executable} -c "import {MISSING_MODULE}"', maxTrialNumber=2)
    result = nnictl('create', '-c', str(config), '-p', str(free_port()), '--foreground')
    assert result.code == 1, result.out  # every trial failed: not a success
    assert 'failed (exit code 1) and no trial has succeeded yet' in result.out
    assert f"ModuleNotFoundError: No module named '{MISSING_MODULE}'" in result.out
    assert 'ERROR: No trial succeeded: 2 of 2 trials failed.' in result.out
    assert '2/2 trials | 2 failed' in result.out  # plain progress lines on a non-terminal
    exp_id = next(iter(json.loads((nni_env / '.experiment').read_text())))
    status = nnictl('experiment', 'status', exp_id, '--json').json()
    assert status['trials'] == {'total': 2, 'succeeded': 0, 'failed': 2, 'running': 0}


def test_unknown_id_names_it_and_points_to_the_list(nnictl, write_config):
    result = nnictl('resume', 'nosuchid', '-p', str(free_port()))
    assert result.code == 1
    assert 'Id nosuchid not exist! "nnictl experiment list --all" lists every experiment' in result.out


def test_top_and_status_of_a_running_experiment_show_the_failures(nnictl, write_config, stop_all):
    from nni.tools.nnictl.experiments import resolve
    from nni.tools.nnictl.top import render_experiment

    config = write_config(trialCommand=f'{sys.executable} -c "import sys; sys.exit(5)"', maxTrialNumber=2)
    assert nnictl('create', '-c', str(config), '-p', str(free_port())).code == 0
    wait_for(lambda: json.loads(nnictl('experiment', 'status').out)['status'] == 'DONE', timeout=60)
    status = json.loads(nnictl('experiment', 'status').out)
    assert status['trials']['failed'] == 2 and status['firstFailure']['exitCode'] == 5
    block = render_experiment(resolve(None))
    assert 'Failed: 2' in block
    assert 'No trial succeeded. First failure' in block and '(exit code 5)' in block
