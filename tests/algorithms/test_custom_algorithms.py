"""A user's Tuner and Assessor written for NNI run unchanged through the registry (className +
codeDirectory), using the parts of NNI's base classes such algorithms rely on."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from nni.algorithms.hpo.registry import create_algorithm, validate_algorithm_config

USER_CODE = textwrap.dedent('''
    """Written against NNI 3.0's public API only."""
    import json
    import logging
    import random

    import nni
    from nni.assessor import Assessor, AssessResult
    from nni.tuner import Tuner
    from nni.utils import OptimizeMode, extract_scalar_history, extract_scalar_reward

    logger = logging.getLogger("my_tuner")


    class MyTuner(Tuner):
        def __init__(self, optimize_mode="maximize", seed=0):
            self.optimize_mode = OptimizeMode(optimize_mode)
            self.rng = random.Random(seed)
            self.space = None
            self.best = None
            self.results = {}
            self.ended = []
            self.imported = []
            self._accept_customized_trials()  # results of hand-added trials come here too

        def update_search_space(self, search_space):
            self.space = search_space

        def generate_multiple_parameters(self, parameter_id_list, **kwargs):
            # Overridden, as some NNI tuners do: one batch, then "no more" once the budget is used.
            out = []
            for parameter_id in parameter_id_list:
                if len(self.results) + len(out) >= 6:
                    break
                out.append(self.generate_parameters(parameter_id, **kwargs))
            return out

        def generate_parameters(self, parameter_id, **kwargs):
            if parameter_id in self.recovered_trial_params:  # resumed: same parameters again
                return self.recovered_trial_params[parameter_id]
            if len(self.results) >= 8:
                raise nni.NoMoreTrialError("budget used")
            return {name: self.rng.choice(spec["_value"]) for name, spec in self.space.items()}

        def receive_trial_result(self, parameter_id, parameters, value, **kwargs):
            reward = extract_scalar_reward(value)
            self.results[parameter_id] = (parameters, reward, kwargs.get("customized", False))
            better = self.best is None or (
                reward > self.best[1] if self.optimize_mode == OptimizeMode.Maximize else reward < self.best[1])
            if better:
                self.best = (parameters, reward)

        def trial_end(self, parameter_id, success, **kwargs):
            self.ended.append((parameter_id, success))

        def import_data(self, data):
            for record in data:
                self.imported.append((json.dumps(record["parameter"], sort_keys=True),
                                      extract_scalar_reward(record["value"])))


    class MyAssessor(Assessor):
        def __init__(self, patience=2):
            self.patience = patience
            self.completed = []

        def assess_trial(self, trial_job_id, trial_history):
            history = extract_scalar_history(trial_history)
            if len(history) > self.patience and max(history[-self.patience:]) <= history[0]:
                return AssessResult.Bad
            return AssessResult.Good

        def trial_end(self, trial_job_id, success):
            if success:
                self.completed.append(trial_job_id)
''')


@pytest.fixture
def code_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "my_algorithms.py").write_text(USER_CODE)
    monkeypatch.setattr("sys.path", list(sys.path))  # the registry appends codeDirectory; undo it after
    monkeypatch.delitem(sys.modules, "my_algorithms", raising=False)
    return tmp_path


def test_custom_tuner_runs_unchanged(code_directory: Path) -> None:
    config = {"className": "my_algorithms.MyTuner", "codeDirectory": str(code_directory),
              "classArgs": {"optimize_mode": "minimize", "seed": 3}}  # fmt: skip
    assert validate_algorithm_config(config, "tuner") == []
    tuner: Any = create_algorithm(config, "tuner")
    assert tuner._accept_customized is True
    space = {"x": {"_type": "choice", "_value": [1, 2, 3]}, "y": {"_type": "choice", "_value": ["a", "b"]}}
    tuner.update_search_space(space)

    # What the dispatcher does on a resume: recover earlier ids, replay results as imported data.
    assert tuner.recover_parameter_id([
        {"parameter_id": 0, "parameter_source": "algorithm", "parameters": {"x": 2, "y": "b"}, "parameter_index": 0},
        json.dumps({"parameter_id": 1, "parameters": {"x": 1, "y": "a"}}),
    ]) == 1  # fmt: skip
    assert tuner.is_created_in_previous_exp(1) and not tuner.is_created_in_previous_exp(2)
    tuner.import_data([{"parameter": {"x": 1, "y": "a"}, "value": {"default": 0.5, "acc": 0.9}}])
    assert tuner.imported == [('{"x": 1, "y": "a"}', 0.5)]
    assert tuner.generate_parameters(0) == {"x": 2, "y": "b"}  # resumed id: its old parameters

    batch = tuner.generate_multiple_parameters([2, 3, 4, 5], st_callback=lambda *a: None)
    assert len(batch) == 4 and all(p["x"] in (1, 2, 3) and p["y"] in ("a", "b") for p in batch)
    for parameter_id, params in zip([2, 3, 4, 5], batch, strict=True):
        tuner.receive_trial_result(parameter_id, params, {"default": float(params["x"])}, trial_job_id="abc")
        tuner.trial_end(parameter_id, True)
    tuner.receive_trial_result(None, {"x": 3, "y": "a"}, 0.25, customized=True)
    tuner.trial_end(None, False)
    assert tuner.best == ({"x": 3, "y": "a"}, 0.25)
    assert tuner.results[None][2] is True and tuner.ended[-1] == (None, False)
    assert len(tuner.generate_multiple_parameters([6, 7, 8])) == 1  # its own budget rule
    tuner.results.update({i: None for i in range(10, 13)})
    assert tuner.generate_multiple_parameters([9]) == []  # NoMoreTrialError from generate_parameters
    tuner.load_checkpoint()
    tuner.save_checkpoint()


def test_custom_assessor_runs_unchanged(code_directory: Path) -> None:
    config = {"className": "my_algorithms.MyAssessor", "codeDirectory": str(code_directory),
              "classArgs": {"patience": 2}}  # fmt: skip
    assert validate_algorithm_config(config, "assessor") == []
    assessor: Any = create_algorithm(config, "assessor")
    from nni.assessor import AssessResult

    assert assessor.assess_trial("t1", [0.5]) is AssessResult.Good
    assert assessor.assess_trial("t1", [0.5, {"default": 0.7}, 0.8]) is AssessResult.Good
    assert assessor.assess_trial("t2", [0.5, 0.4, {"default": 0.3, "loss": 1}]) is AssessResult.Bad
    assessor.trial_end("t1", True)
    assessor.trial_end("t2", False)
    assert assessor.completed == ["t1"]
    with pytest.raises(ValueError, match="unexpected keyword argument"):
        create_algorithm({**config, "classArgs": {"patience": 2, "bad": 1}}, "assessor")


def test_subclass_of_a_builtin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Users also extend builtins by their NNI class path.
    (tmp_path / "my_tpe.py").write_text(textwrap.dedent('''
        from nni.algorithms.hpo.tpe_tuner import TpeTuner

        class LoggingTpe(TpeTuner):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.seen = []

            def receive_trial_result(self, parameter_id, parameters, value, **kwargs):
                self.seen.append(value)
                super().receive_trial_result(parameter_id, parameters, value, **kwargs)
    '''))
    monkeypatch.setattr("sys.path", list(sys.path))
    tuner: Any = create_algorithm({"className": "my_tpe.LoggingTpe", "codeDirectory": str(tmp_path),
                                   "classArgs": {"optimize_mode": "maximize", "seed": 1}}, "tuner")  # fmt: skip
    tuner.update_search_space({"x": {"_type": "uniform", "_value": [0, 1]}})
    params = tuner.generate_parameters(0)
    tuner.receive_trial_result(0, params, 0.5)
    assert tuner.seen == [0.5] and 0 <= tuner.generate_parameters(1)["x"] <= 1
