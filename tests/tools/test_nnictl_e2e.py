"""nnictl against real managers started by ``nnictl create``: every command, its output and exit code."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
from pathlib import Path

import pytest
import yaml

from .conftest import REPO, free_port, manifest, run_console, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.integration]

_LOG_LINE = re.compile(r'^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] ')


def _created_id(out: str) -> str:
    match = re.search(r'Creating experiment, Experiment ID: (\w+)', out)
    assert match, out
    return match[1]


def _status(nnictl, exp_id: str) -> str:
    return nnictl('experiment', 'status', exp_id, '--json').json()['status']


def _trials(nnictl, exp_id: str) -> list[dict]:
    result = nnictl('trial', 'ls', exp_id, '--json')
    assert result.code == 0, result.out
    return result.json()


def test_create_list_update_kill_export_stop(nnictl, write_config, tmp_path, nni_env, stop_all):
    port = free_port()
    space = {'x': {'_type': 'randint', '_value': [0, 100]}, 'sleep': {'_type': 'choice', '_value': [30]}}
    config = write_config(searchSpace=space, trialConcurrency=1, maxTrialNumber=3)

    result = nnictl('create', '--config', str(config), '--port', str(port))
    assert result.code == 0, result.out
    exp_id = _created_id(result.out)
    lines = result.out.splitlines()
    assert all(_LOG_LINE.match(line) for line in lines)
    assert lines[-2].endswith(f'To stop experiment run "nnictl stop {exp_id}" or "nnictl stop --all"')
    assert lines[-1].endswith('Reference: https://nni.readthedocs.io/en/stable/reference/nnictl.html')
    assert any(line.endswith(f'Web portal URLs: http://127.0.0.1:{port}') for line in lines)
    assert manifest(nni_env)[exp_id]['port'] == port

    # the port is taken now
    result = nnictl('create', '--config', str(config), '--port', str(port))
    assert result.code == 1
    assert _LOG_LINE.match(result.out)
    assert f'ERROR: Port {port} is not idle' in result.out
    assert len(manifest(nni_env)) == 1

    # queries
    result = nnictl('experiment', 'list')
    assert result.code == 0
    assert f'Id: {exp_id}    Name: nnictl-test    Status: RUNNING    Port: {port}    Platform: local' in result.out
    result = nnictl('experiment', 'status')
    # NNI's {errors, status} and, beyond NNI, the trial counts (and firstFailure once a trial failed)
    assert result.code == 0 and result.out.startswith('{\n    "errors":[],\n    "status":"RUNNING",')
    assert set(json.loads(result.out)['trials']) == {'total', 'succeeded', 'failed', 'running'}
    result = nnictl('experiment', 'show')
    profile = json.loads(result.out)
    assert profile['id'] == exp_id and profile['params']['trialConcurrency'] == 1
    assert re.fullmatch(r'\d{4}/\d\d/\d\d \d\d:\d\d:\d\d', profile['startTime'])
    assert '":' in result.out and '": ' not in result.out  # NNI's separators
    assert nnictl('webui', 'url').out == f'INFO:  Web UI url: http://127.0.0.1:{port}\n'
    assert json.loads(nnictl('config', 'show', exp_id).out)['searchSpace'] == space

    # trials: the first one sleeps, so it is RUNNING
    running = wait_for(lambda: [t for t in _trials(nnictl, exp_id) if t['status'] == 'RUNNING'])[0]
    plain = nnictl('trial', 'ls')
    assert plain.code == 0
    listed = json.loads(plain.out)
    assert listed[0]['trialJobId'] == running['trialJobId']
    assert re.fullmatch(r'\d{4}/\d\d/\d\d \d\d:\d\d:\d\d', listed[0]['startTime'])
    assert isinstance(running['startTime'], int)
    result = nnictl('log', 'trial', '-T', running['trialJobId'])
    assert result.out == f'INFO:  id:{running["trialJobId"]} path:{running["logPath"]}\n'

    result = nnictl('trial', 'kill', '--trial_id', 'nosuch')
    assert result.code == 1 and result.out.startswith('ERROR: Kill trial job failed...')
    result = nnictl('trial', 'kill', exp_id, '-T', running['trialJobId'])
    assert (result.code, result.out) == (0, f'INFO:  Kill trial job {running["trialJobId"]} success!\n')
    wait_for(lambda: {t['trialJobId']: t['status'] for t in _trials(nnictl, exp_id)}[running['trialJobId']]
             == 'USER_CANCELED', timeout=30)

    # updates
    fast_space = tmp_path / 'space.yml'
    fast_space.write_text(yaml.safe_dump({'x': {'_type': 'randint', '_value': [0, 100]},
                                          'sleep': {'_type': 'choice', '_value': [0]}}))
    assert nnictl('update', 'searchspace', '-f', str(fast_space)).out == 'INFO:  Update searchSpace success!\n'
    assert nnictl('update', 'concurrency', '--value', '2').out == 'INFO:  Update concurrency success!\n'
    assert nnictl('update', 'duration', exp_id, '-v', '1h').out == 'INFO:  Update duration success!\n'
    assert nnictl('update', 'trialnum', '-v', '5').out == 'INFO:  Update trialnum success!\n'
    params = nnictl('experiment', 'show', '--json').json()['params']
    assert (params['trialConcurrency'], params['maxExperimentDuration'], params['maxTrialNumber']) == (2, 3600, 5)
    assert params['searchSpace']['sleep'] == {'_type': 'choice', '_value': [0]}

    # the remaining trials (one may still sleep from the old space: kill it)
    for trial in _trials(nnictl, exp_id):
        if trial['status'] == 'RUNNING' and trial['trialJobId'] != running['trialJobId']:
            nnictl('trial', 'kill', '-T', trial['trialJobId'])
    wait_for(lambda: _status(nnictl, exp_id) == 'DONE', timeout=90)

    # import data while the manager is alive
    data = tmp_path / 'import.json'
    data.write_text(json.dumps([{'parameter': {'x': 7, 'sleep': 0}, 'value': 7}]))
    result = nnictl('experiment', 'import', '-f', str(data))
    assert (result.code, result.out) == (0, f'INFO:  Import data success! 1 records imported into experiment {exp_id}.\n')

    # results
    trials = _trials(nnictl, exp_id)
    finished = [t for t in trials if t['status'] == 'SUCCEEDED']
    assert len(trials) == 5 and finished
    def metric(trial: dict) -> float:
        return json.loads(json.loads(trial['finalMetricData'][0]['data']))

    best = max(metric(t) for t in finished)
    head = json.loads(nnictl('trial', 'ls', '--head', '1').out)
    assert len(head) == 1 and metric(head[0]) == best
    tail = json.loads(nnictl('trial', 'ls', '--tail', '2').out)
    assert [metric(t) for t in tail] == sorted(metric(t) for t in finished)[:2]
    listing = nnictl('experiment', 'list', '--json').json()[0]
    assert listing['bestMetric'] == best and listing['trials'] == 5
    target = tmp_path / 'results.csv'
    assert nnictl('experiment', 'export', '-t', 'csv', '-f', str(target)).code == 0
    header = target.read_text().splitlines()[0].split(',')
    assert sorted(header[:2]) == ['sleep', 'x'] and header[2:] == ['reward', 'trialJobId']
    assert len(target.read_text().splitlines()) == 1 + len(finished)
    assert nnictl('log', 'stdout').code == 0
    assert nnictl('log', 'stderr', '--path').out.strip().endswith(f'{exp_id}/log/nnictl_stderr.log')

    # stop by port, then the stopped experiment
    result = nnictl('stop', '--port', str(port))
    assert (result.code, result.out) == (0, f'INFO:  Stopping experiment {exp_id}\nINFO:  Stop experiment success.\n')
    assert manifest(nni_env)[exp_id]['status'] == 'STOPPED'
    assert nnictl('stop', exp_id).out == f'WARNING: Experiment {exp_id} is already stopped.\n'
    result = nnictl('trial', 'ls', exp_id)
    assert result.code == 1 and result.out.startswith('ERROR: Experiment is not running...')
    result = nnictl('update', 'concurrency', exp_id, '-v', '3')
    assert (result.code, result.out) == (1, f'ERROR: Experiment {exp_id} is not running, it cannot be updated.\n')
    # export and list keep working from the database
    target2 = tmp_path / 'after.csv'
    assert nnictl('experiment', 'export', exp_id, '-t', 'csv', '-f', str(target2)).code == 0
    assert target2.read_text() == target.read_text()
    assert nnictl('experiment', 'list', '--all', '--json').json()[0]['bestTrialJobId'] == listing['bestTrialJobId']


def test_resume_view_save_load_delete(nnictl, write_config, tmp_path, workdir, nni_env, stop_all):
    config = write_config(maxTrialNumber=2)
    port = free_port()
    result = nnictl('create', '-c', str(config), '-p', str(port))
    exp_id = _created_id(result.out)
    wait_for(lambda: _status(nnictl, exp_id) == 'DONE', timeout=60)

    result = nnictl('resume', exp_id, '--port', str(free_port()))
    assert result.code == 1
    assert 'ERROR: Only stopped experiments can be resumed or viewed!' in result.out
    # the manager still serving it is named (it holds the experiment's lock)
    assert f'experiment {exp_id} is already in use by the NNI manager pid' in result.out
    result = nnictl('view', 'nosuchid')
    assert result.code == 1 and 'ERROR: Id nosuchid not exist! "nnictl experiment list --all"' in result.out
    result = nnictl('experiment', 'save', exp_id)
    assert result.out.endswith('ERROR: Can only save stopped experiment!\n' + f'Stop it first with "nnictl stop {exp_id}".\n')
    result = nnictl('experiment', 'delete', exp_id, '-y')
    assert result.code == 1 and 'stop it first' in result.out

    assert nnictl('stop').code == 0
    port2 = free_port()
    result = nnictl('resume', exp_id, '-p', str(port2))
    assert result.code == 0, result.out
    assert f'Creating experiment, Experiment ID: {exp_id}' in result.out and 'To stop' not in result.out
    wait_for(lambda: _status(nnictl, exp_id) == 'DONE', timeout=60)
    assert manifest(nni_env)[exp_id]['port'] == port2
    assert len(_trials(nnictl, exp_id)) == 2
    assert nnictl('stop', '--all').code == 0

    result = nnictl('view', exp_id, '--port', str(port2))
    assert result.code == 0
    assert _status(nnictl, exp_id) == 'VIEWED'
    result = nnictl('update', 'concurrency', '-v', '3')
    assert result.code == 1 and result.out.startswith('ERROR: Update concurrency failed!')
    assert nnictl('stop', exp_id).code == 0

    archive_dir = tmp_path / 'archives'
    assert nnictl('experiment', 'save', exp_id, '-p', str(archive_dir)).code == 0
    result = nnictl('experiment', 'delete', exp_id, '--yes')
    assert result.code == 0 and not (workdir / exp_id).exists()
    other = tmp_path / 'other-machine'
    other.mkdir()
    result = nnictl('experiment', 'load', '-p', str(archive_dir / f'nni_experiment_{exp_id}.zip'), '-l', str(other))
    assert result.code == 0, result.out
    result = nnictl('view', exp_id, '-p', str(free_port()))
    assert result.code == 0, result.out
    trials = _trials(nnictl, exp_id)
    assert len(trials) == 2 and all(t['logPath'].startswith(str(other / exp_id)) for t in trials)
    assert nnictl('stop', exp_id).code == 0
    result = nnictl('resume', exp_id, '-p', str(free_port()))
    assert result.code == 0, result.out
    wait_for(lambda: _status(nnictl, exp_id) == 'DONE', timeout=60)
    assert nnictl('stop', exp_id).code == 0


def test_url_prefix_experiment_is_manageable(nnictl, write_config, nni_env, stop_all):
    port = free_port()
    result = nnictl('create', '-c', str(write_config()), '-p', str(port), '--url_prefix', '/my/prefix/')
    assert result.code == 0, result.out
    exp_id = _created_id(result.out)
    assert manifest(nni_env)[exp_id]['prefixUrl'] == 'my/prefix'
    wait_for(lambda: _status(nnictl, exp_id) == 'DONE', timeout=60)
    assert len(_trials(nnictl, exp_id)) == 4
    assert nnictl('webui', 'url').out == f'INFO:  Web UI url: http://127.0.0.1:{port}/my/prefix\n'
    assert nnictl('experiment', 'show').code == 0
    assert nnictl('stop').code == 0


def test_foreground_create_runs_to_done(nnictl, write_config, workdir, nni_env):
    result = nnictl('create', '-c', str(write_config()), '-p', str(free_port()), '--foreground')
    assert result.code == 0, result.out
    exp_id = _created_id(result.out)
    assert 'To stop experiment' not in result.out
    assert result.out.rstrip().endswith('Experiment stopped.')
    assert '\r' not in result.out  # no progress bar when the output is not a terminal
    assert manifest(nni_env)[exp_id]['status'] == 'STOPPED'
    # the manager printed its log on the terminal (foreground), not into nnictl_stdout.log
    assert not (workdir / exp_id / 'log' / 'nnictl_stdout.log').exists()


def test_resume_foreground_waits_then_stops(nnictl, write_config, nni_env, stop_all):
    result = nnictl('create', '-c', str(write_config(maxTrialNumber=1)), '-p', str(free_port()))
    exp_id = _created_id(result.out)
    wait_for(lambda: _status(nnictl, exp_id) == 'DONE', timeout=60)
    nnictl('stop')
    result = nnictl('resume', exp_id, '-p', str(free_port()), '-f')
    assert result.code == 0, result.out
    assert result.out.rstrip().endswith('Experiment stopped.')
    assert manifest(nni_env)[exp_id]['status'] == 'STOPPED'


def test_bad_configs_start_nothing(nnictl, write_config, tmp_path, nni_env):
    result = nnictl('create', '-c', str(write_config(trialConcurency=2)))
    assert result.code == 1
    assert _LOG_LINE.match(result.out) and 'ERROR: Invalid experiment config' in result.out
    assert 'trialConcurency' in result.out
    result = nnictl('create', '-c', str(write_config(trialConcurrency=0)))
    assert result.code == 1 and 'trialConcurrency: must be a positive integer, got 0' in result.out
    broken = tmp_path / 'broken.yml'
    broken.write_text('trialConcurrency: [1\n')
    result = nnictl('create', '-c', str(broken))
    assert result.code == 1 and 'ERROR: Invalid experiment config' in result.out
    listing = tmp_path / 'list.yml'
    listing.write_text('- 1\n- 2\n')
    assert nnictl('create', '-c', str(listing)).code == 1
    assert 'Traceback' not in result.out
    assert manifest(nni_env) == {}


def _annotated_config(tmp_path: Path, workdir: Path, code_dir: Path, **fields) -> Path:
    config = yaml.safe_load((REPO / 'examples' / 'annotated' / 'config.yml').read_text())
    config.update(trialCodeDirectory=str(code_dir), experimentWorkingDirectory=str(workdir), **fields)
    path = tmp_path / 'annotated.yml'
    path.write_text(yaml.safe_dump(config))
    return path


def test_annotated_example_runs_to_done(nnictl, tmp_path, workdir, nni_env, stop_all):
    example = REPO / 'examples' / 'annotated'
    before = (example / 'trial.py').read_text()
    config = _annotated_config(tmp_path, workdir, example, maxTrialNumber=6)
    result = nnictl('create', '-c', str(config), '-p', str(free_port()))
    assert result.code == 0, result.out
    exp_id = _created_id(result.out)
    assert f'Annotated trial code rewritten into {workdir / exp_id / "annotated_code"}' in result.out
    wait_for(lambda: _status(nnictl, exp_id) == 'DONE', timeout=120)
    trials = _trials(nnictl, exp_id)
    assert len(trials) == 6 and {t['status'] for t in trials} == {'SUCCEEDED'}
    for trial in trials:
        parameters = json.loads(trial['hyperParameters'][0])['parameters']
        assert set(parameters) == {'batch_size', 'learning_rate', 'epochs', 'features'}
        assert parameters['features'] in ('plain_features', 'rich_features')
    config_shown = json.loads(nnictl('config', 'show').out)
    assert config_shown.get('useAnnotation', False) is False
    assert set(config_shown['searchSpace']) == {'batch_size', 'learning_rate', 'epochs', 'features'}
    assert config_shown['trialCodeDirectory'] == str(workdir / exp_id / 'annotated_code')
    assert (example / 'trial.py').read_text() == before
    # the trial's log shows the values it used, which came from the tuner
    first = trials[0]
    used = json.loads(first['hyperParameters'][0])['parameters']
    stdout = (Path(first['logPath']) / 'trial.stdout').read_text()
    assert f'batch_size={used["batch_size"]} ' in stdout and f'features={used["features"]} ' in stdout
    assert nnictl('stop').code == 0


def test_annotation_errors(nnictl, tmp_path, workdir, nni_env):
    code = tmp_path / 'code'
    code.mkdir()
    (code / 'trial.py').write_text('"""@nni.variable(nni.choice(1, 2), name=a)"""\nb = 1\n')
    result = nnictl('create', '-c', str(_annotated_config(tmp_path, workdir, code)), '-p', str(free_port()))
    assert result.code == 1
    assert f'ERROR: Annotation error in {code}: trial.py:1: @nni.variable name=a does not match' in result.out
    (code / 'trial.py').write_text('print(1)\n')
    result = nnictl('create', '-c', str(_annotated_config(tmp_path, workdir, code)), '-p', str(free_port()))
    assert result.code == 1 and 'no @nni.variable or @nni.function_choice annotation was found' in result.out
    assert manifest(nni_env) == {}
    assert not any(workdir.glob('*/annotated_code'))


def test_console_script_create_and_stop(write_config, nni_env):
    port = free_port()
    completed = run_console('create', '--config', str(write_config(maxTrialNumber=1)), '--port', str(port))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    exp_id = _created_id(completed.stdout)
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=5):
            pass
        completed = run_console('experiment', 'status', '--json')
        assert json.loads(completed.stdout)['id'] == exp_id
    finally:
        completed = run_console('stop', exp_id)
    assert completed.returncode == 0
    assert completed.stdout == f'INFO:  Stopping experiment {exp_id}\nINFO:  Stop experiment success.\n'
    assert manifest(nni_env)[exp_id]['status'] == 'STOPPED'


def test_registered_tuner_is_usable_by_name(nnictl, write_config, tmp_path, monkeypatch, nni_env, stop_all):
    module_dir = tmp_path / 'algos'
    module_dir.mkdir()
    (module_dir / 'demo_tuner.py').write_text(
        'from nni.algorithms.hpo.random_tuner import RandomTuner\n\n\n'
        'class DemoTuner(RandomTuner):\n    pass\n')
    (tmp_path / 'meta.yml').write_text('algoType: tuner\nbuiltinName: demotuner\nclassName: demo_tuner.DemoTuner\n')
    monkeypatch.syspath_prepend(str(module_dir))
    old_path = os.environ.get('PYTHONPATH')
    monkeypatch.setenv('PYTHONPATH', str(module_dir) + (os.pathsep + old_path if old_path else ''))
    assert nnictl('algo', 'register', '--meta', str(tmp_path / 'meta.yml')).code == 0

    from nni.algorithms.hpo.registry import get_algorithm_meta

    if get_algorithm_meta('demotuner', 'tuner') is None:
        pytest.skip('nni.algorithms.hpo.registry does not consult registered_algorithms.yml yet')
    result = nnictl('create', '-c', str(write_config(tuner={'name': 'DemoTuner'}, maxTrialNumber=2)), '-p',
                    str(free_port()))
    assert result.code == 0, result.out
    exp_id = _created_id(result.out)
    wait_for(lambda: _status(nnictl, exp_id) == 'DONE', timeout=60)
    assert {t['status'] for t in _trials(nnictl, exp_id)} == {'SUCCEEDED'}
    assert nnictl('stop').code == 0


def test_top_shows_running_experiment(nnictl, write_config, monkeypatch, stop_all):
    result = nnictl('create', '-c', str(write_config(maxTrialNumber=2)), '-p', str(free_port()))
    exp_id = _created_id(result.out)
    wait_for(lambda: _status(nnictl, exp_id) == 'DONE', timeout=60)

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr('nni.tools.nnictl.top.time.sleep', interrupt)
    result = nnictl('top')
    assert result.code == 0
    lines = result.out.splitlines()
    assert re.fullmatch(rf'Id: {exp_id}    Status: DONE    Port: \d+    Platform: local    ', lines[0])
    assert re.fullmatch(r'StartTime: \S+ \S+    Duration: 0d 0h \d+m \d+(\.\d)?s', lines[1])
    assert lines[2].startswith('Trials: 2/2 done    Failed: 0    Running: 0    BestMetric: ')
    assert lines[3] == '-' * 85
    assert lines[4].rstrip() == 'trialId         startTime                 endTime                   status'
    assert len([line for line in lines if line.rstrip().endswith('SUCCEEDED')]) == 2
    assert lines[-1] == 'INFO:  Exiting...'


def test_stop_leaves_no_manager(nnictl, write_config, nni_env):
    result = nnictl('create', '-c', str(write_config(maxTrialNumber=1)), '-p', str(free_port()))
    exp_id = _created_id(result.out)
    pid = manifest(nni_env)[exp_id]['pid']
    assert nnictl('stop', exp_id[:3] + '*').code == 0
    from nni.experiment.manifest import pid_alive

    assert not pid_alive(pid)
    shutil.rmtree(Path(manifest(nni_env)[exp_id]['logDir']) / exp_id)
