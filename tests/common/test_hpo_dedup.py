from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from nni import _errors
from nni.common.hpo_utils import Deduplicator, deformat_parameters, format_search_space, sample_parameters


def _exhaust(space_json: dict, seed: int = 0, limit: int = 10_000) -> list[str]:
    space = format_search_space(space_json)
    dedup = Deduplicator(space)
    rng = np.random.default_rng(seed)
    produced = []
    for _ in range(limit):
        try:
            params = dedup(sample_parameters(space, rng))
        except _errors.NoMoreTrialError:
            return produced
        produced.append(json.dumps(deformat_parameters(params, space), sort_keys=True))
    raise AssertionError("space never reported exhausted")


def test_spec_example_gives_exactly_six_sets() -> None:
    space = {
        "x": {"_type": "choice", "_value": ["a", "b"]},
        "y": {"_type": "quniform", "_value": [0, 1, 0.6]},
        "z": {"_type": "normal", "_value": [1, 0]},
    }
    produced = _exhaust(space)
    assert len(produced) == len(set(produced)) == 6
    assert {json.loads(p)["y"] for p in produced} == {0.0, 0.6, 1.0}
    assert {json.loads(p)["z"] for p in produced} == {1.0}


def test_finite_space_is_enumerated_completely() -> None:
    space = {
        "a": {"_type": "randint", "_value": [0, 3]},
        "b": {"_type": "quniform", "_value": [2, 10, 5]},
        "c": {"_type": "qloguniform", "_value": [1, 8, 2]},
        "d": {"_type": "choice", "_value": [{"_name": "on", "e": {"_type": "choice", "_value": [1, 2]}},
                                           {"_name": "off"}]},
    }  # fmt: skip
    produced = {json.dumps(json.loads(p), sort_keys=True) for p in _exhaust(space)}
    expected = set()
    for a, b, c in itertools.product(range(3), [2.0, 5.0, 10.0], [1.0, 2.0, 4.0, 6.0, 8.0]):
        for d in ({"_name": "on", "e": 1}, {"_name": "on", "e": 2}, {"_name": "off"}):
            expected.add(json.dumps({"a": a, "b": b, "c": c, "d": d}, sort_keys=True))
    assert produced == expected


def test_continuous_space_is_never_tracked() -> None:
    space = format_search_space(
        {"x": {"_type": "uniform", "_value": [0, 1]}, "c": {"_type": "choice", "_value": [1]}}
    )
    dedup = Deduplicator(space)
    assert not dedup.can_repeat
    params = {("x",): 0.5, ("c",): 0}
    assert dedup(params) is params and dedup(params) is params
    assert not dedup.is_duplicate(params)


def test_nested_continuous_space_is_tracked_but_endless() -> None:
    space = format_search_space({"m": {"_type": "choice", "_value": [
        {"_name": "a", "x": {"_type": "uniform", "_value": [0, 1]}}, {"_name": "b"}]}})  # fmt: skip
    dedup = Deduplicator(space)
    assert dedup.can_repeat
    seen = set()
    for _ in range(50):
        params = dedup({("m",): 1})
        seen.add(json.dumps(deformat_parameters(params, space), sort_keys=True))
    assert len(seen) == 50


def test_add_history_and_is_duplicate() -> None:
    space = format_search_space({"x": {"_type": "choice", "_value": ["a", "b"]}})
    dedup = Deduplicator(space)
    dedup.add_history({("x",): 1})
    assert dedup.is_duplicate({("x",): 1}) and not dedup.is_duplicate({("x",): 0})
    assert dedup({("x",): 1}) == {("x",): 0}
    with pytest.raises(_errors.NoMoreTrialError, match="Search space fully explored"):
        dedup({("x",): 0})


def test_empty_space_has_one_configuration() -> None:
    dedup = Deduplicator(format_search_space({}))
    assert dedup({}) == {}
    with pytest.raises(_errors.NoMoreTrialError):
        dedup({})


def test_qnormal_grid_walks_outward() -> None:
    space = format_search_space({"x": {"_type": "qnormal", "_value": [10, 2, 1]}})
    dedup = Deduplicator(space)
    values = [deformat_parameters(dedup({("x",): 10.0}), space)["x"] for _ in range(5)]
    assert values == [10.0, 11.0, 9.0, 12.0, 8.0]
