"""Anneal / TPE_legacy (``HyperoptTuner``) and Evolution: NNI's interfaces, and that they search well."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from nni.algorithms.hpo.evolution_tuner import EvolutionClassArgsValidator, EvolutionTuner
from nni.algorithms.hpo.hyperopt_tuner import HyperoptClassArgsValidator, HyperoptTuner
from nni.algorithms.hpo.random_tuner import RandomTuner
from nni.algorithms.hpo.registry import create_algorithm, validate_algorithm_config
from nni.algorithms.hpo.tpe_tuner import TpeTuner
from nni.tuner import Tuner

SPACE = {name: {"_type": "uniform", "_value": [-5, 5]} for name in ("a", "b", "c")}


def _quadratic(params: dict[str, Any]) -> float:
    return (params["a"] - 1) ** 2 + (params["b"] + 2) ** 2 + (params["c"] - 0.5) ** 2


def _best_of(tuner: Tuner, trials: int, maximize: bool, batch: int = 1) -> float:
    tuner.update_search_space(SPACE)
    best = math.inf
    parameter_id = 0
    while parameter_id < trials:
        ids = list(range(parameter_id, parameter_id + batch))
        pending = [(i, tuner.generate_parameters(i)) for i in ids]
        for i, params in pending:
            value = _quadratic(params)
            best = min(best, value)
            tuner.receive_trial_result(i, params, {"default": -value if maximize else value})
            tuner.trial_end(i, True)
        parameter_id += batch
    return best


@pytest.mark.parametrize("maximize", [False, True])
@pytest.mark.parametrize(
    "make",
    [
        lambda mode, seed: HyperoptTuner("anneal", mode, seed=seed),
        lambda mode, seed: HyperoptTuner("tpe", mode, parallel_optimize=True, seed=seed),
        lambda mode, seed: EvolutionTuner(mode, population_size=16, seed=seed),
    ],
    ids=["anneal", "tpe_legacy", "evolution"],
)
def test_beats_random_search(make: Any, maximize: bool) -> None:
    # Mean best-of-80 over 8 seeds, sequential and 4 at a time; random search gets about 2.5.
    mode = "maximize" if maximize else "minimize"
    for batch in (1, 4):
        ours = [_best_of(make(mode, seed), 80, maximize, batch) for seed in range(8)]
        rnd = [_best_of(RandomTuner(seed=seed), 80, maximize, batch) for seed in range(8)]
        assert np.mean(ours) < 0.5 * np.mean(rnd)


def test_hyperopt_tuner_arguments() -> None:
    tuner = HyperoptTuner("tpe")  # positional, as NNI's docs construct it
    assert (tuner.algorithm_name, tuner.optimize_mode.value, tuner.parallel_optimize) == ("tpe", "minimize", False)
    assert isinstance(tuner._engine, TpeTuner) and tuner._engine.args.constant_liar_type is None
    assert tuner.constant_liar_type == "max"
    assert HyperoptTuner("tpe", parallel_optimize=True, constant_liar_type="min")._engine.args.constant_liar_type == "best"  # type: ignore[attr-defined]
    parallel = HyperoptTuner("tpe", "maximize", True, "max")
    assert parallel._engine.args.constant_liar_type == "worst"  # type: ignore[attr-defined]
    assert HyperoptTuner("tpe", parallel_optimize=True, constant_liar_type="mean")._engine.args.constant_liar_type == "mean"  # type: ignore[attr-defined]
    assert isinstance(HyperoptTuner("random_search")._engine, RandomTuner)
    with pytest.raises(RuntimeError, match="Not support tuner algorithm in hyperopt."):
        HyperoptTuner("smac")
    with pytest.raises(ValueError, match="constant_liar_type"):
        HyperoptTuner("tpe", constant_liar_type="best")
    with pytest.raises(ValueError, match="not a valid OptimizeMode"):
        HyperoptTuner("anneal", "max")


def test_registry_builds_anneal_and_tpe_legacy() -> None:
    anneal = create_algorithm({"name": "Anneal", "classArgs": {"optimize_mode": "maximize"}}, "tuner")
    assert isinstance(anneal, HyperoptTuner) and anneal.algorithm_name == "anneal"
    legacy = create_algorithm({"name": "TPE_legacy", "classArgs": {"parallel_optimize": True}}, "tuner")
    assert legacy.algorithm_name == "tpe" and legacy.parallel_optimize
    evolution = create_algorithm({"name": "Evolution", "classArgs": {"optimize_mode": "minimize",
                                                                    "population_size": 8}}, "tuner")  # fmt: skip
    assert isinstance(evolution, EvolutionTuner) and evolution.population_size == 8
    assert validate_algorithm_config({"name": "Evolution"}, "tuner") == ["tuner.classArgs: Missing key: 'optimize_mode'"]
    assert validate_algorithm_config({"name": "Anneal", "classArgs": {"constant_liar_type": "best"}}, "tuner") == [
        "tuner.classArgs: constant_liar_type should be in ['min', 'max', 'mean']!"
    ]


def test_validators() -> None:
    hyperopt = HyperoptClassArgsValidator()
    hyperopt.validate_class_args()
    hyperopt.validate_class_args(optimize_mode="maximize", parallel_optimize=True, constant_liar_type="mean", seed=1)
    evolution = EvolutionClassArgsValidator()
    evolution.validate_class_args(optimize_mode="minimize", population_size=100)
    for validator, bad in [
        (hyperopt, {"optimize_mode": "max"}),
        (hyperopt, {"parallel_optimize": "yes"}),
        (hyperopt, {"algorithm_name": "smac"}),
        (hyperopt, {"unknown": 1}),
        (evolution, {"population_size": 10}),  # optimize_mode is required, as in NNI
        (evolution, {"optimize_mode": "maximize", "population_size": 0}),
        (evolution, {"optimize_mode": "maximize", "population_size": 10.0}),
    ]:
        with pytest.raises(ValueError):
            validator.validate_class_args(**bad)


def test_config_checks_do_not_import_numpy() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from nni.algorithms.hpo.registry import validate_algorithm_config as v\n"
        "assert v({'name': 'Anneal', 'classArgs': {'optimize_mode': 'maximize'}}, 'tuner') == []\n"
        "assert v({'name': 'Evolution', 'classArgs': {'optimize_mode': 'maximize'}}, 'tuner') == []\n"
        "assert v({'name': 'GridSearch'}, 'tuner') == [] and v({'name': 'Batch'}, 'tuner') == []\n"
        "assert 'numpy' not in sys.modules, 'numpy imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_evolution_population() -> None:
    tuner = EvolutionTuner("maximize", population_size=4, seed=0)
    tuner.update_search_space({"x": {"_type": "uniform", "_value": [0, 1]}})
    # More trials at once than the population: every request still gets parameters (NNI raised
    # NoMoreTrialError and left the worker idle).
    pending = tuner.generate_multiple_parameters(list(range(6)))
    assert len(pending) == 6
    for parameter_id, params in enumerate(pending):
        if parameter_id == 5:
            tuner.trial_end(parameter_id, False)  # failed: never joins the population
            continue
        tuner.receive_trial_result(parameter_id, params, params["x"])
        tuner.trial_end(parameter_id, True)
    assert [round(loss, 6) for _, loss in tuner._population] == sorted(
        round(-p["x"], 6) for p in pending[:5]
    )[:4]  # the best four, best first
    with pytest.raises(ValueError, match="population_size"):
        EvolutionTuner("maximize", population_size=0)


def test_evolution_and_anneal_import_data() -> None:
    records = [{"parameter": {"x": 0.1 * i}, "value": float(i)} for i in range(10)]
    evolution = EvolutionTuner("minimize", population_size=5, seed=0)
    evolution.update_search_space({"x": {"_type": "uniform", "_value": [0, 1]}})
    evolution.import_data(records)
    assert [loss for _, loss in evolution._population] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert evolution._random_left == 0  # the imported trials make up the first population
    anneal = HyperoptTuner("anneal", "maximize", seed=0)
    anneal.update_search_space({"x": {"_type": "uniform", "_value": [0, 1]}})
    anneal.import_data([*records, {"parameter": {"x": 0.5}, "value": 0}, {"parameter": {"y": 0.3}, "value": 1}])
    results = anneal._engine._results  # type: ignore[attr-defined]
    assert len(results) == 11 and results[0][1] == -9.0  # maximize: the largest metric is best
    # Anneal searches around the best result (x = 0.9).
    xs = [anneal.generate_parameters(i)["x"] for i in range(20)]
    assert np.median(xs) > 0.6


def test_anneal_steps_shrink_with_results() -> None:
    tuner = HyperoptTuner("anneal", seed=1)
    tuner.update_search_space({"x": {"_type": "uniform", "_value": [0, 100]}})
    tuner.receive_trial_result(None, {"x": 50.0}, 0.0)  # a customized trial: learned from its parameters
    early = [tuner.generate_parameters(i)["x"] for i in range(30)]
    for i in range(30):
        tuner.trial_end(i, False)
    tuner.import_data([{"parameter": {"x": 0.5 * i}, "value": 1.0 + abs(0.5 * i - 50)} for i in range(200)])
    late = [tuner.generate_parameters(100 + i)["x"] for i in range(30)]
    assert np.std(late) < 0.5 * np.std(early)
    assert abs(np.median(late) - 50) < 5


def test_randint_and_nested_moves_stay_valid() -> None:
    space = {
        "n": {"_type": "randint", "_value": [0, 3]},
        "m": {"_type": "choice", "_value": [
            {"_name": "a", "x": {"_type": "qloguniform", "_value": [1, 64, 1]}},
            {"_name": "b", "y": {"_type": "qnormal", "_value": [0, 2, 0.5]}},
        ]},
    }  # fmt: skip
    for tuner in (HyperoptTuner("anneal", seed=3), EvolutionTuner("minimize", population_size=4, seed=3)):
        tuner.update_search_space(space)
        for parameter_id in range(60):
            params = tuner.generate_parameters(parameter_id)
            assert params["n"] in (0, 1, 2)
            branch = params["m"]
            assert set(branch) == ({"_name", "x"} if branch["_name"] == "a" else {"_name", "y"})
            if branch["_name"] == "a":
                assert 1 <= branch["x"] <= 64 and float(branch["x"]).is_integer()
            tuner.receive_trial_result(parameter_id, params, params["n"] + (branch["_name"] == "b"))


def test_anneal_moves_a_branch_its_parent_lacks() -> None:
    # The 20 best results are in branch "a"; branch "b" was tried 20 times, with y near 8, and is
    # never a parent. Children that switch to "b" start from one of those y and move around it
    # (copied unchanged, y would repeat a tried configuration and the switch would be undone).
    space = {"m": {"_type": "choice", "_value": [
        {"_name": "a", "x": {"_type": "uniform", "_value": [0, 1]}},
        {"_name": "b", "y": {"_type": "uniform", "_value": [0, 10]}},
    ]}}  # fmt: skip
    tuner = HyperoptTuner("anneal", seed=5)
    tuner.update_search_space(space)
    for i in range(20):
        tuner.receive_trial_result(None, {"m": {"_name": "a", "x": 0.3 + 0.01 * i}}, 0.01 * i)
    tried = [7.5 + 0.05 * i for i in range(20)]
    for i, y in enumerate(tried):
        tuner.receive_trial_result(None, {"m": {"_name": "b", "y": y}}, 1.0 + 0.01 * i)
    ys = []
    for parameter_id in range(200):
        branch = tuner.generate_parameters(parameter_id)["m"]
        tuner.trial_end(parameter_id, False)
        if branch["_name"] == "b":
            ys.append(branch["y"])
    assert len(ys) >= 10
    assert not set(ys) & set(tried)
    assert abs(np.median(ys) - 8.0) < 1.5  # around the donor, not drawn from the prior (median 5)


def test_window_draw_stays_in_a_window_shifted_inside_the_bounds() -> None:
    from nni.algorithms.hpo._local_moves import has_window, window_draw
    from nni.common.hpo_utils import format_search_space

    space = format_search_space({
        "x": {"_type": "uniform", "_value": [0, 10]},
        "q": {"_type": "quniform", "_value": [0, 10, 2]},
    })  # fmt: skip
    x, q = space[("x",)], space[("q",)]
    assert has_window(x) and not has_window(q)
    rng = np.random.default_rng(0)
    middle = [window_draw(x, 5.0, 0.2, rng) for _ in range(500)]
    assert 4.0 <= min(middle) and max(middle) <= 6.0 and max(middle) - min(middle) > 1.8
    # At the bound the window [0, 2] is kept whole instead of being cut to [0, 1].
    edge = [window_draw(x, 0.0, 0.2, rng) for _ in range(500)]
    assert 0.0 <= min(edge) and max(edge) <= 2.0 and np.mean(edge) > 0.8
