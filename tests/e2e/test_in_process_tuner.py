"""The legacy launch form: a tuner object living in the user's process drives the experiment."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from nni.tuner import Tuner

from .conftest import TRIAL_CODE, free_port

pytestmark = [pytest.mark.slow, pytest.mark.integration]


class CountingTuner(Tuner):
    """Suggests x = 0, 1, 2, ... and records every result it is given."""

    def __init__(self) -> None:
        self.space = None
        self.results: dict[int, float] = {}
        self.ended: list[tuple[int, bool]] = []

    def update_search_space(self, search_space):
        self.space = search_space

    def generate_parameters(self, parameter_id, **kwargs):
        return {'x': parameter_id, 'y': 1}

    def receive_trial_result(self, parameter_id, parameters, value, **kwargs):
        self.results[parameter_id] = value

    def trial_end(self, parameter_id, success, **kwargs):
        self.ended.append((parameter_id, success))


def test_in_process_tuner_object_runs_the_experiment(workdir):
    from nni.experiment import Experiment

    tuner = CountingTuner()
    experiment = Experiment(tuner, 'local')
    config = experiment.config
    config.experiment_working_directory = str(workdir)
    config.search_space = {'x': {'_type': 'randint', '_value': [0, 100]}}
    config.trial_command = f'{sys.executable} trial.py'
    config.trial_code_directory = TRIAL_CODE
    config.trial_concurrency = 2
    config.max_trial_number = 5
    try:
        assert experiment.run(free_port()) is True
        results = experiment.export_data()
        assert sorted(result.value for result in results) == [1, 11, 21, 31, 41]
        assert tuner.space == {'x': {'_type': 'randint', '_value': [0, 100]}}
        assert tuner.results == {i: i * 10 + 1 for i in range(5)}
        assert sorted(tuner.ended) == [(i, True) for i in range(5)]
    finally:
        experiment.stop()


def test_seed_style_script_with_keyword_arguments(tmp_path: Path, workdir, nni_home):
    script = tmp_path / 'launch.py'
    script.write_text(textwrap.dedent(f'''
        import sys
        from nni.experiment import Experiment
        from nni.tuner import Tuner

        class FixedTuner(Tuner):
            def update_search_space(self, search_space):
                pass
            def generate_parameters(self, parameter_id, **kwargs):
                return {{'x': 3, 'y': parameter_id}}
            def receive_trial_result(self, parameter_id, parameters, value, **kwargs):
                pass

        experiment = Experiment(tuner=FixedTuner(), training_service='local')
        experiment.config.experiment_working_directory = {str(workdir)!r}
        experiment.config.trial_concurrency = 2
        experiment.config.max_trial_number = 3
        experiment.config.search_space = {{'x': {{'_type': 'choice', '_value': [3]}}}}
        experiment.config.trial_command = {f'{sys.executable} trial.py'!r}
        experiment.config.trial_code_directory = {str(TRIAL_CODE)!r}
        ok = experiment.run(port={free_port()})
        print('RESULT', ok, sorted(r.value for r in experiment.export_data()))
    '''))
    import subprocess

    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert 'RESULT True [30, 31, 32]' in result.stdout, result.stdout + result.stderr


def test_seed_launch_script_with_hyperopt_tuner(workdir):
    """NNI's launch-from-Python page: ``Experiment(tuner=HyperoptTuner('tpe'), training_service='local')``."""
    from nni.algorithms.hpo.hyperopt_tuner import HyperoptTuner
    from nni.experiment import Experiment

    tuner = HyperoptTuner('tpe', optimize_mode='maximize')
    experiment = Experiment(tuner=tuner, training_service='local')
    experiment.config.experiment_name = 'test'
    experiment.config.experiment_working_directory = str(workdir)
    experiment.config.trial_concurrency = 2
    experiment.config.max_trial_number = 5
    experiment.config.search_space = {'x': {'_type': 'randint', '_value': [0, 10]},
                                      'y': {'_type': 'choice', '_value': [0, 1, 2]}}
    experiment.config.trial_command = f'{sys.executable} trial.py'
    experiment.config.trial_code_directory = TRIAL_CODE
    experiment.config.training_service.use_active_gpu = True
    try:
        assert experiment.run(port=free_port()) is True
        results = experiment.export_data()
        assert len(results) == 5
        assert all(r.value == r.parameter['x'] * 10 + r.parameter['y'] for r in results)
    finally:
        experiment.stop()
