"""nnictl without a running manager: parsing, exit codes, and commands that read the manifest and databases."""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from pathlib import Path

import pytest

from .conftest import free_port, manifest
from .fabricate import make_experiment

# ---------------------------------------------------------------------------------------------------------
# parsing


def test_version_and_guidance(nnictl):
    result = nnictl('--version')
    assert result.code == 0 and result.out.strip() == '3.0.0'
    assert nnictl('-v').out.strip() == '3.0.0'
    for args in ([], ['trial'], ['experiment'], ['algo'], ['update'], ['log']):
        result = nnictl(*args)
        assert result.code == 0
        assert result.out == 'Please run "nnictl {positional argument} --help" to see nnictl guidance.\n'


def test_usage_errors_exit_2(nnictl, capsys):
    assert nnictl('tensorboard').code == 2
    assert 'invalid choice' in capsys.readouterr().err or True
    assert nnictl('create').code == 2  # --config is required
    assert nnictl('create', '--config', 'x.yml', '--port', 'abc').code == 2
    assert nnictl('experiment', 'export', '--type', 'xml', '--filename', 'f').code == 2
    assert nnictl('trial', 'kill').code == 2  # --trial_id is required
    assert nnictl('--help').code == 0


def test_long_options_abbreviate(nnictl, tmp_path):
    # "--conf" is "--config": the error is about the file, not about the option
    result = nnictl('create', '--conf', str(tmp_path / 'missing.yml'))
    assert result.code == 1
    assert f'ERROR: "{tmp_path / "missing.yml"}" is not a valid file.' in result.out
    result = nnictl('create', f'--config={tmp_path / "missing.yml"}', '--port=9')
    assert result.code == 1 and 'is not a valid file' in result.out


def test_nni_entry_point_name_exists():
    from nni.tools.nnictl import nnictl as legacy

    assert callable(legacy.parse_args)


def test_package_stub(nnictl):
    result = nnictl('package', 'install', 'x')
    assert result.code == 1
    assert result.out == ('ERROR: nnictl package command is replaced by nnictl algo, please run nnictl algo -h to '
                          'show the usage\n')


# ---------------------------------------------------------------------------------------------------------
# id resolution and experiment list


def test_empty_manifest(nnictl):
    result = nnictl('experiment', 'list')
    assert (result.code, result.out) == (1, 'INFO:  Cannot find experiments.\n')
    assert nnictl('experiment', 'list', '--json').json() == []
    result = nnictl('trial', 'ls')
    assert result.code == 1
    assert result.out == 'INFO:  There is no experiment running...\nERROR: Please set correct experiment id.\n'
    result = nnictl('stop')
    assert (result.code, result.out) == (0, 'INFO:  Experiment is not running...\n')


def test_experiment_list_plain_format(nnictl, workdir):
    make_experiment(workdir, 'exp00001', [0.5, 0.9, None])
    make_experiment(workdir, 'exp00002', [3.0, 1.0], optimize_mode='minimize', name=None)
    result = nnictl('experiment', 'list')
    assert result.code == 0
    assert result.out.startswith('WARNING: There is no experiment running...\n'
                                 "You can use 'nnictl experiment list --all' to list all experiments.\n")
    result = nnictl('experiment', 'list', '--all')
    assert result.code == 0
    lines = result.out.split('\n')
    assert lines[0] == '-' * 88
    assert lines[1] == ' ' * 16 + 'Experiment information'
    assert lines[2].startswith('Id: exp00001    Name: fake    Status: STOPPED    Port: 8080    Platform: local    '
                               'StartTime: ')
    assert lines[2].endswith('    Trials: 3    BestMetric: 0.9')
    assert lines[3].startswith('Id: exp00002    Name: None    Status: STOPPED')
    assert lines[3].endswith('    Trials: 2    BestMetric: 1')
    assert lines[4:] == ['', '-' * 88, '', '']


def test_experiment_list_json_and_table(nnictl, workdir, monkeypatch):
    make_experiment(workdir, 'exp00001', [0.5, 0.9])
    listing = nnictl('experiment', 'list', '--all', '--json').json()
    assert listing[0]['id'] == 'exp00001'
    assert listing[0]['status'] == 'STOPPED'
    assert listing[0]['trials'] == 2
    assert listing[0]['bestMetric'] == 0.9
    assert listing[0]['bestTrialJobId'] == 't1'
    assert listing[0]['workingDirectory'] == str(workdir)
    monkeypatch.setenv('FORCE_COLOR', '1')
    result = nnictl('experiment', 'list', '--all')
    assert result.code == 0
    assert '┌' in result.out and 'exp00001' in result.out and '\x1b[' in result.out
    monkeypatch.setenv('NO_COLOR', '1')
    result = nnictl('experiment', 'list', '--all')
    assert '┌' in result.out and '\x1b[' not in result.out


def test_resolution_errors(nnictl, workdir, live_pid):
    make_experiment(workdir, 'stopped1', [1.0])
    result = nnictl('trial', 'ls')
    assert result.code == 1
    assert result.out == 'ERROR: There is no experiment running.\nERROR: Please set correct experiment id.\n'
    result = nnictl('trial', 'ls', 'nosuchid')
    assert result.code == 1
    assert result.out == ("ERROR: Id not correct: there is no experiment 'nosuchid' on this machine.\n"
                          'ERROR: Please set correct experiment id. "nnictl experiment list --all" lists every '
                          'experiment.\n')
    # a stopped experiment is known but not running
    result = nnictl('trial', 'ls', 'stopped1')
    assert result.code == 1
    assert result.out.startswith('ERROR: Experiment is not running...\n')
    assert 'nnictl view stopped1' in result.out
    # two live managers (a sleeping process stands for them): the id must be given
    make_experiment(workdir, 'live0001', status='RUNNING', pid=live_pid)
    make_experiment(workdir, 'live0002', status='RUNNING', pid=live_pid)
    result = nnictl('experiment', 'status')
    assert result.code == 1
    assert result.out.startswith('ERROR: There are multiple experiments, please set the experiment id...\n' + '-' * 88)
    assert 'Id: live0001' in result.out and 'Id: live0002' in result.out and 'stopped1' not in result.out


def test_dead_manager_is_marked_stopped(nnictl, workdir, nni_env):
    make_experiment(workdir, 'deadbeef', status='RUNNING', pid=2 ** 22 + 12345)
    result = nnictl('experiment', 'list', '--all', '--json')
    assert result.json()[0]['status'] == 'STOPPED'
    assert manifest(nni_env)['deadbeef']['status'] == 'STOPPED'


def test_experiment_status_when_not_running(nnictl, workdir):
    make_experiment(workdir, 'stopped1', [1.0, None, None], port=free_port())
    result = nnictl('experiment', 'status', 'stopped1')
    # NNI's line, then the trial counts read from the database: failures are visible after the run too
    assert result.code == 0 and result.out.startswith('INFO:  Restful server is not running...\n')
    assert 'INFO:  Trials: 3 in all, 1 succeeded, 2 failed, 0 running' in result.out
    status = nnictl('experiment', 'status', 'stopped1', '--json').json()
    assert status == {'id': 'stopped1', 'status': 'STOPPED', 'errors': [], 'running': False, 'firstFailure': None,
                      'trials': {'total': 3, 'succeeded': 1, 'failed': 2, 'running': 0}}


# ---------------------------------------------------------------------------------------------------------
# stop


def test_stop_selection_errors(nnictl, workdir):
    make_experiment(workdir, 'stopped1', [1.0])
    result = nnictl('stop', 'all')
    assert result.code == 1
    assert result.out.startswith("WARNING: 'nnictl stop all' is abolished")
    result = nnictl('stop', 'stopped1')
    assert (result.code, result.out) == (0, 'WARNING: Experiment stopped1 is already stopped.\n')
    result = nnictl('stop', 'unknown1')
    assert result.code == 1
    assert result.out == ('ERROR: There are no experiments matched, please set correct experiment id or restful '
                          'server port\n')
    result = nnictl('stop', '--port', '1')
    assert result.code == 1 and 'There are no experiments matched' in result.out
    result = nnictl('stop')
    assert (result.code, result.out) == (1, 'ERROR: There is no experiment running...\n')
    assert nnictl('stop', '--all').code == 0


def test_stop_prefix_ambiguous(nnictl, workdir, live_pid):
    make_experiment(workdir, 'abc00001', status='RUNNING', pid=live_pid, port=8080)
    make_experiment(workdir, 'abc00002', status='RUNNING', pid=live_pid, port=8081)
    result = nnictl('stop', 'abc')
    assert result.code == 1
    assert result.out == 'ERROR: abc is ambiguous, please choose abc00001 abc00002\n'
    result = nnictl('stop', 'abc00001', '--port', '8081')
    assert result.code == 1
    assert result.out == 'ERROR: Experiment id and restful server port not match\n'


# ---------------------------------------------------------------------------------------------------------
# logs, config, webui


def test_log_files(nnictl, workdir):
    root = make_experiment(workdir, 'stopped1', [1.0])
    result = nnictl('log', 'stdout', 'stopped1')
    assert result.code == 0
    assert result.out == ''.join(f'stdout line {i}\n' for i in range(5)) + '\n'
    assert nnictl('log', 'stdout', 'stopped1', '--head', '2').out == 'stdout line 0\nstdout line 1\n\n'
    assert nnictl('log', 'stdout', 'stopped1', '-T', '1').out == 'stdout line 4\n\n'
    assert nnictl('log', 'stderr', 'stopped1', '--path').out == f'{root / "log" / "nnictl_stderr.log"}\n'
    (root / 'log' / 'nnictl_stderr.log').unlink()
    result = nnictl('log', 'stderr', 'stopped1')
    assert (result.code, result.out) == (1, f'ERROR: {root / "log" / "nnictl_stderr.log"} does not exist!\n')


def test_log_trial_of_stopped_experiment(nnictl, workdir):
    root = make_experiment(workdir, 'stopped1', [1.0, None])
    result = nnictl('log', 'trial', 'stopped1')
    assert result.code == 0
    assert result.out == ('INFO:  All of trial log info:\n'
                          f'INFO:  id:t0 path:{root / "trials" / "t0"}\n'
                          f'INFO:  id:t1 path:{root / "trials" / "t1"}\n')
    assert nnictl('log', 'trial', 'stopped1', '-T', 't1').out == f'INFO:  id:t1 path:{root / "trials" / "t1"}\n'
    result = nnictl('log', 'trial', 'stopped1', '--trial_id', 'zz')
    assert (result.code, result.out) == (1, 'ERROR: Trial id zz not correct, please check your command!\n')


def test_config_show_reads_the_database(nnictl, workdir):
    make_experiment(workdir, 'stopped1', [1.0])
    result = nnictl('config', 'show', 'stopped1')
    assert result.code == 0
    config = json.loads(result.out)
    assert config['tuner'] == {'name': 'TPE', 'classArgs': {'optimize_mode': 'maximize'}}
    assert result.out.startswith('{\n    "experimentName": "fake",\n')  # stored order, indent 4


def test_webui_url_of_stopped_experiment(nnictl, workdir):
    make_experiment(workdir, 'stopped1', [1.0])
    result = nnictl('webui', 'url', 'stopped1')
    assert result.code == 1
    assert result.out.startswith('ERROR: Experiment is not running...\n')


# ---------------------------------------------------------------------------------------------------------
# export of a stopped experiment (read from its database)


def test_export_json_and_csv_from_database(nnictl, workdir, tmp_path):
    make_experiment(workdir, 'stopped1', [0.5, None, {'default': 0.75, 'loss': 0.2}])
    target = tmp_path / 'out.json'
    result = nnictl('experiment', 'export', 'stopped1', '--type', 'json', '--filename', str(target))
    assert result.code == 0
    assert result.out == f'INFO:  Export 2 trial results of experiment stopped1 to {target}.\n'
    text = target.read_text()
    assert not text.endswith('\n')
    assert json.loads(text) == [
        {'parameter': {'x': 0, 'name': 'n0'}, 'value': '0.5', 'trialJobId': 't0'},
        {'parameter': {'x': 2, 'name': 'n2'}, 'value': '{"default": 0.75, "loss": 0.2}', 'trialJobId': 't2'},
    ]
    nnictl('experiment', 'export', 'stopped1', '-t', 'json', '-f', str(target), '-i')
    assert [r['intermediate'] for r in json.loads(target.read_text())] == [['0.0', '0.0'], ['0.2', '0.4']]  # decoded once, as NNI

    target = tmp_path / 'out.csv'
    assert nnictl('experiment', 'export', 'stopped1', '-t', 'csv', '-f', str(target), '--intermediate').code == 0
    raw = target.read_bytes().decode()
    assert raw.splitlines()[0] == 'x,name,reward,default,loss,trialJobId,intermediate'
    assert '\r\n' in raw
    rows = list(csv.DictReader(io.StringIO(raw)))
    assert rows[0] == {'x': '0', 'name': 'n0', 'reward': '0.5', 'default': '', 'loss': '', 'trialJobId': 't0',
                       'intermediate': '[0.0,0.0]'}
    assert rows[1]['default'] == '0.75' and rows[1]['reward'] == ''


def test_export_csv_without_results(nnictl, workdir, tmp_path):
    make_experiment(workdir, 'stopped1', [None])
    target = tmp_path / 'out.csv'
    result = nnictl('experiment', 'export', 'stopped1', '-t', 'csv', '-f', str(target))
    assert (result.code, result.out) == (1, 'ERROR: No trial results collected! Please check your trial log...\n')
    assert not target.exists()
    result = nnictl('experiment', 'export', 'stopped1', '-t', 'json', '-f', str(target))
    assert result.code == 0 and target.read_text() == '[]'


# ---------------------------------------------------------------------------------------------------------
# delete


def test_delete_errors(nnictl, workdir, live_pid):
    result = nnictl('experiment', 'delete')
    assert (result.code, result.out) == (1, 'ERROR: please set experiment id.\n')
    result = nnictl('experiment', 'delete', 'nosuchid')
    assert (result.code, result.out) == (1, 'ERROR: Cannot find experiment nosuchid.\n')
    make_experiment(workdir, 'live0001', status='RUNNING', pid=live_pid)
    result = nnictl('experiment', 'delete', 'live0001', '--yes')
    assert result.code == 1
    assert result.out == 'ERROR: Experiment live0001 is RUNNING; stop it first with "nnictl stop live0001".\n'
    assert (workdir / 'live0001').is_dir()


def test_delete_asks_then_removes(nnictl, workdir, nni_env):
    root = make_experiment(workdir, 'stopped1', [1.0])
    result = nnictl('experiment', 'delete', 'stopped1', stdin='n\n')
    assert result.code == 0
    assert result.out == ("INFO: This action will delete experiment stopped1, and it's not recoverable.\n"
                          'INFO: do you want to continue?[y/N]:')
    assert root.is_dir() and 'stopped1' in manifest(nni_env)
    result = nnictl('experiment', 'delete', 'stopped1', stdin='maybe\nyes\n')
    assert result.code == 0
    assert 'WARNING: please input Y or N.' in result.out
    assert f'INFO:  removing folder {root}\n' in result.out
    assert result.out.endswith('INFO:  removing metadata of experiment stopped1\nINFO:  Done.\n')
    assert not root.exists() and 'stopped1' not in manifest(nni_env)


def test_delete_closed_stdin_needs_yes(nnictl, workdir):
    root = make_experiment(workdir, 'stopped1', [1.0])
    result = nnictl('experiment', 'delete', 'stopped1', stdin='')
    assert result.code == 1 and 'use --yes' in result.out
    assert root.is_dir()


def test_delete_all_skips_running(nnictl, workdir, nni_env, live_pid):
    make_experiment(workdir, 'stopped1', [1.0])
    make_experiment(workdir, 'stopped2', [])
    make_experiment(workdir, 'live0001', status='RUNNING', pid=live_pid)
    result = nnictl('experiment', 'delete', '--all', '-y')
    assert result.code == 0
    assert 'WARNING: Experiment live0001 is RUNNING, skipped' in result.out
    assert set(manifest(nni_env)) == {'live0001'}
    assert not (workdir / 'stopped1').exists() and not (workdir / 'stopped2').exists()


# ---------------------------------------------------------------------------------------------------------
# save / load


def test_save_load_round_trip(nnictl, workdir, tmp_path, nni_env):
    code = workdir / 'code'
    code.mkdir()
    (code / 'trial.py').write_text('print(1)\n')
    space_file = tmp_path / 'space.json'
    space_file.write_text('{"x": {"_type": "randint", "_value": [0, 10]}}')
    root = make_experiment(workdir, 'stopped1', [0.5, 0.7], params={'searchSpaceFile': str(space_file)})
    archives = tmp_path / 'archives'
    result = nnictl('experiment', 'save', 'stopped1', '--path', str(archives), '--saveCodeDir')
    assert result.code == 0
    archive = archives / 'nni_experiment_stopped1.zip'
    assert result.out == f'INFO:  Saving...\nINFO:  Save to {archive} success!\n'
    names = set(zipfile.ZipFile(archive).namelist())
    assert {'experiment/db/nni.sqlite', 'experiment/trials/t0/trial.log', 'nnictl/.experiment',
            'nnictl/stopped1/log/nnictl_stdout.log', 'code/trial.py', 'searchSpace/space.json',
            'experiment/checkpoint/'} <= names
    assert 'experiment/db/token' not in names

    # the other machine: the experiment is gone from here
    assert nnictl('experiment', 'delete', 'stopped1', '-y').code == 0
    new_workdir = tmp_path / 'elsewhere'
    new_workdir.mkdir()
    new_code = tmp_path / 'newcode'
    result = nnictl('experiment', 'load', '--path', str(archive), '--codeDir', str(new_code), '--logDir',
                    str(new_workdir), '--searchSpacePath', str(tmp_path / 'ss' / 'space.json'))
    assert result.code == 0, result.out
    assert result.out == 'INFO:  Loading...\nINFO:  Load experiment stopped1 success!\n'
    entry = manifest(nni_env)['stopped1']
    assert entry['status'] == 'STOPPED' and entry['logDir'] == str(new_workdir)
    assert 'pid' not in entry and 'port' not in entry
    assert (new_code / 'trial.py').read_text() == 'print(1)\n'
    assert (tmp_path / 'ss' / 'space.json').is_file()
    config = json.loads(nnictl('config', 'show', 'stopped1').out)
    assert config['trialCodeDirectory'] == str(new_code)
    assert config['experimentWorkingDirectory'] == str(new_workdir)
    assert config['searchSpaceFile'] == str(tmp_path / 'ss' / 'space.json')
    paths = nnictl('log', 'trial', 'stopped1').out
    assert str(new_workdir / 'stopped1' / 'trials' / 't0') in paths and str(root) not in paths
    listing = nnictl('experiment', 'list', '--all', '--json').json()
    assert listing[0]['bestMetric'] == 0.7
    # loading again: the id exists now
    result = nnictl('experiment', 'load', '-p', str(archive), '-l', str(new_workdir))
    assert (result.code, result.out) == (1, 'INFO:  Loading...\nERROR: Invalid: experiment id already exist!\n')


def test_save_and_load_errors(nnictl, workdir, tmp_path, live_pid):
    assert nnictl('experiment', 'save').out == 'ERROR: Please set experiment id.\n'
    assert nnictl('experiment', 'save', 'nosuchid').out == 'INFO:  Saving...\nERROR: Cannot find experiment nosuchid.\n'
    make_experiment(workdir, 'live0001', status='RUNNING', pid=live_pid)
    result = nnictl('experiment', 'save', 'live0001')
    assert result.code == 1 and 'ERROR: Can only save stopped experiment!' in result.out
    result = nnictl('experiment', 'load', '-p', str(tmp_path / 'nope.zip'))
    assert (result.code, result.out) == (1, f'ERROR: file path {tmp_path / "nope.zip"} does not exist!\n')
    bad = tmp_path / 'bad.zip'
    with zipfile.ZipFile(bad, 'w') as archive:
        archive.writestr('experiment/log/x', 'x')
    result = nnictl('experiment', 'load', '-p', str(bad))
    assert result.out.endswith('ERROR: Invalid archive file: db file does not exist!\n')
    result = nnictl('experiment', 'load', '-p', str(bad), '-s', str(tmp_path))
    assert 'search space path should be a full path with filename' in result.out


# ---------------------------------------------------------------------------------------------------------
# update / import / top argument checks (before any experiment is needed)


@pytest.mark.parametrize(('args', 'message'), [
    (['update', 'concurrency', '-v', '0'], 'ERROR: value (0) must be a digit from 1 to 1000\n'),
    (['update', 'concurrency', '--value', 'two'], 'ERROR: value (two) must be a digit from 1 to 1000\n'),
    (['update', 'trialnum', '-v', '-3'], 'ERROR: value (-3) must be a digit from 1 to 999999999\n'),
    (['update', 'duration', '-v', '1x'],
     "ERROR: Invalid duration '1x': give a number with unit s, m, h or d, such as 30m or 1.5h.\n"),
    (['update', 'searchspace', '-f', '/nonexistent.json'], 'ERROR: /nonexistent.json is not a valid file path\n'),
    (['experiment', 'import', '-f', '/nonexistent.json'], 'ERROR: /nonexistent.json is not a valid file path\n'),
    (['top', '--time', '0'], 'ERROR: please input a positive integer as time interval, the unit is second.\n'),
    (['trial', 'ls', '--head', '1', '--tail', '1'], 'ERROR: Head and tail cannot be set at the same time.\n'),
])
def test_argument_checks(nnictl, args, message):
    result = nnictl(*args)
    assert (result.code, result.out) == (1, message)


def test_update_duration_parsing():
    from nni.tools.nnictl.update import parse_duration

    assert parse_duration('30m') == 1800
    assert parse_duration('1.5h') == 5400
    assert parse_duration('90') == 90
    assert parse_duration('2d') == 172800


def test_import_rejects_bad_file(nnictl, tmp_path):
    path = tmp_path / 'data.json'
    path.write_text('{"not": "a list"}')
    result = nnictl('experiment', 'import', '-f', str(path))
    assert result.code == 1 and 'must hold a JSON list' in result.out
    path.write_text('[{"parameter": ')
    assert 'is not valid JSON' in nnictl('experiment', 'import', '-f', str(path)).out


def test_top_without_experiments(nnictl):
    result = nnictl('top')
    assert (result.code, result.out) == (1, 'There is no experiment running...\n')


def test_top_loops_until_ctrl_c(nnictl, workdir, monkeypatch):
    make_experiment(workdir, 'stopped1', [1.0])
    calls = []

    def sleep(seconds: float) -> None:
        calls.append(seconds)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr('nni.tools.nnictl.top.time.sleep', sleep)
    result = nnictl('top', '-t', '7')
    assert result.code == 0
    assert calls == [7, 7]
    assert result.out == 'WARNING: There is no experiment running...\n' * 2 + 'INFO:  Exiting...\n'


def test_platform_clean(nnictl, tmp_path):
    assert nnictl('platform', 'clean', '-c', str(tmp_path / 'no.yml')).out == 'ERROR: Please set correct config path.\n'
    config = tmp_path / 'config.yml'
    config.write_text('trainingService:\n  platform: local\n')
    result = nnictl('platform', 'clean', '--config', str(config))
    assert (result.code, result.out) == (0, 'INFO:  it doesn’t need to clean local platform.\n')
    config.write_text('trainingServicePlatform: pai\n')
    assert nnictl('platform', 'clean', '-c', str(config)).out == 'INFO:  platform pai not supported.\n'
    config.write_text('trainingService:\n  platform: remote\n  machineList:\n  - host: 10.0.0.9\n    user: bob\n')
    result = nnictl('platform', 'clean', '-c', str(config), stdin='n\n')
    assert result.code == 0
    assert '       10.0.0.9:22/tmp/nni-experiments\n' in result.out
    assert '       10.0.0.9:22~/nni-remote\n' in result.out
    assert result.out.endswith('INFO: do you want to continue?[y/N]:')


@pytest.mark.slow
def test_console_script_runs(nni_env):
    from .conftest import run_console

    completed = run_console('experiment', 'list', '--json')
    assert completed.returncode == 0 and json.loads(completed.stdout) == []
    completed = run_console('trial', 'ls', 'nosuchid')
    assert completed.returncode == 1
    assert completed.stdout == 'INFO:  There is no experiment running...\nERROR: Please set correct experiment id.\n'
    completed = run_console('nosuchcommand')
    assert completed.returncode == 2 and 'invalid choice' in completed.stderr


def test_nnictl_output_is_plain_when_piped(nnictl, workdir):
    make_experiment(workdir, 'stopped1', [1.0])
    result = nnictl('trial', 'ls', 'x')
    assert '\x1b[' not in result.out


def test_help_lists_commands(nnictl, capsys):
    from nni.tools.nnictl.cli import build_parser

    text = build_parser().format_help()
    for command in ('create', 'resume', 'view', 'update', 'stop', 'trial', 'experiment', 'platform', 'webui',
                    'config', 'log', 'algo', 'top', 'ss_gen'):
        assert command in text


def test_manifest_path_is_per_test(nni_env):
    assert Path(os.environ['NNI_HOME_DIR']) == nni_env
