"""Contract tests that every builtin sampling tuner must pass.

Random, TPE, and through NNI's class paths Anneal / TPE_legacy / random search (``HyperoptTuner``)
and Evolution: every search-space type including nested choice, both optimize modes, dict metrics,
seeds, no repeats, exhaustion of finite spaces, import_data and search-space updates.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import pytest

from nni._errors import NoMoreTrialError
from nni.algorithms.hpo.evolution_tuner import EvolutionTuner
from nni.algorithms.hpo.hyperopt_tuner import HyperoptTuner
from nni.algorithms.hpo.random_tuner import RandomTuner
from nni.algorithms.hpo.tpe_tuner import TpeTuner
from nni.tuner import Tuner

TunerFactory = Callable[..., Tuner]

TUNERS: dict[str, TunerFactory] = {
    "random": lambda mode, seed: RandomTuner(optimize_mode=mode, seed=seed),
    "tpe": lambda mode, seed: TpeTuner(optimize_mode=mode, seed=seed, tpe_args={"n_startup_jobs": 5}),
    "anneal": lambda mode, seed: HyperoptTuner("anneal", optimize_mode=mode, seed=seed),
    "tpe_legacy": lambda mode, seed: HyperoptTuner("tpe", mode, parallel_optimize=True, seed=seed),
    "hyperopt_random": lambda mode, seed: HyperoptTuner("random_search", mode, seed=seed),
    "evolution": lambda mode, seed: EvolutionTuner(mode, population_size=6, seed=seed),
}


# NNI's hyperopt tuners and Evolution keep suggesting (repeats) once a finite space is used up;
# Random and TPE de-duplicate and then raise NoMoreTrialError, as NNI's do.
REPEATING = {"anneal", "tpe_legacy", "hyperopt_random", "evolution"}


@pytest.fixture(params=list(TUNERS))
def make_tuner(request: pytest.FixtureRequest) -> TunerFactory:
    return TUNERS[request.param]


def tuner_name(factory: TunerFactory) -> str:
    return next(name for name, made in TUNERS.items() if made is factory)


EVERY_TYPE = {
    "choice": {"_type": "choice", "_value": ["a", 2, {"k": "v"}, None]},
    "randint": {"_type": "randint", "_value": [-3, 4]},
    "uniform": {"_type": "uniform", "_value": [-1, 1]},
    "quniform": {"_type": "quniform", "_value": [0, 10, 2.5]},
    "loguniform": {"_type": "loguniform", "_value": [1e-4, 1e-1]},
    "qloguniform": {"_type": "qloguniform", "_value": [16, 128, 0.725]},
    "normal": {"_type": "normal", "_value": [5, 2]},
    "qnormal": {"_type": "qnormal", "_value": [0, 3, 0.5]},
    "lognormal": {"_type": "lognormal", "_value": [0, 1]},
    "qlognormal": {"_type": "qlognormal", "_value": [2, 1, 3]},
    "model": {"_type": "choice", "_value": [
        {"_name": "linear"},
        {"_name": "mlp", "hidden": {"_type": "randint", "_value": [16, 33]},
         "act": {"_type": "choice", "_value": ["relu", "tanh"]}},
    ]},
}  # fmt: skip


def _check_every_type(params: dict[str, Any]) -> None:
    assert params["choice"] in ["a", 2, {"k": "v"}, None]
    assert type(params["randint"]) is int and -3 <= params["randint"] < 4
    assert type(params["uniform"]) is float and -1 <= params["uniform"] <= 1
    assert params["quniform"] in (0.0, 2.5, 5.0, 7.5, 10.0) and type(params["quniform"]) is float
    assert 1e-4 <= params["loguniform"] <= 1e-1
    assert 16 <= params["qloguniform"] <= 128
    assert math.isclose(params["qloguniform"] / 0.725, round(params["qloguniform"] / 0.725)) or params[
        "qloguniform"
    ] in (16, 128)
    assert type(params["normal"]) is float
    assert (params["qnormal"] / 0.5).is_integer()
    assert params["lognormal"] > 0
    assert params["qlognormal"] >= 0 and (params["qlognormal"] / 3).is_integer()
    model = params["model"]
    if model["_name"] == "linear":
        assert model == {"_name": "linear"}
    else:
        assert set(model) == {"_name", "hidden", "act"} and 16 <= model["hidden"] < 33


def _objective(params: dict[str, Any]) -> float:
    return (params["uniform"] - 0.3) ** 2 + (params["randint"] == 1) + math.log(params["loguniform"]) / 10


@pytest.mark.parametrize("mode", ["minimize", "maximize"])
def test_every_type_in_both_modes(make_tuner: TunerFactory, mode: str) -> None:
    tuner = make_tuner(mode, 0)
    tuner.update_search_space(EVERY_TYPE)
    for parameter_id in range(40):
        params = tuner.generate_parameters(parameter_id)
        _check_every_type(params)
        json.dumps(params)  # plain JSON types only
        value = _objective(params)
        tuner.receive_trial_result(
            parameter_id, params, {"default": value, "other": 1} if parameter_id % 2 else value
        )
        tuner.trial_end(parameter_id, True)


def test_same_seed_same_parameters(make_tuner: TunerFactory) -> None:
    def run(seed: int) -> list[dict[str, Any]]:
        tuner = make_tuner("minimize", seed)
        tuner.update_search_space(EVERY_TYPE)
        out = []
        for parameter_id in range(25):
            params = tuner.generate_parameters(parameter_id)
            tuner.receive_trial_result(parameter_id, params, _objective(params))
            out.append(params)
        return out

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_parallel_suggestions_differ(make_tuner: TunerFactory) -> None:
    tuner = make_tuner("minimize", 3)
    space = {
        "x": {"_type": "choice", "_value": list(range(12))},
        "y": {"_type": "quniform", "_value": [0, 1, 0.5]},
    }
    tuner.update_search_space(space)
    for parameter_id in range(10):
        params = tuner.generate_parameters(parameter_id)
        tuner.receive_trial_result(parameter_id, params, params["x"] + params["y"])
    pending = [tuner.generate_parameters(100 + i) for i in range(8)]
    assert len({json.dumps(p, sort_keys=True) for p in pending}) == 8


def test_finite_space_is_exhausted(make_tuner: TunerFactory) -> None:
    tuner = make_tuner("maximize", 0)
    tuner.update_search_space({
        "x": {"_type": "choice", "_value": ["a", "b"]},
        "y": {"_type": "randint", "_value": [0, 3]},
    })  # fmt: skip
    produced = []
    for parameter_id in range(6):
        params = tuner.generate_parameters(parameter_id)
        produced.append(json.dumps(params, sort_keys=True))
        tuner.receive_trial_result(parameter_id, params, params["y"])
    assert len(set(produced)) == 6
    if tuner_name(make_tuner) in REPEATING:
        again = [tuner.generate_parameters(i) for i in range(6, 10)]
        assert {json.dumps(p, sort_keys=True) for p in again} <= set(produced)
        assert len(tuner.generate_multiple_parameters([10, 11])) == 2
        return
    with pytest.raises(NoMoreTrialError):
        tuner.generate_parameters(6)
    assert tuner.generate_multiple_parameters([7, 8]) == []


def test_generate_multiple_returns_partial_list(make_tuner: TunerFactory) -> None:
    tuner = make_tuner("minimize", 0)
    tuner.update_search_space({"x": {"_type": "choice", "_value": [1, 2, 3]}})
    result = tuner.generate_multiple_parameters([0, 1, 2, 3, 4])
    if tuner_name(make_tuner) in REPEATING:
        assert sorted(p["x"] for p in result[:3]) == [1, 2, 3]  # every option before any repeat
        assert len(result) == 5
    else:
        assert sorted(p["x"] for p in result) == [1, 2, 3]


def test_imported_configurations_are_not_repeated(make_tuner: TunerFactory) -> None:
    tuner = make_tuner("minimize", 0)
    tuner.update_search_space({"x": {"_type": "choice", "_value": [1, 2, 3, 4]}})
    tuner.import_data([
        {"parameter": {"x": 1}, "value": 0.5},
        json.dumps({"parameter": {"x": 3}, "value": {"default": 0.1}}),
        {"parameter": {"x": 99}, "value": 0.0},  # not in the space: skipped
    ])  # fmt: skip
    got = sorted(tuner.generate_parameters(i)["x"] for i in range(2))
    assert got == [2, 4]
    if tuner_name(make_tuner) in REPEATING:
        assert tuner.generate_parameters(2)["x"] in (1, 2, 3, 4)
        return
    with pytest.raises(NoMoreTrialError):
        tuner.generate_parameters(2)


def test_update_search_space_switches_space(make_tuner: TunerFactory) -> None:
    tuner = make_tuner("minimize", 0)
    tuner.update_search_space({"x": {"_type": "uniform", "_value": [0, 1]}})
    for parameter_id in range(8):
        params = tuner.generate_parameters(parameter_id)
        tuner.receive_trial_result(parameter_id, params, params["x"])
    tuner.update_search_space(
        {"x": {"_type": "uniform", "_value": [5, 6]}, "y": {"_type": "choice", "_value": [0]}}
    )
    for parameter_id in range(8, 20):
        params = tuner.generate_parameters(parameter_id)
        assert 5 <= params["x"] <= 6 and params["y"] == 0
        tuner.receive_trial_result(parameter_id, params, params["x"])


def test_invalid_space_is_rejected(make_tuner: TunerFactory) -> None:
    tuner = make_tuner("minimize", 0)
    with pytest.raises(ValueError, match=r"lr\._value: "):
        tuner.update_search_space({"lr": {"_type": "loguniform", "_value": [0, 1]}})


def test_generate_before_space_is_an_error(make_tuner: TunerFactory) -> None:
    with pytest.raises(RuntimeError, match="update_search_space"):
        make_tuner("minimize", 0).generate_parameters(0)


def test_unseeded_tuners_log_their_seed(make_tuner: TunerFactory, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO"):
        make_tuner("minimize", None)
    assert "Using random seed" in caplog.text
