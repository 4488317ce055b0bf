from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pytest

from nni.algorithms.hpo.random_tuner import RandomTuner
from nni.algorithms.hpo.tpe_tuner import TpeArguments, TpeClassArgsValidator, TpeTuner
from nni.tuner import Tuner

QUADRATIC_SPACE = {name: {"_type": "uniform", "_value": [-5, 5]} for name in ("a", "b", "c")}


def _quadratic(params: dict[str, Any]) -> float:
    return (params["a"] - 1) ** 2 + (params["b"] + 2) ** 2 + (params["c"] - 0.5) ** 2


def _best_of(tuner: Tuner, objective: Any, trials: int, sign: float = 1.0) -> float:
    tuner.update_search_space(QUADRATIC_SPACE)
    best = math.inf
    for parameter_id in range(trials):
        params = tuner.generate_parameters(parameter_id)
        value = objective(params)
        best = min(best, value)
        tuner.receive_trial_result(parameter_id, params, sign * value)
        tuner.trial_end(parameter_id, True)
    return best


def test_defaults_match_nni() -> None:
    tuner = TpeTuner()
    assert tuner.optimize_mode.value == "minimize"
    # NNI's defaults but the liar (NNI's "best" bunches parallel suggestions together), 10 random
    # trials instead of 20 and the joint model (benchmarks/search_quality.py measured each).
    assert tuner.args == TpeArguments("worst", 10, 24, 25, 1.0, 0.25, True)
    assert TpeTuner(tpe_args={"multivariate": False, "n_startup_jobs": 20}).args.multivariate is False


@pytest.mark.parametrize("mode", ["minimize", "maximize"])
def test_tpe_beats_random_on_a_quadratic(mode: str) -> None:
    # Mean best-of-80 over 10 seeds. The runs are deterministic; the margin is wide (TPE about 0.63
    # against random 2.47 when this was written), so the bound is far from both.
    sign = 1.0 if mode == "minimize" else -1.0
    tpe = [_best_of(TpeTuner(mode, seed=seed), _quadratic, 80, sign) for seed in range(10)]
    rnd = [_best_of(RandomTuner(seed=seed), _quadratic, 80, sign) for seed in range(10)]
    assert np.mean(tpe) < 0.5 * np.mean(rnd)


def test_tpe_learns_categories() -> None:
    # Option 7 is best; random search would pick it about 6 times in 60 trials, TPE about 22.
    space = {"x": {"_type": "choice", "_value": list(range(10))}, "y": {"_type": "uniform", "_value": [0, 1]}}
    late_sevens = 0
    for seed in range(2):
        tuner = TpeTuner(seed=seed)
        tuner.update_search_space(space)
        for parameter_id in range(120):
            params = tuner.generate_parameters(parameter_id)
            late_sevens += parameter_id >= 60 and params["x"] == 7
            tuner.receive_trial_result(parameter_id, params, abs(params["x"] - 7) + params["y"])
    assert late_sevens > 2 * 15


def test_nested_parameters_are_modelled() -> None:
    # The "good" branch should win most late trials, and its x (the loss) should lean low. Random
    # search would give 50% and a mean of 0.5; TPE gave 82% and about 0.37 when this was written.
    space = {"m": {"_type": "choice", "_value": [
        {"_name": "bad", "x": {"_type": "uniform", "_value": [0, 1]}},
        {"_name": "good", "x": {"_type": "uniform", "_value": [0, 1]}},
    ]}}  # fmt: skip
    late = []
    for seed in range(3):
        tuner = TpeTuner(seed=seed, tpe_args={"n_startup_jobs": 10})
        tuner.update_search_space(space)
        for parameter_id in range(80):
            params = tuner.generate_parameters(parameter_id)
            loss = params["m"]["x"] + (1.0 if params["m"]["_name"] == "bad" else 0.0)
            tuner.receive_trial_result(parameter_id, params, loss)
            if parameter_id >= 40:
                late.append(params["m"])
    good = [p["x"] for p in late if p["_name"] == "good"]
    assert len(good) > 0.7 * len(late)
    assert np.mean(good) < 0.43


def test_failed_trials_steer_away() -> None:
    # Trials with x > 0.5 crash without a result; otherwise the loss is flat. Random search would
    # fail in half of the late trials (75 of 150); TPE failed in about 32 when this was written.
    late_failures = 0
    for seed in range(3):
        tuner = TpeTuner(seed=seed, tpe_args={"n_startup_jobs": 10})
        tuner.update_search_space({"x": {"_type": "uniform", "_value": [0, 1]}})
        for parameter_id in range(100):
            params = tuner.generate_parameters(parameter_id)
            if params["x"] > 0.5:
                tuner.trial_end(parameter_id, False)
                late_failures += parameter_id >= 50
            else:
                tuner.receive_trial_result(parameter_id, params, 1.0)
                tuner.trial_end(parameter_id, True)
    assert late_failures < 55


def test_result_after_failure_replaces_the_failure() -> None:
    tuner = TpeTuner(seed=0)
    tuner.update_search_space({"x": {"_type": "uniform", "_value": [0, 1]}})
    params = tuner.generate_parameters(0)
    tuner.trial_end(0, False)
    assert tuner._history[("x",)].losses == [math.inf]
    tuner.receive_trial_result(0, params, 0.25)
    assert tuner._history[("x",)].losses == [0.25]
    tuner.receive_trial_result(0, params, {"default": 0.5})  # a second result replaces the first
    assert tuner._history[("x",)].losses == [0.5]


def test_maximize_negates_the_metric() -> None:
    tuner = TpeTuner("maximize", seed=0)
    tuner.update_search_space({"x": {"_type": "uniform", "_value": [0, 1]}})
    params = tuner.generate_parameters(0)
    tuner.receive_trial_result(0, params, {"default": 3})
    assert tuner._history[("x",)].losses == [-3.0]
    tuner.update_search_space(
        {"x": {"_type": "uniform", "_value": [0, 2]}, "y": {"_type": "normal", "_value": [0, 1]}}
    )
    assert tuner._history[("x",)].losses == [-3.0]  # history of a key kept across space updates
    assert set(tuner.generate_parameters(1)) == {"x", "y"}


def test_bad_metric_is_rejected() -> None:
    tuner = TpeTuner(seed=0)
    tuner.update_search_space({"x": {"_type": "uniform", "_value": [0, 1]}})
    params = tuner.generate_parameters(0)
    with pytest.raises(RuntimeError, match="Incorrect final result"):
        tuner.receive_trial_result(0, params, {"accuracy": 0.3})


def test_constant_liar_adds_pending_trials() -> None:
    tuner = TpeTuner(seed=0, tpe_args={"n_startup_jobs": 3, "constant_liar_type": "worst"})
    tuner.update_search_space({"x": {"_type": "uniform", "_value": [0, 1]}})
    for parameter_id in range(4):
        params = tuner.generate_parameters(parameter_id)
        tuner.receive_trial_result(parameter_id, params, float(parameter_id))
    pending = [tuner.generate_parameters(10 + i)["x"] for i in range(3)]
    values, losses, real = tuner._histories(tuner._space)[("x",)]
    assert real == 4 and len(values) == 7
    assert list(losses[4:]) == [3.0, 3.0, 3.0]
    assert list(values[4:]) == pytest.approx(pending)
    tuner.trial_end(10, True)  # ended without a result: no longer pending, nothing learned
    assert len(tuner._histories(tuner._space)[("x",)][0]) == 6
    no_liar = TpeTuner(seed=0, tpe_args={"constant_liar_type": None})
    assert no_liar._liar.kind is None
    assert TpeTuner(seed=0, tpe_args={"constant_liar_type": "none"}).args.constant_liar_type is None


def test_import_data_before_search_space_is_replayed() -> None:
    tuner = TpeTuner(seed=0, tpe_args={"n_startup_jobs": 5})
    tuner.import_data([{"parameter": {"x": 0.1 * i}, "value": i} for i in range(6)])
    tuner.update_search_space({"x": {"_type": "uniform", "_value": [0, 1]}})
    _, _, real = tuner._histories(tuner._space)[("x",)]
    assert real == 6


def test_unknown_parameter_id_learns_from_parameters() -> None:
    tuner = TpeTuner(seed=0)
    tuner.update_search_space({"x": {"_type": "choice", "_value": ["a", "b"]}})
    tuner.receive_trial_result(None, {"x": "b"}, 1.0, customized=True)
    tuner.receive_trial_result(42, {"x": "zzz"}, 1.0)  # not in the space: ignored, no crash
    assert tuner._history[("x",)].values == [1.0]
    assert tuner.generate_parameters(0) == {"x": "a"}  # "b" counts as given out already


@pytest.mark.parametrize(
    ("tpe_args", "error"),
    [
        ({"gama": 0.3}, TypeError),
        ({"constant_liar_type": "median"}, ValueError),
        ({"gamma": 0}, ValueError),
        ({"n_ei_candidates": 0}, ValueError),
        ({"n_startup_jobs": -1}, ValueError),
    ],
)
def test_bad_tpe_args(tpe_args: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        TpeTuner(tpe_args=tpe_args)


def test_bad_optimize_mode() -> None:
    with pytest.raises(ValueError, match="'max' is not a valid OptimizeMode"):
        TpeTuner("max")


def test_class_args_validator() -> None:
    validator = TpeClassArgsValidator()
    validator.validate_class_args(optimize_mode="maximize", seed=3, tpe_args={"gamma": 0.5})
    validator.validate_class_args()
    for bad in ({"optimize_mode": "max"}, {"seed": "1"}, {"tpe_args": {"gama": 1}}, {"tpe_args": {"gamma": 2}},
                {"unknown": 1}):  # fmt: skip
        with pytest.raises(ValueError):
            validator.validate_class_args(**bad)


def test_suggest_is_fast_at_1000_observations() -> None:
    space = {f"x{i}": {"_type": "uniform", "_value": [-5, 5]} for i in range(5)}
    rng = np.random.default_rng(0)
    tuner = TpeTuner(seed=0)
    tuner.update_search_space(space)
    tuner.import_data([
        {"parameter": {k: float(rng.uniform(-5, 5)) for k in space}, "value": float(rng.random())}
        for _ in range(1000)
    ])  # fmt: skip
    tuner.generate_parameters(-1)
    start = time.perf_counter()
    for parameter_id in range(50):
        tuner.generate_parameters(parameter_id)
        tuner.trial_end(parameter_id, True)
    per_suggest = (time.perf_counter() - start) / 50
    # Budget in the brief: well under 10 ms; generous bound here so slow CI machines do not flake.
    assert per_suggest < 0.05


_BRANCHES = {"model": {"_type": "choice", "_value": [
    {"_name": "decoy", "a": {"_type": "randint", "_value": [0, 15]}},
    {"_name": "deep",
     "depth": {"_type": "randint", "_value": [1, 6]},
     "lr": {"_type": "loguniform", "_value": [1e-5, 1e-1]},
     "width": {"_type": "qloguniform", "_value": [8, 512, 8]}},
    {"_name": "flat", "c": {"_type": "uniform", "_value": [0, 1]}},
]}}  # fmt: skip


def _branch_loss(params: dict[str, Any]) -> float:
    # "decoy" is easy to get to 0.15 and no lower; "deep" reaches 0 but only with all three of its
    # parameters right, so its first random tries look worse than the decoy's.
    model = params["model"]
    if model["_name"] == "decoy":
        return 0.15 + (model["a"] - 7) ** 2 / 100
    if model["_name"] == "flat":
        return 0.3 + model["c"] / 10
    loss = (model["depth"] - 3) ** 2 / 10 + (math.log10(model["lr"]) + 3) ** 2 / 8
    return loss + (math.log2(model["width"]) - 7) ** 2 / 30


def test_a_branch_that_starts_worse_is_still_found() -> None:
    # With sharp categorical kernels the search committed to the decoy for good in about a quarter
    # of the runs (regret stuck at 0.15); smoothed kernels keep visiting the other branches.
    found = 0
    for seed in range(12):
        tuner = TpeTuner(seed=seed)
        tuner.update_search_space(_BRANCHES)
        best = math.inf
        for parameter_id in range(100):
            params = tuner.generate_parameters(parameter_id)
            loss = _branch_loss(params)
            best = min(best, loss)
            tuner.receive_trial_result(parameter_id, params, loss)
        found += best < 0.1
    assert found >= 11


def _record_mixtures(monkeypatch: pytest.MonkeyPatch) -> tuple[list[Any], list[int]]:
    from nni.algorithms.hpo import _tpe_joint

    built: list[Any] = []
    drawn: list[int] = []
    original_init, original_sample = _tpe_joint._Mixture.__init__, _tpe_joint._Mixture.sample

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        built.append(self)

    def sample(self: Any, count: int, rng: Any) -> Any:
        drawn.append(count)
        return original_sample(self, count, rng)

    monkeypatch.setattr(_tpe_joint._Mixture, "__init__", init)
    monkeypatch.setattr(_tpe_joint._Mixture, "sample", sample)
    return built, drawn


@pytest.mark.parametrize("with_choice", [False, True])
def test_smooth_groups_refine_around_the_best(monkeypatch: pytest.MonkeyPatch, with_choice: bool) -> None:
    # A group without a choice scores 3 x n_ei_candidates candidates and weighs its bad observations
    # by loss rank (the best of them least); with a choice in the group, 24 candidates and age order.
    space: dict[str, Any] = {"x": {"_type": "uniform", "_value": [0, 1]}, "y": {"_type": "uniform", "_value": [0, 1]}}
    if with_choice:
        space["k"] = {"_type": "choice", "_value": ["a", "b"]}
    tuner = TpeTuner(seed=0)
    tuner.update_search_space(space)
    rng = np.random.default_rng(0)
    # Losses fall with age: the oldest observations are the worst, so age order and loss order differ.
    records = []
    for index in range(80):
        params: dict[str, Any] = {"x": float(rng.random()), "y": float(rng.random())}
        if with_choice:
            params["k"] = "a"
        records.append({"parameter": params, "value": 100.0 - index})
    tuner.import_data(records)
    built, drawn = _record_mixtures(monkeypatch)
    tuner.generate_parameters(0)
    bad = built[1]
    weights = np.exp(bad.log_weights[:-1])  # the last component is the prior
    assert drawn == [24 if with_choice else 72]
    # 80 observations: the newest 8 are good; the bad mixture's first (least weighted) component is
    # the oldest observation with a choice in the group, the best of the bad ones without.
    first = records[0 if with_choice else 71]["parameter"]
    assert bad.points[0][:2].tolist() == [first["x"], first["y"]]
    assert weights[0] < weights[-1]
