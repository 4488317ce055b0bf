from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from nni.algorithms.hpo import registry
from nni.algorithms.hpo.random_tuner import RandomTuner
from nni.algorithms.hpo.registry import (
    BUILTIN_ALGORITHMS,
    builtin_names,
    create_algorithm,
    get_algorithm_meta,
    validate_algorithm_config,
)
from nni.algorithms.hpo.tpe_tuner import TpeTuner

NNI_TUNERS = ["PPO", "SMAC", "TPE", "TPE_legacy", "Random", "Anneal", "Evolution", "Batch", "GridSearch",
              "NetworkMorphism", "Metis", "GP", "PBT", "RegularizedEvolutionTuner", "DNGO", "Hyperband", "BOHB"]  # fmt: skip


def test_builtin_names() -> None:
    assert builtin_names("tuner") == NNI_TUNERS
    assert builtin_names("assessor") == ["Medianstop", "Curvefitting"]
    assert builtin_names("advisor") == ["Hyperband", "BOHB"]
    for meta in BUILTIN_ALGORITHMS.values():
        assert meta["className"].startswith("nni.algorithms.hpo.")
    assert BUILTIN_ALGORITHMS["Anneal"]["classArgs"] == {"algorithm_name": "anneal"}
    assert BUILTIN_ALGORITHMS["GridSearch"]["acceptClassArgs"] is False


@pytest.mark.parametrize("name", ["TPE", "tpe", "Tpe"])
def test_lookup_is_case_insensitive(name: str) -> None:
    assert isinstance(create_algorithm({"name": name, "classArgs": {"seed": 1}}, "tuner"), TpeTuner)


def test_aliases() -> None:
    meta = get_algorithm_meta("gptuner", "tuner")
    assert meta is not None and meta["builtinName"] == "GP"
    assert get_algorithm_meta("batchtuner")["builtinName"] == "Batch"  # type: ignore[index]
    assert get_algorithm_meta("Medianstop", "tuner") is None


def test_create_with_class_args() -> None:
    tuner = create_algorithm({"name": "TPE", "classArgs": {"optimize_mode": "maximize", "tpe_args": {"gamma": 0.5}}},
                             "tuner")  # fmt: skip
    assert tuner.optimize_mode.value == "maximize" and tuner.args.gamma == 0.5
    assert isinstance(create_algorithm({"name": "random"}, "tuner"), RandomTuner)


def test_unknown_name() -> None:
    errors = validate_algorithm_config({"name": "TPEE"}, "tuner")
    assert len(errors) == 1
    assert errors[0].startswith('tuner.name: unknown tuner "TPEE"; valid names: PPO, SMAC, TPE')
    assert errors[0].endswith('Did you mean "TPE"?')
    with pytest.raises(ValueError, match='unknown tuner "TPEE"'):
        create_algorithm({"name": "TPEE"}, "tuner")


def test_wrong_kind() -> None:
    assert validate_algorithm_config({"name": "medianstop"}, "tuner") == [
        'tuner.name: "medianstop" is an assessor, not a tuner'
    ]
    assert validate_algorithm_config({"name": "TPE"}, "assessor") == [
        'assessor.name: "TPE" is a tuner, not an assessor'
    ]


@pytest.mark.parametrize("name", ["GridSearch", "Medianstop", "SMAC", "Hyperband"])
def test_not_yet_implemented_builtins(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "is_available", lambda meta: False)
    kind = "assessor" if name == "Medianstop" else "tuner"
    with pytest.raises(ValueError, match=f'algorithm "{name}" is not available in this version'):
        create_algorithm({"name": name}, kind)  # type: ignore[arg-type]
    assert "not available in this version" in validate_algorithm_config({"name": name}, kind)[0]  # type: ignore[arg-type]


def test_builtin_with_missing_module(monkeypatch: pytest.MonkeyPatch) -> None:
    meta = {**BUILTIN_ALGORITHMS["SMAC"], "builtinName": "Ghost", "alias": None,
            "className": "nni.algorithms.hpo.ghost_tuner_not_written.GhostTuner"}  # fmt: skip
    monkeypatch.setitem(BUILTIN_ALGORITHMS, "Ghost", meta)
    assert validate_algorithm_config({"name": "ghost"}, "tuner") == [
        'tuner.name: algorithm "Ghost" is not available in this version of nni '
        "(module nni.algorithms.hpo.ghost_tuner_not_written is not implemented yet)"
    ]
    with pytest.raises(ValueError, match='algorithm "Ghost" is not available in this version'):
        create_algorithm({"name": "Ghost"}, "tuner")


def test_bad_class_args() -> None:
    assert validate_algorithm_config({"name": "TPE", "classArgs": {"optimize_mode": "max"}}, "tuner") == [
        "tuner.classArgs: optimize_mode should be in ['maximize', 'minimize']!"
    ]
    assert (
        "Wrong key 'foo'"
        in validate_algorithm_config({"name": "Random", "classArgs": {"foo": 1}}, "tuner")[0]
    )
    assert "must be a dict" in validate_algorithm_config({"name": "Random", "classArgs": [1]}, "tuner")[0]
    with pytest.raises(ValueError, match="tuner.classArgs: .*unexpected keyword argument 'foo'"):
        create_algorithm({"name": "TPE", "classArgs": {"foo": 1}}, "tuner")


def test_config_shape_errors(tmp_path: Path) -> None:
    assert "not both" in validate_algorithm_config({"name": "TPE", "className": "a.B"}, "tuner")[0]
    assert "must be set" in validate_algorithm_config({}, "tuner")[0]
    assert "must be a dict" in validate_algorithm_config("TPE", "tuner")[0]
    missing = tmp_path / "nope"
    assert validate_algorithm_config({"className": "a.B", "codeDirectory": str(missing)}, "tuner") == [
        f'tuner.codeDirectory: "{missing}" is not a directory'
    ]
    assert 'must be "module.ClassName"' in validate_algorithm_config({"className": "B"}, "tuner")[0]
    with pytest.raises(ValueError, match="Directory not found"):
        create_algorithm({"className": "a.B", "codeDirectory": str(missing)}, "tuner")


def test_fixed_class_args_are_merged_under_the_users(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "fixed_args_algo.py").write_text(
        textwrap.dedent("""
        class Algo:
            def __init__(self, algorithm_name, optimize_mode='minimize'):
                self.algorithm_name = algorithm_name
                self.optimize_mode = optimize_mode
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    meta = {**BUILTIN_ALGORITHMS["Anneal"], "builtinName": "FakeAnneal", "alias": None,
            "className": "fixed_args_algo.Algo", "classArgsValidator": None}  # fmt: skip
    monkeypatch.setitem(BUILTIN_ALGORITHMS, "FakeAnneal", meta)
    algo = create_algorithm({"name": "fakeanneal", "classArgs": {"optimize_mode": "maximize"}}, "tuner")
    assert (algo.algorithm_name, algo.optimize_mode) == ("anneal", "maximize")
    algo = create_algorithm({"name": "FakeAnneal", "classArgs": {"algorithm_name": "tpe"}}, "tuner")
    assert algo.algorithm_name == "tpe"
    # No validator: the constructor's signature is checked instead.
    assert (
        "unexpected keyword argument"
        in validate_algorithm_config({"name": "FakeAnneal", "classArgs": {"bad": 1}}, "tuner")[0]
    )


CUSTOM_TUNER = '''
from nni.tuner import Tuner
from nni.utils import extract_scalar_reward


class CountingTuner(Tuner):
    """A tuner written against NNI's public interface only."""

    def __init__(self, start=0):
        self.next_value = start
        self.results = {}

    def update_search_space(self, search_space):
        self.space = search_space

    def generate_parameters(self, parameter_id, **kwargs):
        self.next_value += 1
        return {"x": self.next_value}

    def receive_trial_result(self, parameter_id, parameters, value, **kwargs):
        self.results[parameter_id] = extract_scalar_reward(value)
'''


def test_custom_tuner_from_code_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "custom_counting_tuner.py").write_text(CUSTOM_TUNER)
    monkeypatch.setattr("sys.path", list(__import__("sys").path))  # undo the sys.path append afterwards
    config = {"className": "custom_counting_tuner.CountingTuner", "codeDirectory": str(tmp_path),
              "classArgs": {"start": 10}}  # fmt: skip
    assert validate_algorithm_config(config, "tuner") == []
    tuner = create_algorithm(config, "tuner")
    tuner.update_search_space({"x": {"_type": "choice", "_value": [1]}})
    assert tuner.generate_multiple_parameters([0, 1]) == [{"x": 11}, {"x": 12}]
    tuner.receive_trial_result(0, {"x": 11}, {"default": 0.5})
    tuner.trial_end(0, True)
    assert tuner.results == {0: 0.5}
    with pytest.raises(ValueError, match="cannot import"):
        create_algorithm(
            {"className": "custom_counting_tuner.Missing", "codeDirectory": str(tmp_path)}, "tuner"
        )
