from __future__ import annotations

import json
import math
from typing import Any

import pytest
from test_hpo_tuners import EVERY_TYPE, _check_every_type

from nni._errors import NoMoreTrialError
from nni.algorithms.hpo.gridsearch_tuner import GridSearchTuner
from nni.algorithms.hpo.registry import create_algorithm, validate_algorithm_config


def _grid(space: dict[str, Any], count: int | None = None) -> list[dict[str, Any]]:
    """Every parameter set the tuner gives (up to ``count``), checking it never repeats."""
    tuner = GridSearchTuner()
    tuner.update_search_space(space)
    out: list[dict[str, Any]] = []
    while count is None or len(out) < count:
        try:
            out.append(tuner.generate_parameters(len(out)))
        except NoMoreTrialError:
            break
    texts = [json.dumps(p, sort_keys=True) for p in out]
    assert len(set(texts)) == len(texts)
    return out


def test_nni_example_epochs() -> None:
    # NNI's source comment: x: choice(5, 7), y: normal(0, 1), z: quniform(2, 3, 1).
    space = {
        "x": {"_type": "choice", "_value": [5, 7]},
        "y": {"_type": "normal", "_value": [0, 1]},
        "z": {"_type": "quniform", "_value": [2, 3, 1]},
    }
    params = _grid(space, 12)
    assert params[:2] == [{"x": 5, "y": 0.0, "z": 2.0}, {"x": 7, "y": 0.0, "z": 2.0}]
    # Epoch 2 completes the product of x, y in {-0.674, 0, 0.674} and z in {2, 3}.
    assert {p["x"] for p in params} == {5, 7} and {p["z"] for p in params} == {2.0, 3.0}
    assert sorted({round(p["y"], 4) for p in params}) == [-0.6745, 0.0, 0.6745]
    assert len(params) == 12


def test_continuous_ranges_are_refined_in_halves() -> None:
    params = _grid({"x": {"_type": "uniform", "_value": [0, 8]}}, 15)
    assert [p["x"] for p in params[:7]] == [4.0, 2.0, 6.0, 1.0, 3.0, 5.0, 7.0]
    assert all(0 < p["x"] < 8 for p in params)  # the bounds themselves are never produced
    first = _grid({"lr": {"_type": "loguniform", "_value": [1e-4, 1e-2]}}, 1)[0]["lr"]
    assert first == pytest.approx(1e-3)  # the midpoint of a log range is its geometric mean


def test_finite_space_is_exhausted() -> None:
    space = {
        "a": {"_type": "choice", "_value": ["x", "y", "z"]},
        "b": {"_type": "randint", "_value": [0, 2]},
        "c": {"_type": "quniform", "_value": [0, 1, 0.25]},
    }
    params = _grid(space)
    assert len(params) == 3 * 2 * 5
    assert {p["c"] for p in params} == {0.0, 0.25, 0.5, 0.75, 1.0}
    assert all(type(p["b"]) is int and type(p["c"]) is float for p in params)


def test_clipped_q_values_are_all_found() -> None:
    # quniform [2, 10, 5] gives 2 (clipped up from 0), 5 and 10.
    assert sorted(p["x"] for p in _grid({"x": {"_type": "quniform", "_value": [2, 10, 5]}})) == [2.0, 5.0, 10.0]


def test_neighbouring_q_values_end_the_grid() -> None:
    # NNI kept splitting an interval whose ends were neighbouring multiples of q (2.5 rounds to 2,
    # anything above to 3) and never finished; here the grid ends.
    params = _grid({"z": {"_type": "quniform", "_value": [2, 3, 1]}, "w": {"_type": "qloguniform", "_value": [16, 128, 0.725]}})
    assert {p["z"] for p in params} == {2.0, 3.0}
    assert len(params) == 2 * 156  # every multiple of 0.725 between 16 and 128, clipped


def test_nested_choice_enumerates_each_branch() -> None:
    space = {
        "model": {"_type": "choice", "_value": [
            {"_name": "linear"},
            {"_name": "mlp", "act": {"_type": "choice", "_value": ["relu", "tanh"]},
             "depth": {"_type": "randint", "_value": [1, 3]}},
        ]},
        "scale": {"_type": "choice", "_value": [True, False]},
    }  # fmt: skip
    params = _grid(space)
    assert len(params) == (1 + 2 * 2) * 2
    assert {"model": {"_name": "linear"}, "scale": True} in params
    assert {"model": {"_name": "mlp", "act": "tanh", "depth": 2}, "scale": False} in params


def test_every_type() -> None:
    for params in _grid(EVERY_TYPE, 60):
        _check_every_type(params)
        json.dumps(params)


def test_import_data_and_updates_skip_given_sets() -> None:
    tuner = GridSearchTuner(optimize_mode="maximize")  # ignored, as in NNI
    space = {"x": {"_type": "choice", "_value": [1, 2, 3]}, "y": {"_type": "quniform", "_value": [0, 1, 1]}}
    tuner.update_search_space(space)
    tuner.import_data([{"parameter": {"x": 1, "y": 0}, "value": 0.1}, json.dumps({"parameter": {"x": 2, "y": 1.0}, "value": 1})])
    got = [tuner.generate_parameters(i) for i in range(4)]
    assert {"x": 1, "y": 0.0} not in got and {"x": 2, "y": 1.0} not in got
    tuner.receive_trial_result(0, got[0], 1.0)
    with pytest.raises(NoMoreTrialError, match="Search space fully explored"):
        tuner.generate_parameters(4)
    tuner.update_search_space({**space, "x": {"_type": "choice", "_value": [1, 2, 3, 4]}})
    assert sorted(json.dumps(tuner.generate_parameters(i)) for i in range(2)) == [
        '{"x": 4, "y": 0.0}', '{"x": 4, "y": 1.0}'
    ]  # fmt: skip
    assert tuner.generate_multiple_parameters([7, 8]) == []


def test_errors() -> None:
    with pytest.raises(ValueError, match="Search space is empty"):
        GridSearchTuner().update_search_space({})
    with pytest.raises(RuntimeError, match="update_search_space"):
        GridSearchTuner().generate_parameters(0)
    with pytest.raises(ValueError, match=r"x\._value: "):
        GridSearchTuner().update_search_space({"x": {"_type": "uniform", "_value": [1, 0]}})


def test_registry() -> None:
    assert isinstance(create_algorithm({"name": "GridSearch"}, "tuner"), GridSearchTuner)
    assert "does not accept classArgs" in validate_algorithm_config(
        {"name": "GridSearch", "classArgs": {"optimize_mode": "maximize"}}, "tuner"
    )[0]


def test_normal_grid_points_are_quantiles() -> None:
    params = _grid({"x": {"_type": "normal", "_value": [10, 2]}}, 3)
    assert [round(p["x"], 3) for p in params] == [10.0, round(10 - 2 * 0.6744897501960817, 3),
                                                  round(10 + 2 * 0.6744897501960817, 3)]  # fmt: skip
    assert all(math.isfinite(p["x"]) for p in _grid({"x": {"_type": "qlognormal", "_value": [0, 1, 1]}}, 40))
