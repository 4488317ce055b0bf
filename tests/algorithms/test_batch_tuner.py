from __future__ import annotations

import json

import pytest

from nni._errors import NoMoreTrialError
from nni.algorithms.hpo.batch_tuner import BatchTuner
from nni.algorithms.hpo.registry import create_algorithm

CONFIGS = [
    {"optimizer": "Adam", "lr": 0.001},
    {"optimizer": "SGD", "lr": 0.01},
    {"optimizer": "SGD", "lr": 0.1, "momentum": 0.9},
]
SPACE = {"combine_params": {"_type": "choice", "_value": CONFIGS}}


def test_gives_the_listed_sets_in_order() -> None:
    tuner = BatchTuner()
    tuner.update_search_space(SPACE)
    assert tuner.generate_multiple_parameters([0, 1, 2, 3]) == CONFIGS
    with pytest.raises(NoMoreTrialError, match="no more parameters now."):
        tuner.generate_parameters(4)
    tuner.receive_trial_result(0, CONFIGS[0], {"default": 0.5})  # ignored
    tuner.trial_end(0, True)


def test_scalar_options_and_alias() -> None:
    tuner = create_algorithm({"name": "BatchTuner"}, "tuner")
    assert isinstance(tuner, BatchTuner)
    tuner.update_search_space({"x": {"_type": "choice", "_value": [3, "a"]}})
    assert [tuner.generate_parameters(0), tuner.generate_parameters(1)] == [3, "a"]


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ({}, "only supprt one combined-paramreters key"),
        ({**SPACE, "other": {"_type": "choice", "_value": [1]}}, "only supprt one combined-paramreters key"),
        ({"p": {"_type": "uniform", "_value": [0, 1]}}, "type is choice"),
        ({"p": {"_type": "choice", "_value": "abc"}}, "not a list"),
    ],
)
def test_bad_spaces(space: dict, message: str) -> None:
    with pytest.raises(RuntimeError, match=message):
        BatchTuner().update_search_space(space)


def test_import_data_drops_sets_already_run() -> None:
    tuner = BatchTuner()
    tuner.import_data([{"parameter": CONFIGS[0], "value": 1}])  # before the space: nothing to do
    tuner.update_search_space(SPACE)
    assert tuner.generate_parameters(0) == CONFIGS[0]
    tuner.import_data([
        json.dumps({"parameter": CONFIGS[2], "value": 0}),  # a zero metric still means "was run"
        {"parameter": CONFIGS[1], "value": None},  # no result: run it
    ])  # fmt: skip
    assert tuner.generate_multiple_parameters([1, 2, 3]) == [CONFIGS[1]]


def test_generate_before_space_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="update_search_space"):
        BatchTuner().generate_parameters(0)
