"""Search quality of our tuners next to NNI 3.0's, Optuna's and Hyperopt's, side by side in one run.

Every tuner is driven through the same ask/tell loop (benchmarks/search_quality/sq_driver.py): ours
in this process through the ``nni.tuner.Tuner`` interface (``generate_parameters`` /
``receive_trial_result`` / ``trial_end``), NNI 3.0's the same way in its own venv
(``.benchmarks-venvs/nni30``, set up as shared/recipes/nni30.md says), Optuna's samplers and
Hyperopt's TPE in ``.benchmarks-venvs/peers``; the anchors run in child interpreters that speak
JSON lines. Objectives are always evaluated here, so every tuner sees exactly the same function.

Problems (benchmarks/search_quality/sq_problems.py): synthetic functions with known optima
(Branin, Hartmann6, Rosenbrock, Levy), mixed and conditional spaces (choice, randint, q-types,
log scales, nested choice) and scikit-learn models on its bundled datasets (SVC on digits,
gradient boosting on breast_cancer, a nested choice of classifiers on wine).

Each run evaluates up to the largest budget (200 by default); the best value after 25, 50, 100
and 200 evaluations is read from the same run. Two modes: ``sequential`` (ask one, tell one) and
``parallel`` (ask 4, then tell the 4: a constant liar, where the tuner has one, is engaged;
hyperopt-based tuners get ``parallel_optimize=True``).

Reported:

* normalized regret ``(best - optimum) / (reference - optimum)``, where the optimum is the known one
  (or the best value any run found) and the reference is the median of 64 random configurations:
  0 is perfect, 1 is as good as a typical random guess;
* the mean rank of each tuner (per problem and mode, tuners ranked by mean regret over seeds);
* the time a tuner spends per suggestion, measured in its own process.

``--suggest-time`` instead measures TPE suggestion time after 100, 1,000 and 5,000 observations.

``--tuners model`` compares the model-based tuners (GP, Metis, SMAC, DNGO; ours against NNI 3.0's GP
and Metis, and Optuna's ``GPSampler`` and ``CmaEsSampler`` as ``optuna:GP`` / ``optuna:CMAES``) with our
TPE and random search, each on the problems whose space it accepts. Optuna's GP needs PyTorch and
its CMA-ES the ``cmaes`` package: both are installed into the peers venv when first asked for
(:data:`ANCHOR_EXTRAS`); a tuner whose extra cannot be installed is skipped with the reason.

``--multi-fidelity`` (or ``--problems learning_curve``) instead compares early stopping and
multi-fidelity algorithms at equal epoch budgets on a synthetic learning-curve problem: our and NNI
3.0's Medianstop and Curvefitting (with Random or TPE), Hyperband and BOHB, Optuna's MedianPruner and
HyperbandPruner (with TPE), and no early stopping (benchmarks/search_quality/sq_multifidelity.py).

Run: ``.venv/bin/python benchmarks/search_quality.py [--quick] [--skip-anchors] [--json PATH] [--plot PATH]``
or ``.venv/bin/python benchmarks/search_quality.py --multi-fidelity [--seeds N] [--tuners ...]``
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
HELPERS = HERE / "search_quality"
sys.path.insert(0, str(HELPERS))

import sq_driver  # noqa: E402  (helpers live beside this script)
import sq_multifidelity  # noqa: E402
import sq_problems  # noqa: E402

VENVS = REPO / ".benchmarks-venvs"
NNI_VENV = VENVS / "nni30"
PEERS_VENV = VENVS / "peers"
#: Written into a venv once it installed and imports; its absence means "install again".
READY_MARKER = ".benchmark-ready"
#: shared/recipes/nni30.md: NNI 3.0 installs on Python 3.11 with these pins.
NNI_REQUIREMENTS = ["nni==3.0", "scikit-learn", "hyperopt==0.1.2", "numpy<2", "pandas<3", "setuptools<81"]
PEERS_REQUIREMENTS = ["optuna", "hyperopt", "matplotlib"]
INSTALL_TIMEOUT = 1200.0

OUR_TUNERS = [f"ours:{name}" for name in sq_driver.NNI_TUNERS]
NNI_TUNERS = [f"nni:{name}" for name in sq_driver.NNI_TUNERS]
PEER_TUNERS = ["optuna:TPE", "optuna:Random", "hyperopt:TPE"]
ALL_TUNERS = OUR_TUNERS + NNI_TUNERS + PEER_TUNERS
#: Optuna's model-based samplers: in ``--tuners model``, or by name; not in the default run.
OPTUNA_MODEL_TUNERS = ["optuna:GP", "optuna:CMAES"]
#: Packages some anchors need beyond their venv's base install: ``tuner -> (venv, requirements,
#: import check)``; installed into that venv the first time the tuner is asked for (PyTorch, for
#: Optuna's GPSampler, is a few GB: the tuner is skipped, saying why, where it cannot be installed).
ANCHOR_EXTRAS: dict[str, tuple[Path, list[str], str]] = {
    "optuna:GP": (PEERS_VENV, ["torch"], "import torch"),
    "optuna:CMAES": (PEERS_VENV, ["cmaes"], "import cmaes"),
    # NNI 3.0's BOHB: ConfigSpace before 1.0 (its API), statsmodels; the venv's pins kept
    "nni:BOHB": (NNI_VENV, ["ConfigSpace==0.7.1", "statsmodels", "numpy<2", "pandas<3", "setuptools<81"],
                 "import ConfigSpace, statsmodels"),
}
#: ``--tuners model``: the model-based tuners, ours and NNI 3.0's (its SMAC and DNGO need smac4nni,
#: which needs swig to build, and pybnn with PyTorch: not installed in the anchor venv), with our
#: TPE and random search as references. Not part of the default run (NNI's Metis takes minutes per
#: suggestion once it has a few dozen results).
MODEL_SET = ([f"ours:{name}" for name in sq_driver.MODEL_TUNERS] + ["nni:GP", "nni:Metis"] + OPTUNA_MODEL_TUNERS
             + ["ours:TPE", "ours:Random", "nni:Random"])  # fmt: skip
MODES = ("sequential", "parallel")
IN_FLIGHT = 4
REFERENCE_SAMPLES = 64
QUICK = {
    "problems": ["branin", "hartmann6", "mixed", "conditional", "svm_digits"],
    "budgets": [25, 50],
    "seeds": 2,
    "modes": ["sequential", "parallel"],
}
#: Rough relative cost of one run per tuner (seconds of tuner time), to start the slow jobs first.
_TUNER_COST = {"nni:Metis": 50.0, "optuna:GP": 30.0, "nni:GP": 20.0, "ours:Metis": 8.0, "ours:GP": 8.0, "nni:TPE_legacy": 8.0, "nni:Anneal": 6.0, "hyperopt:TPE": 5.0, "optuna:TPE": 4.0, "nni:TPE": 2.0}


# ---------------------------------------------------------------------------------------------------
# Anchors: venvs and child drivers


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure_venv(venv: Path, requirements: list[str], check: str, install: bool) -> str | None:
    """Make sure ``venv`` exists and imports ``check``; return ``None`` if usable, else why not."""
    python = venv_python(venv)
    if python.exists():
        probe = subprocess.run([str(python), "-c", check], capture_output=True, text=True)
        if probe.returncode == 0:
            return None
        if not install:
            return f"{venv} does not import what it needs: {probe.stderr.strip()[-300:]}"
    elif not install:
        return f"{venv} does not exist (run without --no-install to create it)"
    print(f"Installing {' '.join(requirements)} into {venv} (a few minutes, once) ...", flush=True)
    log = venv.parent / f"{venv.name}-install.log"
    venv.parent.mkdir(parents=True, exist_ok=True)
    try:
        with log.open("w") as out:
            if not python.exists():
                subprocess.run(["python3.11", "-m", "venv", str(venv)], check=True, stdout=out, stderr=out)
            subprocess.run([str(python), "-m", "pip", "install", *requirements], check=True, stdout=out,
                           stderr=out, timeout=INSTALL_TIMEOUT)  # fmt: skip
        probe = subprocess.run([str(python), "-c", check], capture_output=True, text=True)
        if probe.returncode != 0:
            return f"{venv} installed but does not import: {probe.stderr.strip()[-300:]}"
        (venv / READY_MARKER).write_text(time.strftime("%Y-%m-%d\n"))
        return None
    except (OSError, subprocess.SubprocessError) as error:
        return f"could not install into {venv}: {error} (log: {log})"


class ChildDriver:
    """sq_driver.py running under another interpreter; one JSON line per command and answer."""

    def __init__(self, python: Path) -> None:
        # Anonymous file: nothing is left behind if this worker is killed.
        self.log = tempfile.TemporaryFile("w+")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME") and not k.startswith("NNI_")}
        env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self.process = subprocess.Popen(
            [str(python), str(HELPERS / "sq_driver.py")], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.log, text=True, cwd=tempfile.gettempdir(), env=env,
        )  # fmt: skip

    def call(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            self.log.seek(0)
            tail = self.log.read()[-2000:]
            raise RuntimeError(f"driver died: {tail}")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


class RemoteAdapter:
    """An adapter living in a :class:`ChildDriver`."""

    def __init__(self, driver: ChildDriver, tuner: str, space: dict[str, Any], seed: int, parallel: bool) -> None:
        self.driver = driver
        driver.call({"op": "new", "tuner": tuner, "space": space, "seed": seed, "parallel": parallel})

    def ask(self, ids: list[int]) -> tuple[list[Any], list[float]]:
        reply = self.driver.call({"op": "ask", "ids": ids})
        return reply["params"], reply["seconds"]

    def tell(self, results: list[tuple[int, Any, float]]) -> None:
        self.driver.call({"op": "tell", "results": [list(item) for item in results]})

    def load(self, count: int, seed: int) -> None:
        self.driver.call({"op": "load", "count": count, "seed": seed})


_DRIVERS: dict[str, ChildDriver] = {}


def _python_for(tuner: str) -> Path | None:
    family = tuner.partition(":")[0]
    if family == "ours":
        return None
    return venv_python(NNI_VENV if family == "nni" else PEERS_VENV)


def _driver_for(python: Path) -> ChildDriver:
    driver = _DRIVERS.get(str(python))
    if driver is None or driver.process.poll() is not None:
        driver = _DRIVERS[str(python)] = ChildDriver(python)
    return driver


def make_adapter(tuner: str, space: dict[str, Any], seed: int, parallel: bool) -> Any:
    python = _python_for(tuner)
    if python is None:
        return sq_driver.make_adapter(tuner, space, seed, parallel)
    return RemoteAdapter(_driver_for(python), tuner, space, seed, parallel)


def close_drivers() -> None:
    for driver in _DRIVERS.values():
        driver.close()
    _DRIVERS.clear()


# ---------------------------------------------------------------------------------------------------
# Runs


def run_once(problem: sq_problems.Problem, tuner: str, seed: int, mode: str, budget: int) -> dict[str, Any]:
    """One tuner on one problem: ask/evaluate/tell until ``budget`` evaluations or exhaustion."""
    parallel = mode == "parallel"
    adapter = make_adapter(tuner, problem.space, seed, parallel)
    batch = IN_FLIGHT if parallel else 1
    values: list[float] = []
    seconds: list[float] = []
    exhausted = False
    while len(values) < budget:
        ids = list(range(len(values), min(len(values) + batch, budget)))
        params, spent = adapter.ask(ids)
        seconds.extend(spent)
        results = []
        for parameter_id, p in zip(ids, params, strict=False):
            value = problem.evaluate(p)
            values.append(value)
            results.append((parameter_id, p, value))
        if results:
            adapter.tell(results)
        if len(params) < len(ids):
            exhausted = True
            break
    return {"problem": problem.name, "tuner": tuner, "seed": seed, "mode": mode, "values": values,
            "seconds": seconds, "exhausted": exhausted}  # fmt: skip


_CACHE_DIR: Path | None = None


def _worker_init(cache_dir: str | None) -> None:
    global _CACHE_DIR
    _CACHE_DIR = Path(cache_dir) if cache_dir else None
    # One core per worker: BLAS threads would fight over the two cores.
    os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    import atexit

    atexit.register(close_drivers)


def accepts(tuner: str, problem: str) -> bool:
    """Whether ``tuner`` can search ``problem``'s space (the model-based ones accept some types only)."""
    family, _, name = tuner.partition(":")
    if family not in ("ours", "nni") or name not in sq_driver.MODEL_TUNERS:
        return True  # Optuna's GP and CMA-ES take every space
    from nni.algorithms.hpo._space_rules import check_search_space

    try:
        check_search_space(name, sq_problems.get_problem(problem).space)
    except ValueError:
        return False
    return True


def _run_job(job: tuple[str, str, int, str, int]) -> dict[str, Any]:
    name, tuner, seed, mode, budget = job
    problem = sq_problems.get_problem(name)
    try:
        result = run_once(problem, tuner, seed, mode, budget)
    except Exception as error:  # one broken anchor run must not sink the whole benchmark
        result = {"problem": name, "tuner": tuner, "seed": seed, "mode": mode, "values": [], "seconds": [],
                  "exhausted": False, "error": f"{type(error).__name__}: {error}"[:500]}  # fmt: skip
    problem.save_cache()
    return result


def _fill_cell(task: tuple[str, dict[str, Any]]) -> tuple[str, str, float]:
    name, cell = task
    key, value = sq_problems.evaluate_cell(name, cell)
    return name, key, value


def fill_tables(names: list[str], cache_dir: Path | None, workers: int) -> None:
    """Load cached tables of the ML problems and compute their missing cells, in parallel.

    Done before the run workers start (they fork from this process and inherit the tables), so
    that a run is pure lookups; each table's minimum becomes its problem's known optimum.
    """
    tasks = []
    for name in names:
        problem = sq_problems.get_problem(name)
        problem.load_cache(cache_dir)
        tasks += [(name, cell) for cell in sq_problems.missing_cells(problem)]
    if tasks:
        print(f"Training {len(tasks)} grid cells of the ML problems (cached for later runs) ...", flush=True)
        began = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(workers, initializer=_worker_init, initargs=("",)) as pool:
            for name, key, value in pool.imap_unordered(_fill_cell, tasks, chunksize=4):
                problem = sq_problems.get_problem(name)
                problem.cache[key] = value
                problem._new_entries[key] = value
        for name in names:
            sq_problems.get_problem(name).save_cache()
        print(f"  done in {time.perf_counter() - began:.0f} s", flush=True)
    for name in names:
        problem = sq_problems.get_problem(name)
        optimum = sq_problems.table_optimum(problem)
        if optimum is not None:
            problem.optimum = optimum


def reference_value(problem: sq_problems.Problem) -> float:
    """Median loss of random configurations: what "no tuning" gives on this problem."""
    adapter = sq_driver.make_adapter("ours:Random", problem.space, 12345, False)
    params, _ = adapter.ask(list(range(REFERENCE_SAMPLES)))
    values = [problem.evaluate(p) for p in params]
    problem.save_cache()
    return float(statistics.median(values))


# ---------------------------------------------------------------------------------------------------
# Analysis


def best_at(values: list[float], budget: int) -> float:
    seen = values[:budget]
    return min(seen) if seen else math.inf


def analyse(runs: list[dict[str, Any]], references: dict[str, float], budgets: list[int]) -> dict[str, Any]:
    """Normalized regrets, mean regrets and mean ranks; also suggestion times."""
    optimum: dict[str, float] = {}
    for name in references:
        known = sq_problems.get_problem(name).optimum
        seen = [v for run in runs if run["problem"] == name for v in run["values"]]
        optimum[name] = known if known is not None else min([*seen, references[name]])
    regret: dict[tuple[str, str, str, int], list[float]] = defaultdict(list)  # (problem, mode, tuner, budget)
    for run in runs:
        if run.get("error"):
            continue
        name = run["problem"]
        span = references[name] - optimum[name]
        for budget in budgets:
            best = best_at(run["values"], budget)
            value = (best - optimum[name]) / span if span > 0 else float(best > optimum[name])
            regret[(name, run["mode"], run["tuner"], budget)].append(max(value, 0.0))
    tuners = sorted({key[2] for key in regret}, key=_tuner_order)
    cells = sorted({(key[0], key[1]) for key in regret})
    summary: dict[str, Any] = {"optimum": optimum, "reference": references, "tuners": tuners,
                               "budgets": budgets, "per_problem": {}, "mean_regret": {}, "mean_rank": {},
                               "by_mode": {}}  # fmt: skip
    for budget in budgets:
        ranks: dict[str, list[float]] = defaultdict(list)
        means: dict[str, list[float]] = defaultdict(list)
        by_mode: dict[tuple[str, str], list[float]] = defaultdict(list)
        for name, mode in cells:
            present = {t: statistics.fmean(regret[(name, mode, t, budget)]) for t in tuners
                       if regret.get((name, mode, t, budget))}  # fmt: skip
            for tuner, rank in _ranks(present).items():
                ranks[tuner].append(rank)
            for tuner, value in present.items():
                means[tuner].append(value)
                by_mode[(tuner, mode)].append(value)
                summary["per_problem"].setdefault(str(budget), {}).setdefault(name, {}).setdefault(tuner, []).append(value)
        summary["mean_regret"][str(budget)] = {t: statistics.fmean(v) for t, v in means.items()}
        summary["mean_rank"][str(budget)] = {t: statistics.fmean(v) for t, v in ranks.items()}
        summary["by_mode"][str(budget)] = {f"{t}|{m}": statistics.fmean(v) for (t, m), v in by_mode.items()}
    # Per problem: mean over modes of the mean over seeds.
    for problems in summary["per_problem"].values():
        for name, per_tuner in problems.items():
            problems[name] = {t: statistics.fmean(v) for t, v in per_tuner.items()}
    times: dict[str, list[float]] = defaultdict(list)
    for run in runs:
        times[run["tuner"]].extend(run["seconds"])
    summary["suggest_ms"] = {t: 1000 * statistics.fmean(v) for t, v in times.items() if v}
    summary["errors"] = [f"{r['tuner']} on {r['problem']} ({r['mode']}, seed {r['seed']}): {r['error']}"
                         for r in runs if r.get("error")]  # fmt: skip
    return summary


def _ranks(scores: dict[str, float]) -> dict[str, float]:
    # Rank 1 = lowest regret; ties share the average rank.
    ordered = sorted(scores.items(), key=lambda item: item[1])
    ranks: dict[str, float] = {}
    index = 0
    while index < len(ordered):
        end = index
        while end + 1 < len(ordered) and math.isclose(ordered[end + 1][1], ordered[index][1], abs_tol=1e-12):
            end += 1
        for k in range(index, end + 1):
            ranks[ordered[k][0]] = (index + end) / 2 + 1
        index = end + 1
    return ranks


def _tuner_order(tuner: str) -> tuple[int, int]:
    order = ALL_TUNERS + [t for t in MODEL_SET if t not in ALL_TUNERS]
    return (order.index(tuner) if tuner in order else len(order), 0)


def print_report(summary: dict[str, Any], main_budget: int) -> None:
    tuners = summary["tuners"]
    budgets = summary["budgets"]
    width = max(len(t) for t in tuners) + 2
    problems = list(summary["per_problem"][str(main_budget)])
    print(f"\nNormalized regret after {main_budget} evaluations (mean over seeds and modes; 0 = optimum, "
          "1 = median random configuration)")  # fmt: skip
    short = [p[:11] for p in problems]
    print(" " * width + "".join(f"{s:>12}" for s in short) + f"{'mean':>9}{'rank':>7}")
    for tuner in tuners:
        row = [summary["per_problem"][str(main_budget)][p].get(tuner, math.nan) for p in problems]
        mean = summary["mean_regret"][str(main_budget)].get(tuner, math.nan)
        rank = summary["mean_rank"][str(main_budget)].get(tuner, math.nan)
        print(f"{tuner:<{width}}" + "".join(f"{v:>12.4f}" for v in row) + f"{mean:>9.4f}{rank:>7.2f}")
    print("\nMean normalized regret / mean rank by budget")
    print(" " * width + "".join(f"{'regret@' + str(b):>12}{'rank@' + str(b):>9}" for b in budgets) + f"{'ms/suggest':>12}")
    for tuner in tuners:
        cells = "".join(
            f"{summary['mean_regret'][str(b)].get(tuner, math.nan):>12.4f}{summary['mean_rank'][str(b)].get(tuner, math.nan):>9.2f}"
            for b in budgets
        )
        print(f"{tuner:<{width}}{cells}{summary['suggest_ms'].get(tuner, math.nan):>12.2f}")
    print(f"\nMean normalized regret after {main_budget} evaluations by mode")
    modes = sorted({key.split("|")[1] for key in summary["by_mode"][str(main_budget)]})
    print(" " * width + "".join(f"{m:>12}" for m in modes))
    for tuner in tuners:
        print(f"{tuner:<{width}}" + "".join(
            f"{summary['by_mode'][str(main_budget)].get(f'{tuner}|{m}', math.nan):>12.4f}" for m in modes))
    verdicts(summary, main_budget)
    for error in summary["errors"][:20]:
        print("ERROR", error)


def verdicts(summary: dict[str, Any], budget: int) -> None:
    regret = summary["mean_regret"][str(budget)]
    rank = summary["mean_rank"][str(budget)]
    print(f"\nChecks at {budget} evaluations:")
    for name in (*sq_driver.NNI_TUNERS, *sq_driver.MODEL_TUNERS):
        ours, theirs = regret.get(f"ours:{name}"), regret.get(f"nni:{name}")
        if ours is None or theirs is None:
            continue
        verdict = "ok" if ours <= theirs + 1e-12 else f"WORSE by {ours - theirs:.4f}"
        print(f"  ours:{name:<11} regret {ours:.4f} vs nni:{name} {theirs:.4f}: {verdict}")
    for peer in ("optuna:TPE", "hyperopt:TPE"):
        if "ours:TPE" in rank and peer in rank:
            verdict = "ok" if rank["ours:TPE"] < rank[peer] else "NOT AHEAD"
            print(f"  ours:TPE mean rank {rank['ours:TPE']:.2f} vs {peer} {rank[peer]:.2f}: {verdict}")


# ---------------------------------------------------------------------------------------------------
# Suggest time


SUGGEST_TIME_TUNERS = ["ours:TPE", "nni:TPE", "optuna:TPE", "hyperopt:TPE"]


def suggest_time(tuners: list[str], histories: list[int], seconds_per_point: float) -> dict[str, dict[str, float]]:
    """Median seconds per suggestion of each tuner after ``histories`` observations."""
    out: dict[str, dict[str, float]] = {}
    for tuner in tuners:
        out[tuner] = {}
        for count in histories:
            adapter = make_adapter(tuner, sq_driver.TIMING_SPACE, 0, False)
            adapter.load(count, 0)
            samples: list[float] = []
            began = time.perf_counter()
            parameter_id = count
            # At least 5 suggestions (the first one, which may warm caches, is dropped).
            while len(samples) < 6 or (time.perf_counter() - began < seconds_per_point and len(samples) < 41):
                params, spent = adapter.ask([parameter_id])
                adapter.tell([(parameter_id, params[0], sq_driver.timing_objective(params[0]))])
                samples.extend(spent)
                parameter_id += 1
            out[tuner][str(count)] = statistics.median(samples[1:])
            print(f"  {tuner:<14} {count:>6} observations: {1000 * out[tuner][str(count)]:9.2f} ms/suggest", flush=True)
    return out


def print_suggest_time(table: dict[str, dict[str, float]], histories: list[int]) -> None:
    print("\nMedian suggest time (ms) by number of observations")
    print(f"{'':<16}" + "".join(f"{h:>10}" for h in histories))
    for tuner, row in table.items():
        print(f"{tuner:<16}" + "".join(f"{1000 * row[str(h)]:>10.2f}" for h in histories))
    ours = table.get("ours:TPE", {}).get("1000")
    optuna = table.get("optuna:TPE", {}).get("1000")
    if ours and optuna:
        verdict = "ok" if ours < optuna else "NOT FASTER"
        print(f"ours:TPE at 1000: {1000 * ours:.2f} ms vs optuna:TPE {1000 * optuna:.2f} ms "
              f"({optuna / ours:.1f}x): {verdict}")  # fmt: skip


# ---------------------------------------------------------------------------------------------------
# Multi-fidelity (learning-curve problem; sq_multifidelity.py, sq_mf_runner.py)

#: NNI 3.0's Curvefitting refits its curves (MCMC) at every epoch of most trials, about ten minutes
#: per 1,080-epoch run here: it runs on the first ``--mf-slow-seeds`` seeds only, to ``--mf-slow-budget``
#: epochs, and is compared with ours on those seeds and budgets.
MF_SLOW = ("nni:Random+Curvefitting", "nni:TPE+Curvefitting")


def _mf_job(job: tuple[str, int, int]) -> dict[str, Any]:
    algorithm, seed, max_epochs = job
    try:
        python = _python_for(algorithm)
        if python is None:
            import sq_mf_runner

            return sq_mf_runner.run(algorithm, seed, max_epochs)
        command = {"op": "mf_run", "algorithm": algorithm, "seed": seed, "max_epochs": max_epochs}
        return _driver_for(python).call(command)["result"]
    except Exception as error:  # one broken run must not sink the whole benchmark
        return {"algorithm": algorithm, "seed": seed, "error": f"{type(error).__name__}: {error}"[:500]}


def run_multi_fidelity(args: argparse.Namespace, started: float) -> int:
    """The multi-fidelity comparison: every algorithm, every seed, one run each, then the table."""
    algorithms = available_tuners(sq_multifidelity.select(args.tuners), args.skip_anchors,
                                  install=not args.no_install)  # fmt: skip
    versions = print_versions(algorithms)
    budgets = sorted(args.budgets or (sq_multifidelity.QUICK_BUDGETS if args.quick else sq_multifidelity.BUDGETS))
    seeds = list(range(args.seeds or (2 if args.quick else 10)))
    jobs = [(algorithm, seed, budgets[-1] if algorithm not in MF_SLOW else min(budgets[-1], args.mf_slow_budget))
            for algorithm in algorithms for seed in seeds if algorithm not in MF_SLOW or seed < args.mf_slow_seeds]
    jobs.sort(key=lambda job: -sq_multifidelity.job_cost(job[0]))
    print(f"Multi-fidelity: learning-curve problem, {len(algorithms)} algorithms, seeds 0-{seeds[-1]} "
          f"({', '.join(a for a in algorithms if a in MF_SLOW) or 'no slow ones'}: seeds below {args.mf_slow_seeds}, "
          f"{args.mf_slow_budget} epochs), "
          f"epoch budgets {budgets}; workers: {args.workers}", flush=True)  # fmt: skip
    runs: list[dict[str, Any]] = []
    context = multiprocessing.get_context("fork")
    with context.Pool(args.workers, initializer=_worker_init, initargs=("",)) as pool:
        for done, run in enumerate(pool.imap_unordered(_mf_job, jobs), 1):
            runs.append(run)
            if done % max(len(jobs) // 10, 1) == 0 or done == len(jobs):
                print(f"  {done}/{len(jobs)} runs, {time.perf_counter() - started:.0f} s", flush=True)
    summary = sq_multifidelity.analyse(runs, budgets, sq_multifidelity.optima(seeds))
    sq_multifidelity.print_report(summary)
    elapsed = time.perf_counter() - started
    print(f"\nTotal time: {elapsed:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps({"multi_fidelity": summary, "runs": runs, "versions": versions,
                                               "seconds": elapsed, "argv": sys.argv[1:]}))  # fmt: skip
    return 1 if summary["errors"] and not summary["rows"] else 0


# ---------------------------------------------------------------------------------------------------
# Command line


def _csv(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _select_tuners(requested: list[str] | None) -> list[str]:
    if not requested:
        return list(ALL_TUNERS)
    out: list[str] = []
    for item in requested:
        if item == "model":
            out.extend(t for t in MODEL_SET if t not in out)
        elif item in ("ours", "nni", "optuna", "hyperopt"):
            out.extend(t for t in ALL_TUNERS if t.startswith(item + ":"))
        else:
            out.append(item)
    return out


def available_tuners(tuners: Iterable[str], skip_anchors: bool, install: bool) -> list[str]:
    """Drop anchors whose venv cannot be used, saying why."""
    keep = [t for t in tuners if t.startswith("ours:")]
    wanted = {t.partition(":")[0] for t in tuners} - {"ours"}
    if skip_anchors:
        if wanted:
            print("Anchors skipped (--skip-anchors): only our tuners run.")
        return keep
    usable = set()
    if "nni" in wanted:
        why = ensure_venv(NNI_VENV, NNI_REQUIREMENTS, "import nni.algorithms.hpo.hyperopt_tuner, hyperopt", install)
        if why:
            print(f"NNI 3.0 skipped: {why}")
        else:
            usable.add("nni")
    if wanted & {"optuna", "hyperopt"}:
        why = ensure_venv(PEERS_VENV, PEERS_REQUIREMENTS, "import optuna, hyperopt", install)
        if why:
            print(f"Optuna and Hyperopt skipped: {why}")
        else:
            usable |= {"optuna", "hyperopt"}
    chosen = keep + [t for t in tuners if t.partition(":")[0] in usable]
    return [t for t in chosen if _extras_ready(t, install)]


def _extras_ready(tuner: str, install: bool) -> bool:
    """Whether the extra packages ``tuner`` needs (:data:`ANCHOR_EXTRAS`) import in its venv; install them if allowed."""
    if tuner not in ANCHOR_EXTRAS:
        return True
    venv, requirements, check = ANCHOR_EXTRAS[tuner]
    probe = subprocess.run([str(venv_python(venv)), "-c", check], capture_output=True, text=True)
    if probe.returncode == 0:
        return True
    why = f"{venv.name} lacks {', '.join(requirements)} (run without --no-install to install them)"
    if install:
        print(f"Installing {' '.join(requirements)} into {venv} for {tuner} (once) ...", flush=True)
        log = venv.parent / f"{venv.name}-extras-install.log"
        try:
            with log.open("a") as out:
                subprocess.run([str(venv_python(venv)), "-m", "pip", "install", *requirements], check=True,
                               stdout=out, stderr=out, timeout=INSTALL_TIMEOUT)  # fmt: skip
            probe = subprocess.run([str(venv_python(venv)), "-c", check], capture_output=True, text=True)
            if probe.returncode == 0:
                return True
            why = f"installed {', '.join(requirements)} but `{check}` fails: {probe.stderr.strip()[-300:]}"
        except (OSError, subprocess.SubprocessError) as error:
            why = f"could not install {', '.join(requirements)}: {error} (log: {log})"
    print(f"{tuner} skipped: {why}")
    return False


def print_versions(tuners: list[str]) -> dict[str, Any]:
    out = {"ours": sq_driver.versions()}
    for family, venv in (("nni", NNI_VENV), ("peers", PEERS_VENV)):
        if any(t.startswith(p) for t in tuners for p in ((family + ":",) if family == "nni" else ("optuna:", "hyperopt:"))):
            driver = ChildDriver(venv_python(venv))
            try:
                out[family] = driver.call({"op": "versions"})["versions"]
            finally:
                driver.close()
    print("Versions:", json.dumps(out))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--quick", action="store_true",
                        help="small subset: 5 problems, budgets 25/50, 2 seeds (a few minutes)")
    parser.add_argument("--problems", type=_csv,
                        help=f"comma-separated, from: {', '.join(sq_problems.PROBLEMS)}; "
                             "or learning_curve alone (= --multi-fidelity)")
    parser.add_argument("--tuners", type=_csv,
                        help="comma-separated family:name (ours:TPE, nni:Anneal, optuna:TPE, ...) or whole families")
    parser.add_argument("--budgets", type=lambda s: [int(x) for x in _csv(s)], help="default 25,50,100,200")
    parser.add_argument("--seeds", type=int, help="seeds per problem, tuner and mode (default 10)")
    parser.add_argument("--modes", type=_csv, help="sequential,parallel (default both)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--skip-anchors", action="store_true", help="run only our tuners")
    parser.add_argument("--no-install", action="store_true",
                        help="use existing anchor venvs only; skip anchors whose venv is missing")
    parser.add_argument("--cache-dir", default=str(Path.home() / ".cache" / "nni-search-quality"),
                        help="where evaluated ML grid cells are kept between runs ('' = memory only)")
    parser.add_argument("--json", help="write all runs and the summary here")
    parser.add_argument("--plot", help="write a PNG plot here (needs matplotlib in the peers venv)")
    parser.add_argument("--suggest-time", action="store_true",
                        help="measure TPE suggest time at --history observations instead")
    parser.add_argument("--history", type=lambda s: [int(x) for x in _csv(s)], default=[100, 1000, 5000])
    parser.add_argument("--multi-fidelity", action="store_true",
                        help="assessors, advisors and pruners on the learning-curve problem at equal epoch budgets "
                             "(--budgets in epochs, default 135,270,540,1080; --tuners picks algorithms)")
    parser.add_argument("--mf-slow-seeds", type=int, default=2,
                        help="seeds for NNI 3.0's Curvefitting in --multi-fidelity (minutes per run; default 2)")
    parser.add_argument("--mf-slow-budget", type=int, default=270,
                        help="epochs of NNI 3.0's Curvefitting runs in --multi-fidelity (default 270)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    if args.multi_fidelity or args.problems == ["learning_curve"]:
        return run_multi_fidelity(args, started)
    tuners = _select_tuners(args.tuners or (SUGGEST_TIME_TUNERS if args.suggest_time else None))
    tuners = available_tuners(tuners, args.skip_anchors, install=not args.no_install)
    versions = print_versions(tuners)

    if args.suggest_time:
        print(f"Suggest time over {sq_driver.TIMING_SPACE.keys().__len__()} parameters "
              "(6 uniform, 1 loguniform, 1 choice):")  # fmt: skip
        table = suggest_time(tuners, args.history, seconds_per_point=3.0)
        close_drivers()
        print_suggest_time(table, args.history)
        if args.json:
            Path(args.json).write_text(json.dumps({"suggest_time": table, "versions": versions}, indent=1))
        if args.plot:
            plot(args.json, args.plot)
        return 0

    problems = args.problems or (QUICK["problems"] if args.quick else list(sq_problems.PROBLEMS))
    budgets = sorted(args.budgets or (QUICK["budgets"] if args.quick else [25, 50, 100, 200]))
    seeds = args.seeds or (QUICK["seeds"] if args.quick else 10)
    modes = args.modes or list(QUICK["modes"] if args.quick else MODES)
    cache_dir = Path(args.cache_dir) if args.cache_dir else None

    print(f"Problems: {', '.join(problems)}\nTuners: {', '.join(tuners)}\nBudgets: {budgets}; seeds: {seeds}; "
          f"modes: {', '.join(modes)}; workers: {args.workers}", flush=True)  # fmt: skip
    fill_tables(problems, cache_dir, args.workers)
    references = {name: reference_value(sq_problems.get_problem(name)) for name in problems}
    jobs = [(name, tuner, seed, mode, budgets[-1]) for name in problems for tuner in tuners
            for seed in range(seeds) for mode in modes if accepts(tuner, name)]  # fmt: skip
    jobs.sort(key=lambda j: -sq_problems.get_problem(j[0]).cost * _TUNER_COST.get(j[1], 1.0))
    runs: list[dict[str, Any]] = []
    context = multiprocessing.get_context("fork")
    with context.Pool(args.workers, initializer=_worker_init, initargs=(args.cache_dir,)) as pool:
        for done, run in enumerate(pool.imap_unordered(_run_job, jobs), 1):
            runs.append(run)
            if done % max(len(jobs) // 20, 1) == 0 or done == len(jobs):
                print(f"  {done}/{len(jobs)} runs, {time.perf_counter() - started:.0f} s", flush=True)
    summary = analyse(runs, references, budgets)
    main_budget = 100 if 100 in budgets else budgets[-1]
    print_report(summary, main_budget)
    elapsed = time.perf_counter() - started
    print(f"\nTotal time: {elapsed:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "runs": runs, "versions": versions,
                                               "seconds": elapsed, "argv": sys.argv[1:]}))  # fmt: skip
    if args.plot:
        plot(args.json, args.plot)
    return 0


def plot(json_path: str | None, png_path: str) -> None:
    """Draw the results with matplotlib from the peers venv (not a dependency of the project)."""
    if not json_path:
        print("--plot needs --json (the plot is drawn from that file)")
        return
    python = venv_python(PEERS_VENV)
    if not python.exists():
        print(f"No plot: {PEERS_VENV} (with matplotlib) is missing")
        return
    done = subprocess.run([str(python), str(HELPERS / "sq_plot.py"), json_path, png_path], capture_output=True, text=True)
    print(done.stdout.strip() or done.stderr.strip()[-1000:])


if __name__ == "__main__":
    sys.exit(main())
