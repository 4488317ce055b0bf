"""Multi-objective experiments: objectives, Pareto fronts, and TPE searching for the front."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from nni.algorithms.hpo import registry
from nni.algorithms.hpo.mo_tpe_tuner import MultiObjectiveTpeTuner, rank_scores
from nni.algorithms.hpo.random_tuner import RandomTuner
from nni.common.objectives import (
    Objective,
    losses,
    nondominated_ranks,
    pareto_front,
    pareto_trials,
    parse_objectives,
)

MODE = {"err": "minimize", "size": "minimize"}


def test_parse_objectives() -> None:
    assert parse_objectives("maximize") is None
    assert parse_objectives({"acc": "maximize", "ms": "minimize"}) == [Objective("acc", True), Objective("ms", False)]
    with pytest.raises(ValueError, match="two or more metrics"):
        parse_objectives({"acc": "maximize"})
    with pytest.raises(ValueError, match="optimize_mode.ms should be 'maximize' or 'minimize'"):
        parse_objectives({"acc": "maximize", "ms": "fast"})


def test_losses_and_front() -> None:
    objectives = parse_objectives({"acc": "maximize", "ms": "minimize"})
    assert objectives is not None
    assert losses({"default": 0.9, "acc": 0.9, "ms": 3}, objectives) == (-0.9, 3.0)
    assert losses(json.dumps(json.dumps({"acc": 1, "ms": 2})), objectives) == (-1.0, 2.0)  # as stored
    assert losses({"acc": 0.9}, objectives) is None
    points = [("a", (1.0, 5.0)), ("b", (2.0, 2.0)), ("c", (3.0, 3.0)), ("d", (5.0, 1.0)), ("e", (2.0, 2.0))]
    assert pareto_front(points) == ["a", "b", "d", "e"]
    assert nondominated_ranks([p for _, p in points]) == [0, 0, 1, 0, 0]


def test_rank_scores_follow_nondominated_sorting() -> None:
    rng = np.random.default_rng(0)
    points = rng.random((60, 2))
    scores = rank_scores(points)
    ranks = nondominated_ranks([tuple(p) for p in points])
    assert np.array_equal(np.floor(scores).astype(int), ranks)
    front = points[np.asarray(ranks) == 0]
    extremes = {int(np.argmin(front[:, 0])), int(np.argmin(front[:, 1]))}
    front_scores = scores[np.asarray(ranks) == 0]
    assert all(front_scores[i] == 0.0 for i in extremes)  # the ends of a front are kept spread


def zdt1(params: dict[str, Any]) -> dict[str, float]:
    x, y = params["x"], params["y"]
    g = 1 + 9 * y
    size = g * (1 - math.sqrt(x / g))
    return {"default": x, "err": x, "size": size}


def hypervolume(values: list[dict[str, float]], reference: tuple[float, float] = (1.1, 11.0)) -> float:
    points = sorted({(v["err"], v["size"]) for v in values})
    volume, best_size = 0.0, reference[1]
    for err, size in points:
        if size < best_size and err < reference[0]:
            volume += (reference[0] - err) * (best_size - size)
            best_size = size
    return volume


SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}, "y": {"_type": "uniform", "_value": [0, 1]}}


def _run(tuner: Any, budget: int) -> list[dict[str, float]]:
    tuner.update_search_space(SPACE)
    values = []
    for i in range(budget):
        params = tuner.generate_parameters(i)
        value = zdt1(params)
        values.append(value)
        tuner.receive_trial_result(i, params, value)
    return values


def test_multi_objective_tpe_finds_a_better_front_than_random() -> None:
    ours = [hypervolume(_run(MultiObjectiveTpeTuner(MODE, seed=s), 60)) for s in range(3)]
    random = [hypervolume(_run(RandomTuner(seed=s), 60)) for s in range(3)]
    assert sum(ours) / 3 > sum(random) / 3


def test_registry_routes_tpe_with_several_objectives() -> None:
    config = {"name": "TPE", "classArgs": {"optimize_mode": {"acc": "maximize", "ms": "minimize"}, "seed": 1}}
    assert registry.validate_algorithm_config(config, "tuner") == []
    tuner = registry.create_algorithm(config, "tuner")
    assert isinstance(tuner, MultiObjectiveTpeTuner)
    errors = registry.validate_algorithm_config({"name": "TPE", "classArgs": {"optimize_mode": {"acc": "up", "b": "minimize"}}}, "tuner")
    assert errors == ["tuner.classArgs: optimize_mode.acc should be 'maximize' or 'minimize', got 'up'"]
    single = registry.create_algorithm({"name": "TPE", "classArgs": {"optimize_mode": "maximize"}}, "tuner")
    assert type(single).__name__ == "TpeTuner"  # single-objective TPE is unchanged


def test_a_result_without_every_metric_counts_as_failed() -> None:
    tuner = MultiObjectiveTpeTuner(MODE, seed=0)
    tuner.update_search_space(SPACE)
    params = tuner.generate_parameters(0)
    tuner.receive_trial_result(0, params, {"default": 1.0, "err": 1.0})  # no "size"
    tuner.import_data([{"parameter": {"x": 0.5, "y": 0.0}, "value": {"default": 0.5, "err": 0.5, "size": 0.3}}])
    assert tuner.generate_parameters(1) is not None


def _record(trial_id: str, seq: int, value: Any, status: str = "SUCCEEDED") -> Any:
    metric = SimpleNamespace(data=json.dumps(json.dumps(value)))
    return SimpleNamespace(trial_job_id=trial_id, sequence_id=seq, status=status, final_metric=metric,
                           parameters=lambda: {"x": seq})


def test_manager_front_of_trials() -> None:
    params = {"tuner": {"name": "TPE", "classArgs": {"optimize_mode": {"acc": "maximize", "ms": "minimize"}}}}
    trials = {
        "A": _record("A", 0, {"default": 0.9, "acc": 0.9, "ms": 30}),
        "B": _record("B", 1, {"default": 0.8, "acc": 0.8, "ms": 10}),
        "C": _record("C", 2, {"default": 0.7, "acc": 0.7, "ms": 20}),  # dominated by B
        "D": _record("D", 3, {"default": 0.95, "acc": 0.95, "ms": 5}, status="FAILED"),
        "E": _record("E", 4, {"default": 0.5}),  # lacks the objectives
    }
    front = pareto_trials(params, trials)
    assert front["objectives"] == [{"name": "acc", "mode": "maximize"}, {"name": "ms", "mode": "minimize"}]
    assert [t["trialJobId"] for t in front["trials"]] == ["A", "B"]
    assert front["trials"][1]["objectives"] == {"acc": 0.8, "ms": 10}
    assert pareto_trials({"tuner": {"name": "TPE"}}, trials) == {"objectives": [], "trials": []}
