"""GPU assignment of the local training service, with a fake GPU inventory (CI has no GPU).

``NNI_FAKE_GPU_INVENTORY`` stands in for nvidia-smi; what is tested is the scheduling and the
``CUDA_VISIBLE_DEVICES`` each trial gets.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from .conftest import free_port

pytestmark = [pytest.mark.slow, pytest.mark.integration]

GPU_TRIAL = textwrap.dedent('''
    import json, os, time
    import nni
    nni.get_next_parameter()
    start = time.time()
    time.sleep(0.8)
    record = {'cuda': os.environ.get('CUDA_VISIBLE_DEVICES'), 'start': start, 'end': time.time()}
    with open(os.path.join(os.environ['NNI_OUTPUT_DIR'], 'gpu.json'), 'w') as handle:
        json.dump(record, handle)
    nni.report_final_result(1)
''')


@pytest.fixture
def gpu_trial_dir(tmp_path: Path) -> Path:
    code = tmp_path / 'gpu_trial'
    code.mkdir()
    (code / 'trial.py').write_text(GPU_TRIAL)
    return code


def _records(experiment) -> list[dict]:
    return [json.loads((Path(t.logPath) / 'gpu.json').read_text()) for t in experiment.list_trial_jobs()]


def test_one_gpu_per_trial_limits_parallelism(make_experiment, gpu_trial_dir, monkeypatch):
    monkeypatch.setenv('NNI_FAKE_GPU_INVENTORY', json.dumps([0, 1]))
    experiment = make_experiment(trial_concurrency=4, max_trial_number=4, trial_gpu_number=1)
    experiment.config.trial_code_directory = gpu_trial_dir
    experiment.config.training_service.use_active_gpu = False
    experiment.config.trial_command = f'{sys.executable} trial.py'
    assert experiment.run(free_port()) is True
    records = _records(experiment)
    assert sorted(r['cuda'] for r in records) == ['0', '0', '1', '1']
    # never more than two trials at once (a trial may overlap two that ran one after the other on the
    # other GPU), and never two on one GPU at once
    for moment in [r['start'] for r in records]:
        assert sum(1 for r in records if r['start'] <= moment < r['end']) <= 2
    for first in records:
        overlapping = [r for r in records if r is not first and r['start'] < first['end'] and first['start'] < r['end']]
        assert all(r['cuda'] != first['cuda'] for r in overlapping)


def test_zero_gpus_hides_every_gpu(make_experiment, gpu_trial_dir, monkeypatch):
    monkeypatch.setenv('NNI_FAKE_GPU_INVENTORY', json.dumps([0]))
    experiment = make_experiment(trial_concurrency=1, max_trial_number=1, trial_gpu_number=0)
    experiment.config.trial_code_directory = gpu_trial_dir
    experiment.config.training_service.use_active_gpu = False
    experiment.config.trial_command = f'{sys.executable} trial.py'
    assert experiment.run(free_port()) is True
    assert [r['cuda'] for r in _records(experiment)] == ['']


def test_more_gpus_than_the_machine_has_is_a_clear_error(make_experiment, gpu_trial_dir, monkeypatch):
    monkeypatch.setenv('NNI_FAKE_GPU_INVENTORY', json.dumps([0, 1]))
    experiment = make_experiment(trial_concurrency=1, max_trial_number=1, trial_gpu_number=3)
    experiment.config.trial_code_directory = gpu_trial_dir
    experiment.config.training_service.use_active_gpu = False
    assert experiment.run(free_port()) is False
    status = experiment.get_experiment_profile()
    from nni.experiment import rest

    errors = rest.get(experiment.port, '/check-status')['errors']
    assert 'trialGpuNumber is 3 but only 2 GPU(s)' in errors[0]
    assert status['params']['trialGpuNumber'] == 3
    assert experiment.list_trial_jobs() == []
