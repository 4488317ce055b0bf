"""Config forms end to end: v1 YAML, v2 YAML, and platforms this version cannot run yet."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from .conftest import TRIAL_CODE, free_port

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_v1_yaml_experiment_runs_to_done(tmp_path: Path, workdir: Path):
    from nni.experiment import Experiment
    from nni.experiment.config import ExperimentConfig

    (tmp_path / 'search_space.json').write_text(
        '{"x": {"_type": "randint", "_value": [0, 10]}, "y": {"_type": "choice", "_value": [0, 1]}}')
    (tmp_path / 'config_v1.yml').write_text(textwrap.dedent(f'''
        authorName: someone
        experimentName: v1_example
        trialConcurrency: 2
        maxExecDuration: 1h
        maxTrialNum: 4
        trainingServicePlatform: local
        searchSpacePath: search_space.json
        useAnnotation: false
        logDir: {workdir}
        tuner:
          builtinTunerName: TPE
          classArgs:
            optimize_mode: maximize
        trial:
          command: {sys.executable} trial.py
          codeDir: {TRIAL_CODE}
          gpuNum: 0
    '''))
    config = ExperimentConfig.load(tmp_path / 'config_v1.yml')
    assert config.max_trial_number == 4 and config.tuner.name == 'TPE'
    experiment = Experiment(config)
    try:
        assert experiment.run(free_port()) is True
        results = experiment.export_data()
        assert len(results) == 4
        assert all(r.value == r.parameter['x'] * 10 + r.parameter['y'] for r in results)
    finally:
        experiment.stop()


def _aml() -> dict:
    return {'platform': 'aml', 'dockerImage': 'msranni/nni', 'subscriptionId': 'sub-0001',
            'resourceGroup': 'my-group', 'workspaceName': 'my-workspace', 'computeTarget': 'gpu-cluster'}


def _dlc() -> dict:
    return {'platform': 'dlc', 'type': 'Worker', 'image': 'registry.example.com/pytorch:1.6.0',
            'jobType': 'PyTorchJob', 'podCount': 1, 'ecsSpec': 'ecs.c6.large', 'region': 'cn-hangzhou',
            'workspaceId': 'ws-0001', 'accessKeyId': 'ak-id', 'accessKeySecret': 'ak-secret',
            'nasDataSourceId': 'nas-0001', 'ossDataSourceId': 'oss-0001',
            'localStorageMountPoint': '/home/admin/workspace/', 'containerStorageMountPoint': '/root/data/'}


@pytest.mark.parametrize('service', [_aml, _dlc])
def test_platforms_not_available_fail_fast_and_leave_nothing(service, workdir, nni_home):
    from nni.experiment import Experiment
    from nni.experiment.config import ExperimentConfig

    training_service = service()
    config = ExperimentConfig(
        search_space={'x': {'_type': 'choice', '_value': [1, 2]}}, trial_command='python3 trial.py',
        trial_concurrency=1, max_trial_number=2, tuner={'name': 'TPE'},
        experiment_working_directory=str(workdir), training_service=training_service)
    config.validate()  # the config itself is complete and valid
    experiment = Experiment(config)
    platform = training_service['platform']
    with pytest.raises(RuntimeError, match=f'"{platform}" is not available in this version of nni'):
        experiment.start(free_port())
    assert experiment._proc is None
    assert list(workdir.iterdir()) == []
    manifest = nni_home / '.experiment'
    assert not manifest.exists() or experiment.id not in manifest.read_text()
