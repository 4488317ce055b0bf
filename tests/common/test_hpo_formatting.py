from __future__ import annotations

import math

import numpy as np
import pytest

from nni.common.hpo_utils import (
    deformat_parameters,
    format_parameters,
    format_search_space,
    sample_parameters,
)

NESTED_SPACE = {
    "pool": {"_type": "choice", "_value": ["max", "min", "avg"]},
    "kernel": {"_type": "randint", "_value": [2, 8]},
    "D": {
        "_type": "choice",
        "_value": [
            {
                "_name": "UNIFORM",
                "hidden": {"_type": "quniform", "_value": [100, 1000, 3]},
                "U_batch": {"_type": "qloguniform", "_value": [16, 128, 0.725]},
            },
            {
                "_name": "NORMAL",
                "inner": {
                    "_type": "choice",
                    "_value": [{"_name": "a", "n": {"_type": "normal", "_value": [0, 1]}}, {"_name": "b"}],
                },
            },
        ],
    },
    "lr": {"_type": "loguniform", "_value": [1e-4, 1e-1]},
}


def test_keys_are_depth_first_with_option_indices() -> None:
    space = format_search_space(NESTED_SPACE)
    assert list(space) == [
        ("pool",),
        ("kernel",),
        ("D",),
        ("D", 0, "hidden"),
        ("D", 0, "U_batch"),
        ("D", 1, "inner"),
        ("D", 1, "inner", 0, "n"),
        ("lr",),
    ]
    assert space[("D", 1, "inner", 0, "n")].is_nested()
    assert not space[("D",)].is_nested()
    assert space[("D",)].is_nested_choice()


def test_spec_fields() -> None:
    space = format_search_space(NESTED_SPACE)
    kernel = space[("kernel",)]
    assert (kernel.categorical, kernel.size, kernel.name) == (True, 6, "kernel")
    hidden = space[("D", 0, "hidden")]
    assert (hidden.low, hidden.high, hidden.q, hidden.clip) == (100.0, 1000.0, 3.0, (100, 1000))
    assert hidden.normal_distributed is False and hidden.log_distributed is False
    batch = space[("D", 0, "U_batch")]
    assert batch.low == pytest.approx(math.log(16)) and batch.clip == (16, 128) and batch.log_distributed
    n = space[("D", 1, "inner", 0, "n")]
    assert (n.mu, n.sigma, n.normal_distributed, n.clip) == (0.0, 1.0, True, None)
    assert space[("pool",)].size == 3 and space[("pool",)].chosen_size == 1
    assert format_search_space({"x": {"_type": "randint", "_value": [-1.5, 2.2]}})[("x",)].size == 4


def test_worked_example_from_spec() -> None:
    space = format_search_space(NESTED_SPACE)
    formatted = {("pool",): 0, ("kernel",): 5, ("D",): 0, ("D", 0, "hidden"): 100.1, ("D", 0, "U_batch"): 4.0,
                 ("lr",): math.log(0.01)}  # fmt: skip
    params = deformat_parameters(formatted, space)
    assert params == {"pool": "max", "kernel": 7, "D": {"_name": "UNIFORM", "hidden": 100.0, "U_batch": 54.375},
                      "lr": pytest.approx(0.01)}  # fmt: skip
    assert isinstance(params["kernel"], int)


def test_q_rounding_is_half_to_even_then_clipped() -> None:
    space = format_search_space({
        "a": {"_type": "quniform", "_value": [0, 10, 1]},
        "b": {"_type": "quniform", "_value": [2, 10, 5]},
        "c": {"_type": "qnormal", "_value": [0, 1, 2]},
    })  # fmt: skip
    assert deformat_parameters({("a",): 2.5, ("b",): 0.3, ("c",): -9.0}, space) == {
        "a": 2.0,
        "b": 2.0,
        "c": -8.0,
    }
    assert deformat_parameters({("a",): 3.5, ("b",): 9.9, ("c",): 3.0}, space) == {
        "a": 4.0,
        "b": 10.0,
        "c": 4.0,
    }


def test_round_trip_with_nested_choice() -> None:
    space = format_search_space(NESTED_SPACE)
    rng = np.random.default_rng(0)
    seen_branches = set()
    for _ in range(200):
        formatted = sample_parameters(space, rng)
        params = deformat_parameters(formatted, space)
        seen_branches.add((params["D"]["_name"], params["D"].get("inner", {}).get("_name")))
        again = format_parameters(params, space)
        assert set(again) == set(formatted)
        for key, spec in space.items():
            if key not in formatted:
                continue
            if spec.categorical:
                assert again[key] == formatted[key]
            elif spec.q is None:
                assert again[key] == pytest.approx(formatted[key])
        # q-rounding loses information, but deformatting again is stable
        assert deformat_parameters(again, space) == params
    assert seen_branches == {("UNIFORM", None), ("NORMAL", "a"), ("NORMAL", "b")}


def test_inactive_branches_are_absent() -> None:
    space = format_search_space(NESTED_SPACE)
    params = deformat_parameters({("pool",): 1, ("kernel",): 0, ("D",): 1, ("D", 1, "inner"): 1, ("lr",): -3.0},
                                 space)  # fmt: skip
    assert params["D"] == {"_name": "NORMAL", "inner": {"_name": "b"}}


def test_format_parameters_maps_choice_to_first_match_and_rejects_strangers() -> None:
    space = format_search_space(
        {"x": {"_type": "choice", "_value": [1, 2, 1]}, "y": {"_type": "randint", "_value": [3, 6]}}
    )
    assert format_parameters({"x": 1, "y": 5}, space) == {("x",): 0, ("y",): 2}
    with pytest.raises(ValueError, match="not one of the options"):
        format_parameters({"x": 7, "y": 5}, space)
    with pytest.raises(ValueError, match="out of range"):
        format_parameters({"x": 1, "y": 6}, space)
    with pytest.raises(ValueError, match="missing"):
        format_parameters({"x": 1}, space)


def test_non_nested_dict_options_are_returned_verbatim() -> None:
    space = format_search_space({"p": {"_type": "choice", "_value": [{"x": 1, "y": 2}, {"_name": "n"}]}})
    assert not space[("p",)].is_nested_choice()
    assert deformat_parameters({("p",): 0}, space) == {"p": {"x": 1, "y": 2}}
    assert format_parameters({"p": {"_name": "n"}}, space) == {("p",): 1}


def test_sampling_respects_types_and_bounds() -> None:
    space = format_search_space({
        "u": {"_type": "uniform", "_value": [-1, 1]},
        "lu": {"_type": "loguniform", "_value": [1e-3, 1]},
        "qlu": {"_type": "qloguniform", "_value": [1, 100, 10]},
        "ri": {"_type": "randint", "_value": [-2, 3]},
        "ln": {"_type": "lognormal", "_value": [0, 1]},
    })  # fmt: skip
    rng = np.random.default_rng(1)
    for _ in range(300):
        params = deformat_parameters(sample_parameters(space, rng), space)
        assert -1 <= params["u"] < 1
        assert 1e-3 <= params["lu"] <= 1
        assert params["qlu"] in {1.0, *(10.0 * k for k in range(1, 11))}
        assert params["ri"] in range(-2, 3) and isinstance(params["ri"], int)
        assert params["ln"] > 0


def test_empty_choice_is_rejected() -> None:
    with pytest.raises(ValueError, match="no options"):
        format_search_space({"x": {"_type": "choice", "_value": []}})
