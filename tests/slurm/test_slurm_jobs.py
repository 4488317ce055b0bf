"""The Slurm service's pieces that need no cluster: batch script, sbatch options, squeue parsing, config."""

from __future__ import annotations

import asyncio
import os
import subprocess
import warnings
from pathlib import Path

import pytest

from nni.manager.training_service.base import TrainingServiceError, TrialSpec
from nni.manager.training_service.slurm import SlurmTrainingService
from nni.manager.training_service.slurm_jobs import (
    batch_script,
    comment_trial,
    failure_message,
    job_comment,
    parse_sacct,
    parse_squeue,
    sbatch_options,
    slurm_time,
)


def test_batch_script_runs_the_trial_in_its_environment_and_records_the_exit_code(tmp_path: Path) -> None:
    trial_dir = tmp_path / 'trial dir'  # a space: everything must be quoted
    code_dir = tmp_path / 'code'
    code_dir.mkdir()
    bin_dir = tmp_path / 'env bin'
    bin_dir.mkdir()
    script = batch_script(trial_id='abc', attempt=0, experiment_id='exp', trial_dir=str(trial_dir),
                          code_dir=str(code_dir), command='printf "%s\\n" "$NNI_TRIAL_JOB_ID" "$PWD" "$PROLOGUE" "${PATH%%:*}" "${HOME_CHANNEL-unset}"; exit 7',
                          env={'NNI_TRIAL_JOB_ID': "it's abc"}, prologue=['export PROLOGUE=ran'],
                          python_path=str(bin_dir), unset=('HOME_CHANNEL',))
    path = tmp_path / 'job.sh'
    path.write_text(script)
    result = subprocess.run(['bash', str(path)], capture_output=True, text=True,
                            env=dict(os.environ, HOME_CHANNEL='x'))
    assert result.returncode == 7
    assert result.stdout.splitlines() == ["it's abc", str(code_dir), 'ran', str(bin_dir), 'unset']
    assert (trial_dir / '.nni' / 'exitcode').read_text().strip() == '7'


def test_batch_script_records_a_missing_code_dir(tmp_path: Path) -> None:
    script = batch_script(trial_id='abc', attempt=1, experiment_id='exp', trial_dir=str(tmp_path / 't'),
                          code_dir=str(tmp_path / 'nope'), command='true', env={}, prologue=[], python_path=None)
    result = subprocess.run(['bash', '-c', script], capture_output=True, text=True)
    assert result.returncode == 1
    assert 'cannot enter the trial code directory' in result.stderr
    assert (tmp_path / 't' / '.nni' / 'exitcode').read_text().strip() == '1'


def test_sbatch_options_from_the_config() -> None:
    config = {'partition': 'gpu', 'account': 'lab', 'qos': 'long', 'timeLimit': '90m', 'cpusPerTrial': 4,
              'memoryPerTrial': '8gb', 'sbatchOptions': ['--exclusive', '--constraint=a100']}
    assert sbatch_options(config, gpu_number=2) == [
        '--partition=gpu', '--account=lab', '--qos=long', '--time=0-01:30:00', '--cpus-per-task=4', '--mem=8192M',
        '--gres=gpu:2', '--exclusive', '--constraint=a100']
    assert sbatch_options({'gpusPerTrial': 1}, gpu_number=4) == ['--gres=gpu:1']
    assert sbatch_options({'gpusPerTrial': 0}, gpu_number=4) == []
    assert sbatch_options({}, gpu_number=None) == []


def test_slurm_time_rounds_up_to_minutes() -> None:
    assert slurm_time(1) == '0-00:01:00'
    assert slurm_time(61) == '0-00:02:00'
    assert slurm_time(2 * 86400 + 3600) == '2-01:00:00'


def test_squeue_and_sacct_parsing() -> None:
    rows = parse_squeue('12|RUNNING|0|nni:exp:abc:0|None\n'
                        '13|FAILED|768|nni:exp:def:1|NonZeroExitCode\n'
                        '14|TIMEOUT|15|(null)|TimeLimit\n'
                        'garbage\n')
    assert set(rows) == {'12', '13', '14'}
    assert rows['13'].exit_code == 3 and rows['14'].exit_code is None and rows['14'].comment == ''
    assert comment_trial(rows['13'].comment, 'exp') == ('def', 1)
    assert comment_trial(rows['13'].comment, 'other') is None
    assert comment_trial(job_comment('e', 't', 2), 'e') == ('t', 2)
    accounted = parse_sacct('20|COMPLETED|0:0\n20.batch|COMPLETED|0:0\n21|CANCELLED by 0|0:15\n')
    assert set(accounted) == {'20', '21'}
    assert accounted['20'].exit_code == 0 and accounted['21'].state == 'CANCELLED'
    assert accounted['21'].exit_code is None


def test_failure_messages_name_the_reason() -> None:
    assert 'time limit (timeLimit 1m)' in failure_message('5', 'TIMEOUT', 'TimeLimit', time_limit='timeLimit 1m')
    assert 'out of memory (memoryPerTrial 2gb)' in failure_message('5', 'OUT_OF_MEMORY', '', memory='2gb')
    assert 'node failed' in failure_message('5', 'NODE_FAIL', '')
    assert 'preempted' in failure_message('5', 'PREEMPTED', '')
    assert failure_message('5', 'COMPLETED', 'None') is None
    assert failure_message('5', 'FAILED', 'NonZeroExitCode') is None


def _spec(tmp_path: Path, trial_id: str = 'abc') -> TrialSpec:
    return TrialSpec(trial_id=trial_id, sequence_id=0, command='true', code_dir=tmp_path, trial_dir=tmp_path / trial_id,
                     parameter_record='{}', env={'NNI_TRIAL_COMMAND_CHANNEL': 'http://127.0.0.1:8080/env/slurm-env/abc',
                                                 'NNI_SYS_DIR': str(tmp_path / trial_id)})


def test_metrics_channel_follows_the_config(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    root = tmp_path / 'exp1'
    env, unset = SlurmTrainingService({'nniManagerIp': '10.1.2.3'}, root)._trial_env(spec, 'd')
    assert env['NNI_TRIAL_COMMAND_CHANNEL'] == 'http://10.1.2.3:8080/env/slurm-env/abc' and not unset
    env, unset = SlurmTrainingService({}, root)._trial_env(spec, 'd')
    assert env['NNI_TRIAL_COMMAND_CHANNEL'] == 'http://127.0.0.1:8080/env/slurm-env/abc'
    env, unset = SlurmTrainingService({'metricsChannel': 'file'}, root)._trial_env(spec, 'd')
    assert 'NNI_TRIAL_COMMAND_CHANNEL' not in env and unset == ('NNI_TRIAL_COMMAND_CHANNEL',)
    assert env['NNI_SYS_DIR'] == 'd'


def test_shared_directory_holds_the_trial_folders(tmp_path: Path) -> None:
    service = SlurmTrainingService({'sharedDirectory': str(tmp_path / 'shared')}, tmp_path / 'exp1')
    spec = _spec(tmp_path)
    assert service.log_path(spec) == f'{tmp_path}/shared/exp1/trials/abc'


def test_start_says_when_sbatch_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('PATH', str(tmp_path))  # no Slurm client here
    service = SlurmTrainingService({'partition': 'debug'}, tmp_path / 'exp1')
    with pytest.raises(TrainingServiceError) as caught:
        asyncio.run(service.start())
    message = str(caught.value)
    assert 'sbatch' in message and 'not found on this machine' in message and 'loginHost' in message


def test_config_errors_name_the_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nni.experiment.config import ConfigError, ExperimentConfig, SlurmConfig

    monkeypatch.chdir(tmp_path)
    base = dict(searchSpace={}, trialCommand='python3 trial.py', trialCodeDirectory='.', trialConcurrency=1,
                tuner={'name': 'Random'})
    config = ExperimentConfig(**base, trainingService={
        'platform': 'slurm', 'partition': 'gpu', 'timeLimit': '2h', 'memoryPerTrial': '4g',
        'prologue': 'module load cuda\nconda activate env', 'sharedDirectory': 'shared'})
    service = config.canonical_copy().json()['trainingService']
    assert service['prologue'] == ['module load cuda', 'conda activate env']
    assert service['memoryPerTrial'] == '4gb'
    assert service['sharedDirectory'] == str(tmp_path / 'shared')
    assert isinstance(config.training_service, SlurmConfig)
    cases = {
        'sbatchOptions': (['exclusive'], 'trainingService.sbatchOptions[0]: must be an sbatch option'),
        'timeLimit': ('soon', 'trainingService.timeLimit: must be a positive duration'),
        'metricsChannel': ('ws', "trainingService.metricsChannel: must be one of 'http', 'file'"),
        'cpusPerTrial': (0, 'trainingService.cpusPerTrial: must be a positive integer'),
        'loginHost': ({'host': 'login', 'user': 'me', 'password': 'x'},
                      'trainingService.sharedDirectory: not set, must be a folder on the cluster'),
    }
    for key, (value, expected) in cases.items():
        with pytest.raises(ConfigError) as caught, warnings.catch_warnings():
            warnings.simplefilter('ignore')
            ExperimentConfig(**base, trainingService={'platform': 'slurm', key: value}).validate()
        assert expected in str(caught.value), (key, str(caught.value))
