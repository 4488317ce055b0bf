"""Multi-fidelity part of the search-quality benchmark: which algorithms, and the table of their results.

``search_quality.py --multi-fidelity`` (or ``--problems learning_curve``) runs every algorithm of
:data:`ALGORITHMS` (or those picked with ``--tuners``) on the learning-curve problem
(``sq_learning_curve.py``) for each seed, each run spending the largest epoch budget
(``sq_mf_runner.py`` simulates the runs). This module reads the runs:

* at each epoch budget ``b``, the *incumbent* is the trial with the best observed final accuracy
  among those that trained all epochs and ended within ``b`` epochs (what a user would deploy);
  its regret is the optimum's noise-free final accuracy minus the incumbent's (0 = the best
  configuration of the space; a run with no full training yet counts the whole optimum);
* *epochs to target*: the epochs spent when the incumbent's regret first fell to ``target``
  (a run that never got there counts the whole budget, and the table says how many got there);
* trials started, the share of them the algorithm stopped early (assessor, pruner, or a
  low-budget rung of Hyperband/BOHB), and the run's wall time.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from typing import Any

import sq_learning_curve as lc

#: Every algorithm of the multi-fidelity comparison, in table order.
ALGORITHMS = [
    "ours:Random", "ours:TPE",
    "ours:Random+Medianstop", "ours:Random+Curvefitting", "ours:TPE+Medianstop", "ours:TPE+Curvefitting",
    "ours:Hyperband", "ours:BOHB",
    "nni:TPE",
    "nni:Random+Medianstop", "nni:Random+Curvefitting", "nni:TPE+Medianstop",
    "nni:Hyperband", "nni:BOHB",
    "optuna:TPE", "optuna:TPE+MedianPruner", "optuna:TPE+HyperbandPruner",
]  # fmt: skip
#: Not in the default set (NNI 3.0's Curvefitting is slow, see ``MF_SLOW`` in search_quality.py), by name only.
EXTRA_ALGORITHMS = ["nni:TPE+Curvefitting"]
#: Epoch budgets the regret is read at: 5, 10, 20 and 40 full trainings' worth of epochs.
BUDGETS = [5 * lc.EPOCHS, 10 * lc.EPOCHS, 20 * lc.EPOCHS, 40 * lc.EPOCHS]
QUICK_BUDGETS = [5 * lc.EPOCHS, 10 * lc.EPOCHS]
#: Regret (accuracy points) for "epochs to target".
TARGET = 0.02
#: Relative cost of one run (NNI 3.0's Curvefitting fits its curves by MCMC: slowest first).
COST = {"Curvefitting": 50.0, "BOHB": 4.0, "optuna": 3.0}


def select(requested: list[str] | None) -> list[str]:
    """Algorithms for ``--tuners``: whole families (``ours``, ``nni``, ``optuna``) or exact names."""
    if not requested:
        return list(ALGORITHMS)
    out: list[str] = []
    for item in requested:
        if item in ("ours", "nni", "optuna"):
            out.extend(a for a in ALGORITHMS if a.startswith(item + ":") and a not in out)
        elif item not in out:
            out.append(item)
    return out


def job_cost(algorithm: str) -> float:
    family, _, name = algorithm.partition(":")
    cost = COST.get(family, 1.0)
    for part, weight in COST.items():
        if part in name:
            cost *= weight if family == "nni" or part != "Curvefitting" else 3.0
    return cost


def optima(seeds: list[int]) -> dict[int, float]:
    """Noise-free final accuracy of the best configuration of each seed's instance."""
    return {seed: lc.LearningCurveProblem(seed).optimum() for seed in seeds}


def regret_at(run: dict[str, Any], budget: int, optimum: float) -> float:
    """Regret of the incumbent among the full trainings that ended within ``budget`` epochs."""
    done = [c for c in run["completions"] if c[0] <= budget]
    if not done:
        return optimum
    incumbent = max(done, key=lambda c: c[1])
    return optimum - incumbent[2]


def epochs_to_target(run: dict[str, Any], optimum: float, target: float) -> float | None:
    """Epochs spent when the incumbent first had regret ``<= target`` (``None``: never)."""
    best_observed = -math.inf
    for used, observed, true_final in run["completions"]:
        if observed > best_observed:
            best_observed = observed
            if optimum - true_final <= target:
                return float(used)
    return None


def analyse(runs: list[dict[str, Any]], budgets: list[int], optimum: dict[int, float],
            target: float = TARGET) -> dict[str, Any]:  # fmt: skip
    """Per algorithm: mean regret at each budget, epochs to target, trials, early stops, seconds."""
    by_algorithm: dict[str, list[dict[str, Any]]] = defaultdict(list)
    errors = []
    for run in runs:
        if run.get("error"):
            errors.append(f"{run['algorithm']} (seed {run['seed']}): {run['error']}")
        else:
            by_algorithm[run["algorithm"]].append(run)
    known = ALGORITHMS + EXTRA_ALGORITHMS
    order = [a for a in known if a in by_algorithm] + sorted(a for a in by_algorithm if a not in known)
    rows: dict[str, dict[str, Any]] = {}
    for algorithm in order:
        group = by_algorithm[algorithm]
        # budgets every run of this algorithm got to (the slow ones may run a smaller budget)
        reached_budgets = [b for b in budgets if all(r["epochs"] >= b for r in group)]
        horizon = min(r["epochs"] for r in group)
        reached = [epochs_to_target(run, optimum[run["seed"]], target) for run in group]
        rows[algorithm] = {
            "seeds": len(group),
            "horizon": horizon,
            "regret": {str(b): statistics.fmean(regret_at(r, b, optimum[r["seed"]]) for r in group)
                       for b in reached_budgets},
            "epochs_to_target": statistics.fmean(e if e is not None else float(horizon) for e in reached),
            "reached_target": sum(e is not None for e in reached),
            "trials": statistics.fmean(r["trials"] for r in group),
            "stopped_share": statistics.fmean(r["stopped"] / max(r["trials"], 1) for r in group),
            "full_trainings": statistics.fmean(len(r["completions"]) for r in group),
            "epochs": statistics.fmean(r["epochs"] for r in group),
            "seconds": statistics.fmean(r["seconds"] for r in group),
            # per seed and budget: comparisons on the seeds and budgets two algorithms share
            "per_seed": {str(r["seed"]): {str(b): regret_at(r, b, optimum[r["seed"]]) for b in reached_budgets}
                         for r in group},
        }
    return {"budgets": budgets, "target": target, "optimum": {str(s): v for s, v in optimum.items()},
            "rows": rows, "errors": errors}  # fmt: skip


def format_table(summary: dict[str, Any]) -> str:
    """The results as a Markdown table (the form docs/benchmarks.md shows)."""
    budgets = summary["budgets"]
    target = summary["target"]
    head = (["algorithm"] + [f"regret @{b}" for b in budgets]
            + [f"epochs to regret <= {target:g} (seeds)", "trials", "stopped early", "full trainings", "s/run"])
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    for algorithm, row in summary["rows"].items():
        cells = [algorithm] + [f"{row['regret'][str(b)]:.4f}" if str(b) in row["regret"] else "n/a" for b in budgets]
        cells += [f"{row['epochs_to_target']:.0f} ({row['reached_target']}/{row['seeds']})", f"{row['trials']:.0f}",
                  f"{100 * row['stopped_share']:.0f} %", f"{row['full_trainings']:.1f}", f"{row['seconds']:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def verdicts(summary: dict[str, Any]) -> list[str]:
    """Ours against NNI 3.0's namesake: mean regret over the budgets and the seeds both ran (lower is better)."""
    rows = summary["rows"]
    out = []
    for algorithm in rows:
        family, _, name = algorithm.partition(":")
        theirs = rows.get(f"nni:{name}")
        if family != "ours" or theirs is None:
            continue
        seeds = sorted(set(rows[algorithm]["per_seed"]) & set(theirs["per_seed"]), key=int)
        budgets = [b for b in rows[algorithm]["regret"] if b in theirs["regret"]]
        if not seeds or not budgets:
            continue
        ours_mean = statistics.fmean(rows[algorithm]["per_seed"][s][b] for s in seeds for b in budgets)
        theirs_mean = statistics.fmean(theirs["per_seed"][s][b] for s in seeds for b in budgets)
        verdict = "ok" if ours_mean <= theirs_mean + 1e-12 else f"WORSE by {ours_mean - theirs_mean:.4f}"
        out.append(f"{algorithm:<26} mean regret at {','.join(budgets)} epochs, seeds {seeds[0]}-{seeds[-1]}: "
                   f"{ours_mean:.4f} vs nni:{name} {theirs_mean:.4f}: {verdict}")  # fmt: skip
    return out


def print_report(summary: dict[str, Any]) -> None:
    print(f"\nLearning-curve problem ({lc.EPOCHS} epochs per full training): mean over "
          f"{max((r['seeds'] for r in summary['rows'].values()), default=0)} seeds of the regret of the best "
          "full training at each epoch budget (accuracy points; 0 = optimum)\n")  # fmt: skip
    print(format_table(summary))
    print()
    for line in verdicts(summary):
        print(line)
    for error in summary["errors"][:20]:
        print("ERROR", error)
