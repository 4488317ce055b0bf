"""Behaviour of the model-based tuners GP, Metis, SMAC and DNGO.

Each must find better configurations than random search on smooth low-dimensional problems
(fixed seeds), give only legal values of every type it accepts, refuse the others naming the
parameter, avoid repeats (also for trials still running), and learn from imported results.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from nni._errors import NoMoreTrialError
from nni.algorithms.hpo import registry
from nni.algorithms.hpo.dngo_tuner import DNGOTuner
from nni.algorithms.hpo.gp_tuner import GPTuner
from nni.algorithms.hpo.metis_tuner import MetisTuner
from nni.algorithms.hpo.random_tuner import RandomTuner
from nni.algorithms.hpo.smac_tuner import SMACTuner
from nni.tuner import Tuner

Factory = Callable[..., Tuner]

# Small selection budgets keep the tests fast; the algorithms are the same.
MODEL_TUNERS: dict[str, Factory] = {
    "GP": lambda mode="minimize", seed=0, **kw: GPTuner(
        mode, cold_start_num=kw.get("cold", 8), selection_num_warm_up=2000, selection_num_starting_points=20,
        seed=seed),
    "Metis": lambda mode="minimize", seed=0, **kw: MetisTuner(
        mode, cold_start_num=kw.get("cold", 8), selection_num_starting_points=20, seed=seed),
    "SMAC": lambda mode="minimize", seed=0, **kw: SMACTuner(mode, seed=seed, config_dedup=kw.get("dedup", False)),
    "DNGO": lambda mode="minimize", seed=0, **kw: DNGOTuner(
        mode, sample_size=500, trials_per_update=kw.get("cold", 8), num_epochs_per_training=200, seed=seed),
}  # fmt: skip

BRANIN_SPACE = {"x": {"_type": "uniform", "_value": [-5, 10]}, "y": {"_type": "uniform", "_value": [0, 15]}}


def branin(params: dict[str, Any]) -> float:
    x, y = params["x"], params["y"]
    return (y - 5.1 / (4 * math.pi**2) * x * x + 5 / math.pi * x - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x) + 10


def run(tuner: Tuner, space: dict[str, Any], objective: Callable[[dict[str, Any]], float], budget: int) -> float:
    tuner.update_search_space(space)
    best = math.inf
    for i in range(budget):
        params = tuner.generate_parameters(i)
        value = objective(params)
        best = min(best, value)
        tuner.receive_trial_result(i, params, value)
    return best


@pytest.mark.parametrize("name", list(MODEL_TUNERS))
def test_beats_random_search_on_branin(name: str) -> None:
    seeds = [0, 1, 2]
    model = [run(MODEL_TUNERS[name](seed=s), BRANIN_SPACE, branin, 30) for s in seeds]
    random = [run(RandomTuner(seed=s), BRANIN_SPACE, branin, 30) for s in seeds]
    # the optimum is 0.398; random search with 30 draws ends around 1-3
    assert sum(model) / len(model) < sum(random) / len(random)
    assert min(model) < 1.0


@pytest.mark.parametrize("name", ["GP", "Metis", "SMAC"])
def test_converges_on_a_quadratic_when_maximizing(name: str) -> None:
    space = {"a": {"_type": "uniform", "_value": [0, 1]}, "b": {"_type": "uniform", "_value": [0, 1]}}
    tuner = MODEL_TUNERS[name](mode="maximize", seed=3)
    tuner.update_search_space(space)
    scores = []
    for i in range(30):
        params = tuner.generate_parameters(i)
        score = -((params["a"] - 0.7) ** 2 + (params["b"] - 0.2) ** 2)
        scores.append(score)
        tuner.receive_trial_result(i, params, {"default": score, "other": 1})
    best = max(scores)
    assert best > -0.01  # within 0.1 of (0.7, 0.2)
    assert max(scores[20:]) > max(scores[:8])  # the model, not the cold start, found it


MIXED_SPACE = {
    "c": {"_type": "choice", "_value": [1, 4, 16, 64]},
    "r": {"_type": "randint", "_value": [2, 7]},
    "u": {"_type": "uniform", "_value": [-1, 1]},
    "q": {"_type": "quniform", "_value": [0, 10, 2.5]},
    "l": {"_type": "loguniform", "_value": [1e-4, 1e-1]},
    "ql": {"_type": "qloguniform", "_value": [16, 128, 8]},
}
ACCEPTED = {
    "GP": ["c", "r", "u", "q", "l", "ql"],
    "DNGO": ["c", "r", "u", "q", "l", "ql"],
    "Metis": ["c", "r", "u", "q"],
    "SMAC": ["c", "r", "u", "q", "l"],
}


def _check_legal(params: dict[str, Any], keys: list[str]) -> None:
    assert set(params) == set(keys)
    for key, value in params.items():
        spec = MIXED_SPACE[key]
        low, high = spec["_value"][0], spec["_value"][1]
        if key == "c":
            assert value in spec["_value"]
        elif key == "r":
            assert isinstance(value, int) and low <= value < high
        else:
            assert low <= value <= high
            if spec["_type"].startswith("q"):
                q = spec["_value"][2]
                on_grid = abs(value / q - round(value / q)) < 1e-9
                assert on_grid or value in (low, high)


@pytest.mark.parametrize("name", list(MODEL_TUNERS))
def test_every_accepted_type_gives_legal_values(name: str) -> None:
    keys = ACCEPTED[name]
    space = {key: MIXED_SPACE[key] for key in keys}
    tuner = MODEL_TUNERS[name](cold=5, seed=4)
    tuner.update_search_space(space)
    for i in range(14):
        params = tuner.generate_parameters(i)
        _check_legal(params, keys)
        value = sum(float(v) for v in params.values())
        tuner.receive_trial_result(i, params, value)


@pytest.mark.parametrize(
    ("name", "bad_key", "bad_spec", "message"),
    [
        ("GP", "n", {"_type": "normal", "_value": [0, 1]}, 'n: type "normal" is not supported by GP'),
        ("Metis", "l", {"_type": "loguniform", "_value": [1, 10]}, 'l: type "loguniform" is not supported by Metis'),
        ("SMAC", "ql", {"_type": "qloguniform", "_value": [1, 10, 1]}, 'ql: type "qloguniform" is not supported'),
        ("DNGO", "s", {"_type": "choice", "_value": [1, "two"]}, "s[1]: DNGO needs numeric choice options"),
        ("GP", "m", {"_type": "choice", "_value": [{"_name": "a"}, {"_name": "b"}]}, "m: nested choices"),
    ],
)
def test_unsupported_types_are_refused_by_tuner_and_config(name: str, bad_key: str, bad_spec: dict[str, Any],
                                                           message: str) -> None:
    space = {"x": {"_type": "uniform", "_value": [0, 1]}, bad_key: bad_spec}
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        MODEL_TUNERS[name]().update_search_space(space)
    check = registry.search_space_validator({"name": name})
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        check(space)


def test_smac_accepts_string_choices() -> None:
    tuner = SMACTuner("maximize", seed=0)
    tuner.update_search_space({"opt": {"_type": "choice", "_value": ["sgd", "adam", "rmsprop"]},
                               "lr": {"_type": "loguniform", "_value": [1e-4, 1]}})
    seen = set()
    for i in range(25):
        params = tuner.generate_parameters(i)
        seen.add(params["opt"])
        tuner.receive_trial_result(i, params, (params["opt"] == "adam") - abs(math.log10(params["lr"]) + 2))
    assert seen == {"sgd", "adam", "rmsprop"}


@pytest.mark.parametrize("name", list(MODEL_TUNERS))
def test_running_trials_get_different_configurations(name: str) -> None:
    tuner = MODEL_TUNERS[name](cold=6, seed=5)
    tuner.update_search_space(BRANIN_SPACE)
    for i in range(8):
        params = tuner.generate_parameters(i)
        tuner.receive_trial_result(i, params, branin(params))
    batch = [tuner.generate_parameters(100 + i) for i in range(4)]  # four requests, no results yet
    points = {(round(p["x"], 6), round(p["y"], 6)) for p in batch}
    assert len(points) == 4


@pytest.mark.parametrize("name", ["GP", "Metis", "DNGO"])
def test_finite_space_is_used_up_before_anything_repeats(name: str) -> None:
    space = {"c": {"_type": "choice", "_value": [1, 2, 3]}, "r": {"_type": "randint", "_value": [0, 3]}}
    tuner = MODEL_TUNERS[name](cold=3, seed=6)
    tuner.update_search_space(space)
    seen = []
    for i in range(9):
        params = tuner.generate_parameters(i)
        seen.append((params["c"], params["r"]))
        tuner.receive_trial_result(i, params, params["c"] * params["r"])
    assert len(set(seen)) == 9
    # then configurations repeat, as NNI's do (its own tests ask 150 of a 3-option choice)
    again = tuner.generate_parameters(9)
    assert (again["c"], again["r"]) in set(seen)


def test_smac_config_dedup_decides_what_happens_after_exhaustion() -> None:
    space = {"c": {"_type": "choice", "_value": ["a", "b"]}}
    for dedup in (True, False):
        tuner = SMACTuner("minimize", config_dedup=dedup, seed=0)
        tuner.update_search_space(space)
        assert {tuner.generate_parameters(0)["c"], tuner.generate_parameters(1)["c"]} == {"a", "b"}
        if dedup:
            with pytest.raises(NoMoreTrialError, match="No more new parameters"):
                tuner.generate_parameters(2)
        else:
            assert tuner.generate_parameters(2)["c"] in ("a", "b")


def test_imported_results_replace_the_cold_start() -> None:
    tuner = GPTuner("minimize", cold_start_num=5, selection_num_warm_up=2000, selection_num_starting_points=10, seed=0)
    tuner.update_search_space({"x": {"_type": "uniform", "_value": [0, 10]}})
    data = [{"parameter": {"x": x}, "value": (x - 3.0) ** 2} for x in (0.0, 2.0, 4.5, 6.0, 8.0, 10.0)]
    data.append({"parameter": {"x": 1.0}, "value": "not a number"})  # skipped, as is a foreign record
    data.append({"parameter": {"y": 1.0}, "value": 1.0})
    tuner.import_data(data)
    proposals = []
    for i in range(3):
        params = tuner.generate_parameters(i)
        proposals.append(params["x"])
        tuner.receive_trial_result(i, params, (params["x"] - 3.0) ** 2)
    assert min(abs(x - 3.0) for x in proposals) < 0.5


@pytest.mark.parametrize(("utility", "xi"), [("ei", 0.0), ("ucb", 0.0), ("poi", 0.1)])
def test_gp_utilities(utility: str, xi: float) -> None:
    tuner = GPTuner("minimize", utility=utility, xi=xi, cold_start_num=5, selection_num_warm_up=2000,
                    selection_num_starting_points=10, seed=1)
    best = run(tuner, {"x": {"_type": "uniform", "_value": [-3, 3]}}, lambda p: (p["x"] - 1.2) ** 2, 15)
    assert best < 0.05


def test_metis_resampling_may_repeat_an_outlier() -> None:
    tuner = MetisTuner("minimize", no_resampling=False, cold_start_num=6, selection_num_starting_points=10,
                       exploration_probability=1.0, seed=0)
    tuner.update_search_space({"x": {"_type": "uniform", "_value": [0, 1]}})
    for i in range(20):
        params = tuner.generate_parameters(i)
        noisy = (params["x"] - 0.5) ** 2 + (5.0 if i == 3 else 0.0)  # one wild result
        tuner.receive_trial_result(i, params, noisy)
    # it still proposes valid values and keeps going (resampling candidates are allowed repeats)
    assert 0.0 <= tuner.generate_parameters(20)["x"] <= 1.0


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("GP", {"utility": "foo"}, "utility should be in"),
        ("GP", {"kappa": -1}, "kappa should be >= 0"),
        ("GP", {"cold_start_num": 0}, "cold_start_num should be >= 1"),
        ("Metis", {"exploration_probability": 2}, "exploration_probability should be <= 1"),
        ("SMAC", {}, "Missing key: 'optimize_mode'"),
        ("SMAC", {"optimize_mode": "minimize", "foo": 1}, "Wrong key 'foo'"),
        ("DNGO", {"sample_size": 0}, "sample_size should be >= 1"),
    ],
)
def test_class_args_are_checked_at_validation(name: str, args: dict[str, Any], message: str) -> None:
    errors = registry.validate_algorithm_config({"name": name, "classArgs": args}, "tuner")
    assert len(errors) == 1 and message in errors[0], errors


def test_nni_class_args_are_accepted() -> None:
    configs = [
        ("GP", {"optimize_mode": "maximize", "utility": "ei", "kappa": 5.0, "xi": 0.0, "nu": 2.5, "alpha": 1e-6,
                "cold_start_num": 10, "selection_num_warm_up": 100000, "selection_num_starting_points": 250}),
        ("Metis", {"optimize_mode": "maximize", "no_resampling": True, "no_candidates": False,
                   "selection_num_starting_points": 600, "cold_start_num": 10}),
        ("SMAC", {"optimize_mode": "maximize", "config_dedup": True}),
        ("DNGO", {"optimize_mode": "maximize", "sample_size": 1000, "trials_per_update": 20,
                  "num_epochs_per_training": 500}),
    ]  # fmt: skip
    for name, args in configs:
        assert registry.validate_algorithm_config({"name": name, "classArgs": args}, "tuner") == []
        assert type(registry.create_algorithm({"name": name, "classArgs": args}, "tuner")).__name__ in (
            "GPTuner", "MetisTuner", "SMACTuner", "DNGOTuner")


def test_missing_extra_is_named_at_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real_find_spec = importlib.util.find_spec

    def without_sklearn(name: str, *args: Any, **kwargs: Any) -> Any:
        return None if name == "sklearn" else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", without_sklearn)
    errors = registry.validate_algorithm_config({"name": "GP"}, "tuner")
    assert errors == ['tuner.name: algorithm "GP" needs scikit-learn, which is not installed; '
                      "install them with: pip install nni[bo]"]
    with pytest.raises(ValueError, match=r"pip install nni\[bo\]"):
        registry.create_algorithm({"name": "SMAC", "classArgs": {"optimize_mode": "maximize"}}, "tuner")
    # algorithms without the extra are unaffected
    assert registry.validate_algorithm_config({"name": "TPE"}, "tuner") == []


def test_config_validation_uses_the_tuners_space_rules() -> None:
    from nni.experiment import ExperimentConfig

    config = ExperimentConfig(
        training_service={"platform": "local"}, trial_command="python t.py", trial_concurrency=1,
        search_space={"x": {"_type": "qnormal", "_value": [0, 1, 0.5]}}, tuner={"name": "Metis"},
    )  # fmt: skip
    with pytest.raises(ValueError, match='searchSpace: x: type "qnormal" is not supported by Metis'):
        config.validate()
    config.tuner.name = "TPE"
    config.validate()


def test_importing_the_registry_does_not_import_sklearn() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from nni.algorithms.hpo.registry import validate_algorithm_config, search_space_validator\n"
        "assert validate_algorithm_config({'name': 'GP', 'classArgs': {'kappa': 2.0}}, 'tuner') == []\n"
        "search_space_validator({'name': 'SMAC'})({'x': {'_type': 'uniform', '_value': [0, 1]}})\n"
        "heavy = [m for m in ('numpy', 'sklearn', 'scipy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_dngo_searches_a_box_around_the_best_result() -> None:
    """DNGO's proposals stay within 0.2 of each range around the incumbent (its trust region), so a
    network extrapolating into the corners cannot send the search there."""
    space = {f"x{i}": {"_type": "uniform", "_value": [-10, 10]} for i in range(5)}
    tuner = DNGOTuner("minimize", sample_size=300, trials_per_update=10, num_epochs_per_training=100, seed=3)
    tuner.update_search_space(space)
    history: list[tuple[dict[str, float], float]] = []
    for i in range(16):
        params = tuner.generate_parameters(i)
        if i >= 10:
            best = min(history, key=lambda item: item[1])[0]
            assert all(abs(params[k] - best[k]) <= 0.2 * 20 + 1e-9 for k in space), (params, best)
        value = sum((v - 1) ** 2 for v in params.values())
        history.append((params, value))
        tuner.receive_trial_result(i, params, value)
