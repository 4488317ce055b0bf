"""Behaviour of the population tuners PBT and RegularizedEvolutionTuner."""

from __future__ import annotations

import math
import os
from typing import Any

import pytest

from nni._errors import NoMoreTrialError
from nni.algorithms.hpo import registry
from nni.algorithms.hpo.pbt_tuner import PBTTuner
from nni.algorithms.hpo.regularized_evolution_tuner import RegularizedEvolutionTuner

SPACE = {
    "lr": {"_type": "uniform", "_value": [0.0, 1.0]},
    "opt": {"_type": "choice", "_value": ["sgd", "adam", "rmsprop"]},
}


def _pbt(tmp_path: Any, **kwargs: Any) -> PBTTuner:
    args = {"optimize_mode": "maximize", "all_checkpoint_dir": str(tmp_path), "population_size": 4,
            "fraction": 0.25, "resample_probability": 0.0, "seed": 0}
    args.update(kwargs)
    tuner = PBTTuner(**args)
    tuner.update_search_space(SPACE)
    return tuner


def _generation(tuner: PBTTuner, first_id: int) -> dict[int, dict[str, Any]]:
    return {first_id + i: tuner.generate_parameters(first_id + i) for i in range(tuner.population_size)}


def test_generation_zero_hands_out_each_member_once_with_its_directories(tmp_path: Any) -> None:
    tuner = _pbt(tmp_path)
    handed = _generation(tuner, 0)
    for i, params in enumerate(handed.values()):
        expected = os.path.join(str(tmp_path), str(i), "0")
        assert params["load_checkpoint_dir"] == params["save_checkpoint_dir"] == expected
        assert os.path.isdir(expected)  # created for the trial
        assert 0 <= params["lr"] <= 1 and params["opt"] in ("sgd", "adam", "rmsprop")
    with pytest.raises(NoMoreTrialError):
        tuner.generate_parameters(99)


def test_exploit_copies_a_better_checkpoint_and_explore_moves_by_factor(tmp_path: Any) -> None:
    tuner = _pbt(tmp_path, factor=0.2)
    handed = _generation(tuner, 0)
    scores = {0: 0.9, 1: 0.5, 2: 0.4, 3: 0.1}  # member 0 best, member 3 worst
    for pid, params in handed.items():
        tuner.receive_trial_result(pid, params, scores[pid])
    assert tuner.epoch == 1
    nxt = _generation(tuner, 10)
    by_member = {int(p["save_checkpoint_dir"].split(os.sep)[-2]): p for p in nxt.values()}
    for member, params in by_member.items():
        assert params["save_checkpoint_dir"] == os.path.join(str(tmp_path), str(member), "1")
    worst, best = by_member[3], handed[0]
    assert worst["load_checkpoint_dir"] == best["save_checkpoint_dir"]  # exploit
    low, high = 0.0, 1.0
    step = (high - low) * 0.2
    moved = worst["lr"] - best["lr"]
    assert math.isclose(abs(moved), step) or worst["lr"] in (low, high)  # explore: one step, clamped
    options = ["sgd", "adam", "rmsprop"]
    assert abs(options.index(worst["opt"]) - options.index(best["opt"])) <= 1
    for member in (0, 1, 2):  # the others continue from their own checkpoints, unchanged
        own = handed[member]
        assert by_member[member]["load_checkpoint_dir"] == own["save_checkpoint_dir"]
        assert (by_member[member]["lr"], by_member[member]["opt"]) == (own["lr"], own["opt"])


def test_minimize_ranks_the_other_way_and_failures_copy_a_better_member(tmp_path: Any) -> None:
    tuner = _pbt(tmp_path, optimize_mode="minimize", population_size=5, fraction=0.2)
    handed = _generation(tuner, 0)
    losses = {0: 5.0, 1: 0.1, 2: 3.0}
    for pid, loss in losses.items():
        tuner.receive_trial_result(pid, handed[pid], loss)
    tuner.trial_end(3, success=False)  # crashed
    tuner.trial_end(4, success=True)  # exited without reporting a final result
    nxt = _generation(tuner, 10)
    by_member = {int(p["save_checkpoint_dir"].split(os.sep)[-2]): p for p in nxt.values()}
    best_dir = handed[1]["save_checkpoint_dir"]
    for member in (3, 4):
        assert by_member[member]["load_checkpoint_dir"] == best_dir
    assert by_member[2]["load_checkpoint_dir"] == handed[2]["save_checkpoint_dir"]


def test_waiting_requests_are_answered_when_the_generation_ends(tmp_path: Any) -> None:
    tuner = _pbt(tmp_path, population_size=3)
    sent: list[tuple[int, dict[str, Any]]] = []
    first = tuner.generate_multiple_parameters([0, 1, 2, 3, 4], st_callback=lambda pid, p: sent.append((pid, p)))
    assert len(first) == 3 and not sent  # ids 3 and 4 wait
    for pid, params in enumerate(first):
        tuner.receive_trial_result(pid, params, float(pid))
    assert [pid for pid, _ in sent] == [3, 4]
    assert all(p["save_checkpoint_dir"].endswith(os.sep + "1") for _, p in sent)


def test_resume_rebuilds_the_population_from_history(tmp_path: Any) -> None:
    tuner = _pbt(tmp_path, population_size=4)
    gen0 = _generation(tuner, 0)
    for pid, params in gen0.items():
        tuner.receive_trial_result(pid, params, float(pid))
    gen1 = _generation(tuner, 10)
    tuner.receive_trial_result(10, gen1[10], 7.0)  # one member of generation 1 finished
    # the experiment stops: 11 was running (it will be run again), 12 and 13 were lost
    finished = [{"parameter": p, "value": float(pid)} for pid, p in gen0.items()]
    finished.append({"parameter": gen1[10], "value": 7.0})
    resumed = _pbt(tmp_path, population_size=4, seed=1)
    resumed.import_data(finished)
    resumed.recover_parameter_id([{"parameter_id": 11, "parameters": gen1[11]}])
    again = resumed.generate_multiple_parameters([20, 21, 22], st_callback=lambda *a: None)
    assert resumed.epoch == 1
    members = sorted(int(p["save_checkpoint_dir"].split(os.sep)[-2]) for p in again)
    assert members == [2, 3]  # 0 finished, 1 is running again, 2 and 3 are planned again
    for params in again:
        assert params["save_checkpoint_dir"].endswith(os.sep + "1")
    # the re-run trial of member 1 and the two new ones finish: generation 2 starts
    resumed.import_data([{"parameter": gen1[11], "value": 3.0}])
    for pid, params in zip([20, 21], again, strict=True):
        resumed.receive_trial_result(pid, params, 1.0)
    assert resumed.epoch == 2


def test_pbt_validator_and_space(tmp_path: Any) -> None:
    ok = {"optimize_mode": "maximize", "population_size": 4, "factor": 0.3, "resample_probability": 0.5}
    assert registry.validate_algorithm_config({"name": "PBT", "classArgs": ok}, "tuner") == []
    assert registry.validate_algorithm_config(
        {"name": "PBT", "classArgs": {"optimize_mode": "maximize", "factors": 0.3}}, "tuner") == []
    assert "Missing key: 'optimize_mode'" in registry.validate_algorithm_config({"name": "PBT"}, "tuner")[0]
    assert "fraction should be <= 0.5" in registry.validate_algorithm_config(
        {"name": "PBT", "classArgs": {"optimize_mode": "maximize", "fraction": 0.8}}, "tuner")[0]
    assert PBTTuner(factors=0.5, all_checkpoint_dir=str(tmp_path)).factor == 0.5
    with pytest.raises(ValueError, match="m: nested choices"):
        _pbt(tmp_path).update_search_space({"m": {"_type": "choice", "_value": [{"_name": "a"}]}})


@pytest.mark.parametrize(
    ("spec", "value"),
    [
        ({"_type": "randint", "_value": [0, 5]}, 4),
        ({"_type": "quniform", "_value": [0, 10, 2.5]}, 5.0),
        ({"_type": "loguniform", "_value": [1e-4, 1e-1]}, 1e-3),
        ({"_type": "qloguniform", "_value": [16, 128, 8]}, 64.0),
        ({"_type": "normal", "_value": [0, 2]}, 1.0),
        ({"_type": "qnormal", "_value": [0, 2, 0.5]}, 1.0),
        ({"_type": "lognormal", "_value": [0, 1]}, 2.0),
        ({"_type": "qlognormal", "_value": [1, 1, 2]}, 4.0),
    ],
)
def test_pbt_steps_every_type_within_bounds(tmp_path: Any, spec: dict[str, Any], value: Any) -> None:
    from nni.algorithms.hpo.pbt_tuner import _step
    from nni.common.hpo_utils import format_search_space

    formatted = format_search_space({"p": spec})[("p",)]
    for up in (True, False):
        moved = _step(formatted, value, 0.2, up)
        assert moved != value or spec["_type"] == "randint"
        if spec["_type"] in ("randint", "quniform", "loguniform", "qloguniform"):
            low, high = spec["_value"][0], spec["_value"][1]
            assert low <= moved <= high - (1 if spec["_type"] == "randint" else 0)
        if "q" in spec["_type"][:1]:
            q = spec["_value"][2]
            assert math.isclose(moved / q, round(moved / q))


NAS_SPACE = {
    "conv": {"_type": "layer_choice", "_value": ["conv3", "conv5", "pool"]},
    "skip": {"_type": "input_choice", "_value": {"candidates": ["in0", "in1", "in2"], "n_chosen": 2}},
}


def _score(arch: dict[str, Any]) -> float:
    return (arch["conv"]["_value"] == "conv5") + 0.5 * ("in2" in arch["skip"]["_value"])


def test_regularized_evolution_formats_ages_and_improves() -> None:
    tuner = RegularizedEvolutionTuner("maximize", population_size=5, sample_size=3, seed=0)
    tuner.update_search_space(NAS_SPACE)
    scores = []
    for i in range(30):
        arch = tuner.generate_parameters(i)
        conv, skip = arch["conv"], arch["skip"]
        assert NAS_SPACE["conv"]["_value"][conv["_idx"]] == conv["_value"]
        assert len(set(skip["_idx"])) == 2 and [["in0", "in1", "in2"][i] for i in skip["_idx"]] == skip["_value"]
        scores.append(_score(arch))
        tuner.receive_trial_result(i, arch, _score(arch))
    assert len(tuner._population) == 5  # aging: the oldest leave
    assert max(scores[10:]) == 1.5


def test_regularized_evolution_mutation_changes_one_decision() -> None:
    tuner = RegularizedEvolutionTuner("minimize", population_size=1, sample_size=1, seed=2)
    tuner.update_search_space(NAS_SPACE)
    parent = tuner.generate_parameters(0)
    tuner.receive_trial_result(0, parent, 1.0)
    child = tuner.generate_parameters(1)
    assert sum(child[key] != parent[key] for key in NAS_SPACE) == 1


def test_regularized_evolution_failures_and_concurrency() -> None:
    tuner = RegularizedEvolutionTuner("maximize", population_size=2, sample_size=2, seed=0)
    tuner.update_search_space(NAS_SPACE)
    first = [tuner.generate_parameters(i) for i in range(2)]
    tuner.trial_end(0, success=False)  # a failed initial architecture is replaced
    assert tuner.generate_parameters(2) is not None
    assert tuner.generate_parameters(3) is not None  # everything running: a random one, not an error
    tuner.receive_trial_result(1, first[1], 1.0)


def test_regularized_evolution_space_and_args() -> None:
    with pytest.raises(ValueError, match='x: type "uniform" is not supported by RegularizedEvolutionTuner'):
        RegularizedEvolutionTuner().update_search_space({"x": {"_type": "uniform", "_value": [0, 1]}})
    errors = registry.validate_algorithm_config(
        {"name": "RegularizedEvolutionTuner", "classArgs": {"optimize_mode": "maximize", "sample_size": 0}}, "tuner")
    assert "sample_size should be in [1, 9999]" in errors[0]
    check = registry.search_space_validator({"name": "RegularizedEvolutionTuner"})
    assert check(NAS_SPACE)
    with pytest.raises(ValueError, match="n_chosen of input_choice"):
        check({"s": {"_type": "input_choice", "_value": {"candidates": ["a"], "n_chosen": 3}}})


def test_pbt_import_returns_the_generation_reached(tmp_path: Any) -> None:
    # NNI's own test imports records without load_checkpoint_dir and reads the generation back
    tuner = _pbt(tmp_path, population_size=3)
    gen0 = [{"parameter": {"lr": 0.1 * i, "opt": "sgd", "save_checkpoint_dir": os.path.join(str(tmp_path), str(i), "0")},
             "value": float(i)} for i in range(3)]
    assert tuner.import_data(gen0) == 1
    gen1 = [{"parameter": {"lr": 0.5, "opt": "adam", "save_checkpoint_dir": os.path.join(str(tmp_path), "0", "1")},
             "value": 3.0}]
    assert tuner.import_data(gen1) == 1
    handed = tuner.generate_multiple_parameters([0, 1, 2], st_callback=lambda *a: None)
    assert sorted(p["save_checkpoint_dir"] for p in handed) == [os.path.join(str(tmp_path), str(i), "1") for i in (1, 2)]


def test_a_resumed_member_whose_rerun_fails_does_not_stall_the_generation(tmp_path: Any) -> None:
    tuner = _pbt(tmp_path, population_size=4)
    gen0 = _generation(tuner, 0)
    for pid, params in gen0.items():
        tuner.receive_trial_result(pid, params, float(pid))
    gen1 = _generation(tuner, 10)
    finished = [{"parameter": p, "value": float(pid)} for pid, p in gen0.items()]
    resumed = _pbt(tmp_path, population_size=4, seed=1)
    resumed.import_data(finished)
    resumed.recover_parameter_id([{"parameter_id": pid, "parameters": gen1[pid]} for pid in (10, 11)])
    again = resumed.generate_multiple_parameters([20, 21], st_callback=lambda *a: None)
    assert len(again) == 2 and resumed.epoch == 1
    assert resumed.tracks_resumed_trials  # the dispatcher reports these ends to it
    for pid, params in zip([20, 21], again, strict=True):
        resumed.receive_trial_result(pid, params, 1.0)
    resumed.import_data([{"parameter": gen1[10], "value": 2.0}])
    assert resumed.epoch == 1  # member 1's re-run is still out
    resumed.trial_end(11, False)  # ... and fails without a result
    assert resumed.epoch == 2
