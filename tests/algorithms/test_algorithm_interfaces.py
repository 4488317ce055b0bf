"""The public base classes and helpers user algorithms build on: nni.tuner, nni.assessor,
nni.recoverable, nni.utils and nni.NoMoreTrialError."""

from __future__ import annotations

import argparse
import doctest
import importlib
import json
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

from nni._errors import NoMoreTrialError
from nni.assessor import Assessor, AssessResult
from nni.recoverable import Recoverable
from nni.tuner import Tuner
from nni.utils import (
    ClassArgsError,
    ClassArgsValidator,
    MetricType,
    OptimizeMode,
    extract_scalar_history,
    extract_scalar_reward,
    merge_parameter,
    split_index,
)


def test_base_modules_import_only_the_stdlib() -> None:
    code = (
        "import sys\n"
        "import nni._errors, nni.recoverable, nni.tuner, nni.assessor, nni.utils\n"
        "heavy = [m for m in ('numpy', 'yaml', 'starlette', 'nni.common', 'nni.algorithms') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "module",
    ["nni.tuner", "nni.assessor", "nni.utils", "nni.common.hpo_utils.validation", "nni.common.hpo_utils.formatting",
     "nni.common.hpo_utils.dedup", "nni.algorithms.hpo.random_tuner", "nni.algorithms.hpo.tpe_tuner",
     "nni.algorithms.hpo.registry", "nni.algorithms.hpo.evolution_tuner", "nni.algorithms.hpo.hyperopt_tuner",
     "nni.algorithms.hpo.gridsearch_tuner", "nni.algorithms.hpo.batch_tuner"],
)  # fmt: skip
def test_docstring_examples_run(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_no_more_trial_error() -> None:
    error = NoMoreTrialError()
    assert isinstance(error, Exception) and str(error) == "Search space fully explored"
    assert str(NoMoreTrialError("no more parameters now.")) == "no more parameters now."


class _ListTuner(Tuner):
    def __init__(self, values: list[Any]) -> None:
        self.values = list(values)

    def update_search_space(self, search_space: dict[str, Any]) -> None:
        pass

    def generate_parameters(self, parameter_id: int, **kwargs: Any) -> Any:
        if not self.values:
            raise NoMoreTrialError("no more parameters now.")
        return {"v": self.values.pop(0), "kwargs": sorted(kwargs)}

    def receive_trial_result(self, parameter_id: int, parameters: Any, value: Any, **kwargs: Any) -> None:
        pass


def test_tuner_defaults() -> None:
    tuner = _ListTuner([1, 2])
    got = tuner.generate_multiple_parameters([0, 1, 2], st_callback=print)
    assert got == [{"v": 1, "kwargs": ["st_callback"]}, {"v": 2, "kwargs": ["st_callback"]}]
    tuner.trial_end(0, True)
    tuner.import_data([{"parameter": {}, "value": 1}])
    tuner.load_checkpoint()
    tuner.save_checkpoint()
    tuner._on_exit()
    tuner._on_error()
    assert tuner._accept_customized is False
    tuner._accept_customized_trials()
    assert tuner._accept_customized is True
    bare = Tuner()
    for call in (lambda: bare.generate_parameters(0), lambda: bare.update_search_space({}),
                 lambda: bare.receive_trial_result(0, {}, 1)):  # fmt: skip
        with pytest.raises(NotImplementedError):
            call()


def test_assessor_defaults() -> None:
    assert AssessResult.Good.value is True and AssessResult.Bad.value is False
    assessor = Assessor()
    with pytest.raises(NotImplementedError):
        assessor.assess_trial("t", [1])
    assessor.trial_end("t", True)
    assessor.load_checkpoint()
    assessor.save_checkpoint()


def test_recoverable(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    item = Recoverable()
    assert item.recovered_max_param_id == -1 and item.recovered_trial_params == {}
    monkeypatch.delenv("NNI_CHECKPOINT_DIRECTORY", raising=False)
    assert item.get_checkpoint_path() is None
    monkeypatch.setenv("NNI_CHECKPOINT_DIRECTORY", str(tmp_path / "missing"))
    assert item.get_checkpoint_path() is None
    monkeypatch.setenv("NNI_CHECKPOINT_DIRECTORY", str(tmp_path))
    assert item.get_checkpoint_path() == str(tmp_path)

    records = [
        {"parameter_id": 3, "parameter_source": "algorithm", "parameters": {"x": 1}, "parameter_index": 0},
        json.dumps({"parameter_id": 7, "parameters": {"x": 2}}),
        {"parameter_id": "0-4_0_12", "parameters": {"x": 3}},
    ]
    assert item.recover_parameter_id(records) == 7
    assert item.recovered_max_param_id == 7
    assert item.get_previous_param(3) == {"x": 1} and item.get_previous_param("0-4_0_12") == {"x": 3}
    assert item.is_created_in_previous_exp(7) and not item.is_created_in_previous_exp(8)
    assert not item.is_created_in_previous_exp(None)
    assert item.is_created_in_previous_exp("0-4_0_12")  # string ids never raise (NNI issue #5263)
    assert not item.is_created_in_previous_exp("1-0_0_0")
    assert Recoverable().recover_parameter_id([]) == 0
    assert Recoverable.recovered_trial_params == {}  # the class default was not mutated


def test_extract_scalar_reward() -> None:
    assert extract_scalar_reward(3) == 3
    assert extract_scalar_reward(0.5) == 0.5
    assert extract_scalar_reward(True) is True
    assert extract_scalar_reward({"default": 2.5, "loss": 1}) == 2.5
    assert extract_scalar_reward({"acc": 2.5}, scalar_key="acc") == 2.5
    value = extract_scalar_reward(np.float32(0.25))
    assert type(value) is float and value == 0.25
    assert type(extract_scalar_reward({"default": np.int64(4)})) is int
    for bad in ("1", None, {"loss": 1}, {"default": "x"}, [1]):
        with pytest.raises(RuntimeError, match="Incorrect final result"):
            extract_scalar_reward(bad)
    assert extract_scalar_history([1, {"default": 2}]) == [1, 2]


def test_enums() -> None:
    assert OptimizeMode("maximize") is OptimizeMode.Maximize
    with pytest.raises(ValueError, match="'max' is not a valid OptimizeMode"):
        OptimizeMode("max")
    assert (MetricType.FINAL, MetricType.PERIODICAL, MetricType.REQUEST_PARAMETER) == (
        "FINAL", "PERIODICAL", "REQUEST_PARAMETER")  # fmt: skip


def test_merge_parameter() -> None:
    assert merge_parameter({"lr": 0.1, "n": 2, "opt": None}, {"lr": 1, "opt": "sgd"}) == {
        "lr": 1.0, "n": 2, "opt": "sgd"}  # fmt: skip
    namespace = merge_parameter(argparse.Namespace(lr=0.1), {"lr": 0.5})
    assert namespace.lr == 0.5
    assert merge_parameter({"a": 1}, None) == {"a": 1}
    with pytest.raises(ValueError, match="Key 'b' not found in base parameters."):
        merge_parameter({"a": 1}, {"b": 2})
    with pytest.raises(ValueError, match='Expected "n" in override parameters to have type'):
        merge_parameter({"n": 2}, {"n": 2.0})


def test_split_index() -> None:
    assert split_index({"a": {"_index": 1, "_value": {"_name": "x", "b": {"_index": 0, "_value": 3}}}}) == {
        "a": {"_name": "x", "b": 3}}  # fmt: skip


def test_class_args_validator(tmp_path: Any) -> None:
    validator = ClassArgsValidator()
    validator.validate_class_args(anything=1)
    rules = {
        "mode": validator.choices("mode", "a", "b"),
        "size": validator.range("size", int, 1, 10),
        "rate": validator.range("rate", float, 0, None),
        "path": validator.path("path"),
        "seed": int,
        "both": [int, lambda v: None],
    }
    validator.check(
        {"mode": "a", "size": 10, "rate": 0.5, "path": str(tmp_path), "seed": 1, "both": 2}, rules
    )
    # Rules return True on success so that validators built on the `schema` library can use them.
    assert rules["mode"]("a") is True and rules["size"](3) is True and rules["path"](str(tmp_path)) is True
    cases = [
        ({"mode": "c"}, "mode should be in ['a', 'b']!"),
        ({"size": 1.0}, "size should be int type!"),
        ({"size": True}, "size should be int type!"),
        ({"size": 11}, "size should be in range of (1, 10)!"),
        ({"rate": 1}, "rate should be float type!"),
        ({"rate": -0.5}, "rate should be in range of (0, None)!"),
        ({"path": 3}, "path should be a string!"),
        ({"path": str(tmp_path / "no")}, "path path does not exist!"),
        ({"seed": True}, "seed should be int type!"),
        ({"other": 1}, "Wrong key 'other'"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ClassArgsError) as info:
            validator.check(kwargs, rules)
        assert message in str(info.value)
    with pytest.raises(ClassArgsError, match="Missing key: 'mode'"):
        validator.check({}, rules, required=["mode"])
