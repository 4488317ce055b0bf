"""The multi-fidelity part of benchmarks/search_quality.py works: the learning-curve problem, the simulated
runs of our assessors and advisors at a tiny epoch budget, the table, and the ``--multi-fidelity`` entry.

NNI 3.0's and Optuna's algorithms run only where their benchmark venvs exist (skipped otherwise).
"""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS / "search_quality"))

import sq_learning_curve as lc  # noqa: E402
import sq_mf_runner  # noqa: E402
import sq_multifidelity  # noqa: E402

BUDGET = 5 * lc.EPOCHS  # Hyperband's first bracket ends its first full training at 4 * EPOCHS


def load_script():
    spec = importlib.util.spec_from_file_location("benchmarks_search_quality", BENCHMARKS / "search_quality.py")
    module = importlib.util.module_from_spec(spec)
    # registered: the worker pool pickles its job function by module name
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_learning_curve_is_deterministic_per_seed_and_bounded_by_the_optimum():
    problem = lc.LearningCurveProblem(3)
    config = problem.random_stream().next()
    assert problem.observed_curve(config) == lc.LearningCurveProblem(3).observed_curve(config)
    assert problem.observed_curve(config) != lc.LearningCurveProblem(4).observed_curve(config)
    assert len(problem.observed_curve(config)) == lc.EPOCHS
    # a configuration trained again sees the same first epochs (the noise depends on the epoch only)
    assert problem.true_curve(config, 5) == problem.true_curve(config)[:5]
    optimum = problem.optimum(samples=5000)
    stream = problem.random_stream()
    finals = [problem.true_final(stream.next()) for _ in range(200)]
    assert max(finals) <= optimum + 1e-12
    assert optimum - max(finals) < 0.2 < optimum - sorted(finals)[100]  # random search is far from good


@pytest.mark.parametrize("algorithm", ["ours:Random", "ours:TPE", "ours:Random+Medianstop", "ours:TPE+Curvefitting",
                                       "ours:Hyperband", "ours:BOHB"])
def test_our_algorithms_spend_exactly_the_epoch_budget(algorithm):
    run = sq_mf_runner.run(algorithm, 0, BUDGET)
    assert run["epochs"] == BUDGET
    assert run["completions"], "at least one full training within the budget"
    ends = [c[0] for c in run["completions"]]
    assert ends == sorted(ends) and ends[-1] <= BUDGET
    assert len(run["completions"]) <= BUDGET // lc.EPOCHS
    assert run["trials"] >= len(run["completions"]) + run["stopped"]
    if algorithm == "ours:Random":
        assert run["stopped"] == 0 and run["trials"] == BUDGET // lc.EPOCHS
    if algorithm in ("ours:Random+Medianstop", "ours:Hyperband", "ours:BOHB"):
        assert run["stopped"] > 0, "early stopping stopped nothing"


def test_table_and_verdicts():
    runs = [sq_mf_runner.run(a, s, BUDGET) for a in ("ours:Random", "ours:Random+Medianstop") for s in (0, 1)]
    # NNI's namesake stand-in: the same runs under NNI's name, so the verdict must say "ok"
    runs += [{**r, "algorithm": "nni:Random+Medianstop"} for r in runs if r["algorithm"] == "ours:Random+Medianstop"]
    runs.append({"algorithm": "nni:Hyperband", "seed": 0, "error": "RuntimeError: boom"})
    budgets = [2 * lc.EPOCHS, BUDGET]
    summary = sq_multifidelity.analyse(runs, budgets, sq_multifidelity.optima([0, 1]))
    rows = summary["rows"]
    assert list(rows) == ["ours:Random", "ours:Random+Medianstop", "nni:Random+Medianstop"]
    for row in rows.values():
        regrets = [row["regret"][str(b)] for b in budgets]
        assert all(0 <= r < 1 for r in regrets) and regrets[1] <= regrets[0]
        assert row["seeds"] == 2
    assert rows["ours:Random"]["stopped_share"] == 0 and rows["ours:Random+Medianstop"]["stopped_share"] > 0
    assert summary["errors"] == ["nni:Hyperband (seed 0): RuntimeError: boom"]
    table = sq_multifidelity.format_table(summary)
    assert table.count("\n") == 2 + len(rows) - 1 and "| ours:Random+Medianstop |" in table
    assert [v.endswith(": ok") for v in sq_multifidelity.verdicts(summary)] == [True]


def test_epochs_to_target_follows_the_incumbent():
    run = {"completions": [[27, 0.5, 0.5], [54, 0.9, 0.85], [81, 0.88, 0.95]]}
    # the third training is better in truth but not observed better: the incumbent stays the second
    assert sq_multifidelity.epochs_to_target(run, 0.96, 0.02) is None
    assert sq_multifidelity.epochs_to_target(run, 0.96, 0.12) == 54
    assert math.isclose(sq_multifidelity.regret_at(run, 81, 0.96), 0.11)
    assert sq_multifidelity.regret_at(run, 26, 0.96) == 0.96


def test_multi_fidelity_entry_point(tmp_path, capsys):
    script = load_script()
    out = tmp_path / "mf.json"
    status = script.main(["--problems", "learning_curve", "--skip-anchors", "--tuners", "ours:Random,ours:Hyperband",
                          "--seeds", "1", "--budgets", str(BUDGET), "--workers", "1", "--json", str(out)])
    assert status == 0
    printed = capsys.readouterr().out
    assert "| ours:Hyperband |" in printed
    data = json.loads(out.read_text())
    assert set(data["multi_fidelity"]["rows"]) == {"ours:Random", "ours:Hyperband"}
    assert not data["multi_fidelity"]["errors"]


@pytest.mark.parametrize("algorithm", ["nni:Hyperband", "nni:Random+Medianstop", "optuna:TPE+HyperbandPruner"])
def test_anchor_algorithms_through_the_child_driver(algorithm):
    script = load_script()
    python = script._python_for(algorithm)
    family = algorithm.partition(":")[0]
    check = "import nni.algorithms.hpo.hyperband_advisor" if family == "nni" else "import optuna"
    import subprocess

    if not python.exists() or subprocess.run([str(python), "-c", check], capture_output=True).returncode != 0:
        pytest.skip(f"{python} is not set up (benchmarks/search_quality.py creates it)")
    try:
        run = script._mf_job((algorithm, 0, BUDGET))
    finally:
        script.close_drivers()
    assert "error" not in run, run.get("error")
    assert run["epochs"] == BUDGET and run["completions"]
