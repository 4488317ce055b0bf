"""Smoke tests of benchmarks/search_quality.py on tiny configurations that need no anchor venv."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "search_quality.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("search_quality_benchmark", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(*args: str) -> str:
    done = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=600,
                          cwd=REPO)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
def test_quick_machinery_without_anchors(tmp_path: Path) -> None:
    out = _run("--quick", "--skip-anchors", "--problems", "branin,conditional", "--seeds", "1",
               "--tuners", "ours:TPE,ours:Random,ours:GridSearch,ours:Anneal,ours:Evolution,optuna:TPE",
               "--budgets", "8,16", "--workers", "1", "--cache-dir", "", "--json", str(tmp_path / "r.json"))  # fmt: skip
    assert "Anchors skipped (--skip-anchors)" in out
    assert "Normalized regret after 16 evaluations" in out and "Mean normalized regret / mean rank" in out
    data = json.loads((tmp_path / "r.json").read_text())
    runs = data["runs"]
    tuners = {"ours:TPE", "ours:Random", "ours:GridSearch", "ours:Anneal", "ours:Evolution"}
    assert {run["tuner"] for run in runs} == tuners  # optuna dropped with the anchors
    assert len(runs) == 2 * 5 * 2  # problems x tuners x modes, one seed
    assert all(len(run["values"]) == 16 and not run.get("error") for run in runs)
    summary = data["summary"]
    assert set(summary["mean_rank"]["16"]) == tuners
    assert all(0 <= value for value in summary["mean_regret"]["16"].values())
    assert summary["optimum"]["branin"] == pytest.approx(0.397887, abs=1e-6)


@pytest.mark.slow
def test_suggest_time_mode_without_anchors(tmp_path: Path) -> None:
    out = _run("--suggest-time", "--skip-anchors", "--history", "10,30", "--json", str(tmp_path / "t.json"))
    assert "Median suggest time (ms) by number of observations" in out
    table = json.loads((tmp_path / "t.json").read_text())["suggest_time"]
    assert list(table) == ["ours:TPE"] and set(table["ours:TPE"]) == {"10", "30"}


def test_analysis_ranks_and_regret() -> None:
    bench = _load()
    assert bench._ranks({"a": 0.1, "b": 0.1, "c": 0.5, "d": 0.0}) == {"d": 1.0, "a": 2.5, "b": 2.5, "c": 4.0}
    runs = [
        {"problem": "branin", "tuner": "ours:TPE", "seed": 0, "mode": "sequential", "values": [5.0, 1.0, 0.5],
         "seconds": [0.001] * 3},
        {"problem": "branin", "tuner": "ours:Random", "seed": 0, "mode": "sequential", "values": [5.0, 3.0],
         "seconds": [0.0] * 2, "exhausted": True},
    ]  # fmt: skip
    optimum = 0.397887357729739
    summary = bench.analyse(runs, {"branin": optimum + 10.0}, [1, 3])
    assert summary["mean_regret"]["1"]["ours:TPE"] == pytest.approx((5.0 - optimum) / 10)
    assert summary["mean_regret"]["3"]["ours:TPE"] == pytest.approx((0.5 - optimum) / 10)
    # A run that ran out of configurations keeps its best value for larger budgets.
    assert summary["mean_regret"]["3"]["ours:Random"] == pytest.approx((3.0 - optimum) / 10)
    assert summary["mean_rank"]["3"] == {"ours:TPE": 1.0, "ours:Random": 2.0}
    assert summary["suggest_ms"]["ours:TPE"] == pytest.approx(1.0)
