"""Tuner adapters of the search-quality benchmark, and a JSON-lines driver to run them in another venv.

Every tuner is driven through the same small interface (:class:`Adapter`): ``ask(ids)`` returns
parameter sets in NNI's format (nested choices as ``{"_name": ..., ...}``), ``tell(results)``
reports losses (always minimized), ``load(n)`` fills the history with ``n`` random observations
(for suggest-time measurements). The time spent inside the tuner is measured here, in the process
that runs it.

Families:

* ``ours`` and ``nni``: an ``nni.tuner.Tuner`` built from a builtin name (TPE, Random, Anneal,
  TPE_legacy, Evolution, GridSearch), through ``generate_parameters`` / ``receive_trial_result`` /
  ``trial_end``. Which ``nni`` that is depends on the interpreter: ours in the project venv, NNI 3.0
  in its own venv;
* ``optuna``: ``TPESampler`` / ``RandomSampler`` / ``GPSampler`` / ``CmaEsSampler`` (defaults) through
  ``study.ask`` / ``study.tell``;
* ``hyperopt``: ``tpe.suggest`` / ``rand.suggest`` on a ``Trials`` object, one suggestion at a time.

Run as a script, the driver reads one JSON command per line on stdin and answers one JSON line on
stdout: ``{"op": "new", "tuner": "nni:TPE", "space": {...}, "seed": 0, "parallel": false}``,
``{"op": "ask", "ids": [...]}``, ``{"op": "tell", "results": [[id, params, loss], ...]}``,
``{"op": "load", "count": n}``, ``{"op": "versions"}``, and ``{"op": "mf_run", "algorithm": ..., "seed": s,
"max_epochs": n}`` (one run of the multi-fidelity benchmark, ``sq_mf_runner.py``). Needs only the stdlib, numpy and the
tuner's own package, so it runs in the NNI 3.0 venv and the peers venv alike.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import sys
import time
from typing import Any

import numpy as np

#: Space used by suggest-time measurements: numbers, a log-scaled one and a categorical.
TIMING_SPACE: dict[str, Any] = {
    **{f"x{i}": {"_type": "uniform", "_value": [0.0, 1.0]} for i in range(6)},
    "lr": {"_type": "loguniform", "_value": [1e-5, 1e-1]},
    "kind": {"_type": "choice", "_value": ["a", "b", "c", "d"]},
}
NNI_TUNERS = ("TPE", "Random", "Anneal", "TPE_legacy", "Evolution", "GridSearch")
#: Model-based tuners (``--tuners model``); each only on the problems whose space it accepts.
MODEL_TUNERS = ("GP", "Metis", "SMAC", "DNGO")


def timing_objective(params: dict[str, Any]) -> float:
    """Cheap objective over :data:`TIMING_SPACE` used to give loaded histories their values."""
    return sum((float(params[f"x{i}"]) - 0.3) ** 2 for i in range(6)) + (params["kind"] != "b") * 0.5


def random_timing_params(rng: np.random.Generator) -> dict[str, Any]:
    params: dict[str, Any] = {f"x{i}": float(rng.uniform(0, 1)) for i in range(6)}
    params["lr"] = float(math.exp(rng.uniform(math.log(1e-5), math.log(1e-1))))
    params["kind"] = ["a", "b", "c", "d"][int(rng.integers(4))]
    return params


class Adapter:
    """One tuner run: ``ask`` / ``tell`` in NNI's parameter format, losses minimized."""

    def ask(self, ids: list[int]) -> tuple[list[Any], list[float]]:
        """Parameter sets for ``ids`` (fewer if the tuner ran out) and seconds spent per call."""
        raise NotImplementedError

    def tell(self, results: list[tuple[int, Any, float]]) -> None:
        raise NotImplementedError

    def load(self, count: int, seed: int) -> None:
        """Fill the history with ``count`` random observations of :data:`TIMING_SPACE`."""
        raise NotImplementedError


def _is_no_more_trials(error: BaseException) -> bool:
    return type(error).__name__ == "NoMoreTrialError"


def _restore_old_scipy_minimize() -> None:
    """Let NNI 3.0's GP and Metis run on today's scipy (the anchor venv's).

    They pass a 2-D ``x0`` to ``scipy.optimize.minimize`` (an error since scipy 1.11) and index
    ``result.fun[0]`` (a float in today's L-BFGS-B). This wrapper flattens ``x0`` and hands back
    ``fun`` as a one-element array, as the scipy they were written for did; their algorithms are
    untouched. Must run before their modules import ``minimize``.
    """
    import scipy.optimize

    original = scipy.optimize.minimize
    if getattr(original, "_nni30_shim", False):
        return

    def minimize(fun: Any, x0: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(fun, np.asarray(x0, dtype=float).reshape(-1), *args, **kwargs)
        if np.ndim(result.fun) == 0:
            result.fun = np.asarray([result.fun])
        return result

    minimize._nni30_shim = True  # type: ignore[attr-defined]
    scipy.optimize.minimize = minimize


class NniAdapter(Adapter):
    """An ``nni.tuner.Tuner`` (ours or NNI 3.0's, whichever ``nni`` this interpreter imports)."""

    def __init__(self, name: str, space: dict[str, Any], seed: int, parallel: bool, ours: bool) -> None:
        if not ours:
            # NNI's Anneal, TPE_legacy and Evolution take no seed; seed what they might use.
            random.seed(seed)
            np.random.seed(seed)
        seed_arg = {"seed": seed} if ours else {}
        if name == "TPE":
            from nni.algorithms.hpo.tpe_tuner import TpeTuner

            self.tuner = TpeTuner(optimize_mode="minimize", seed=seed)
        elif name == "Random":
            from nni.algorithms.hpo.random_tuner import RandomTuner

            self.tuner = RandomTuner(seed=seed)
        elif name in ("Anneal", "TPE_legacy"):
            from nni.algorithms.hpo.hyperopt_tuner import HyperoptTuner

            algorithm = "anneal" if name == "Anneal" else "tpe"
            # Each side with its own default constant_liar_type.
            self.tuner = HyperoptTuner(algorithm, optimize_mode="minimize", parallel_optimize=parallel, **seed_arg)
        elif name == "Evolution":
            from nni.algorithms.hpo.evolution_tuner import EvolutionTuner

            self.tuner = EvolutionTuner(optimize_mode="minimize", population_size=32, **seed_arg)
        elif name == "GridSearch":
            from nni.algorithms.hpo.gridsearch_tuner import GridSearchTuner

            self.tuner = GridSearchTuner()
        elif name in MODEL_TUNERS:
            # default class args on both sides (NNI's SMAC and DNGO need smac4nni / pybnn + torch)
            import importlib

            if not ours:
                _restore_old_scipy_minimize()

            module = importlib.import_module(f"nni.algorithms.hpo.{name.lower()}_tuner")
            tuner_class = getattr(module, {"GP": "GPTuner", "Metis": "MetisTuner", "SMAC": "SMACTuner",
                                           "DNGO": "DNGOTuner"}[name])  # fmt: skip
            self.tuner = tuner_class(optimize_mode="minimize", **seed_arg)
        else:
            raise ValueError(f"unknown NNI tuner {name!r}; known: {', '.join(NNI_TUNERS)}")
        self.tuner.update_search_space(space)

    def ask(self, ids: list[int]) -> tuple[list[Any], list[float]]:
        params: list[Any] = []
        seconds: list[float] = []
        for parameter_id in ids:
            began = time.perf_counter()
            try:
                params.append(self.tuner.generate_parameters(parameter_id))
            except Exception as error:
                if _is_no_more_trials(error):
                    break
                raise
            finally:
                seconds.append(time.perf_counter() - began)
        return params, seconds

    def tell(self, results: list[tuple[int, Any, float]]) -> None:
        for parameter_id, params, loss in results:
            self.tuner.receive_trial_result(parameter_id, params, loss)
            self.tuner.trial_end(parameter_id, True)

    def load(self, count: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        records = []
        for _ in range(count):
            params = random_timing_params(rng)
            records.append({"parameter": params, "value": timing_objective(params)})
        self.tuner.import_data(records)


# ---------------------------------------------------------------------------------------------------
# Optuna


def _q_round(value: float, q: float, low: float | None = None, high: float | None = None) -> float:
    value = round(value / q) * q
    if low is not None and high is not None:
        value = min(max(value, low), high)
    return float(value)


class OptunaAdapter(Adapter):
    """An Optuna sampler (:data:`OPTUNA_SAMPLERS`) with default settings, define-by-run.

    ``GP`` (``GPSampler``) needs PyTorch and ``CMAES`` (``CmaEsSampler``) the ``cmaes`` package in
    the peers venv; CMA-ES samples categorical parameters with its independent (random) sampler, as
    Optuna does by default (its warning about that is silenced).
    """

    def __init__(self, name: str, space: dict[str, Any], seed: int, parallel: bool) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = make_optuna_sampler(optuna, name, seed)
        self.optuna = optuna
        self.space = space
        self.study = optuna.create_study(sampler=sampler, direction="minimize")
        self.trials: dict[int, Any] = {}

    def ask(self, ids: list[int]) -> tuple[list[Any], list[float]]:
        params, seconds = [], []
        for parameter_id in ids:
            began = time.perf_counter()
            trial = self.study.ask()
            params.append(self._suggest(trial, self.space, ""))
            seconds.append(time.perf_counter() - began)
            self.trials[parameter_id] = trial
        return params, seconds

    def _suggest(self, trial: Any, space: dict[str, Any], prefix: str) -> dict[str, Any]:
        return optuna_suggest(trial, space, prefix)

    def tell(self, results: list[tuple[int, Any, float]]) -> None:
        for parameter_id, _, loss in results:
            self.study.tell(self.trials.pop(parameter_id), loss)

    def load(self, count: int, seed: int) -> None:
        distributions = self.optuna.distributions
        dists = {f"x{i}": distributions.FloatDistribution(0.0, 1.0) for i in range(6)}
        dists["lr"] = distributions.FloatDistribution(1e-5, 1e-1, log=True)
        dists["kind"] = distributions.CategoricalDistribution([0, 1, 2, 3])
        rng = np.random.default_rng(seed)
        trials = []
        for _ in range(count):
            params = random_timing_params(rng)
            value = timing_objective(params)
            params["kind"] = ["a", "b", "c", "d"].index(params["kind"])
            trials.append(self.optuna.trial.create_trial(params=params, distributions=dists, value=value))
        self.study.add_trials(trials)


#: Optuna samplers the benchmark knows (``optuna:NAME``).
OPTUNA_SAMPLERS = ("TPE", "Random", "GP", "CMAES")


def make_optuna_sampler(optuna: Any, name: str, seed: int) -> Any:
    """Optuna's sampler ``name`` (:data:`OPTUNA_SAMPLERS`) with default settings and ``seed``."""
    if name == "TPE":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "Random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "GP":
        return optuna.samplers.GPSampler(seed=seed)
    if name == "CMAES":
        return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    raise ValueError(f"unknown Optuna sampler {name!r}; known: {', '.join(OPTUNA_SAMPLERS)}")


def optuna_suggest(trial: Any, space: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Draw a parameter set of NNI's ``space`` from an Optuna trial (define-by-run), in NNI's format."""
    out: dict[str, Any] = {}
    for name, spec in space.items():
        if name == "_name":
            continue
        label = prefix + name
        kind, values = spec["_type"], spec["_value"]
        if kind == "choice":
            index = trial.suggest_categorical(label, list(range(len(values))))
            option = values[index]
            if all(isinstance(v, dict) and "_name" in v for v in values):
                out[name] = {"_name": option["_name"], **optuna_suggest(trial, option, f"{label}[{index}].")}
            else:
                out[name] = option
        elif kind == "randint":
            out[name] = trial.suggest_int(label, int(values[0]), int(values[1]) - 1)
        elif kind in ("uniform", "quniform"):
            low, high = float(values[0]), float(values[1])
            if kind == "quniform":
                q = float(values[2])
                steps = (high - low) / q
                if abs(steps - round(steps)) < 1e-9:
                    out[name] = trial.suggest_float(label, low, high, step=q)
                else:
                    out[name] = _q_round(trial.suggest_float(label, low, high), q, low, high)
            else:
                out[name] = trial.suggest_float(label, low, high)
        elif kind in ("loguniform", "qloguniform"):
            low, high = float(values[0]), float(values[1])
            value = trial.suggest_float(label, low, high, log=True)
            out[name] = _q_round(value, float(values[2]), low, high) if kind == "qloguniform" else value
        else:
            # Optuna has no normal distributions: search mu +- 4 sigma uniformly instead.
            mu, sigma = float(values[0]), float(values[1])
            value = trial.suggest_float(label, mu - 4 * sigma, mu + 4 * sigma)
            if kind.endswith("lognormal"):
                value = math.exp(value)
            out[name] = _q_round(value, float(values[2])) if kind.startswith("q") else value
    return out


# ---------------------------------------------------------------------------------------------------
# Hyperopt


class HyperoptAdapter(Adapter):
    """Hyperopt's TPE (or random search) with default settings, one suggestion per call."""

    def __init__(self, name: str, space: dict[str, Any], seed: int, parallel: bool) -> None:
        import hyperopt

        if name == "TPE":
            self.algorithm = hyperopt.tpe.suggest
        elif name == "Random":
            self.algorithm = hyperopt.rand.suggest
        else:
            raise ValueError(f"unknown hyperopt algorithm {name!r}; known: TPE, Random")
        logging.getLogger("hyperopt").setLevel(logging.WARNING)
        self.hyperopt = hyperopt
        self.space = space
        self.expression = self._convert(space, "")
        self.domain = hyperopt.Domain(lambda _: 0.0, self.expression)
        self.trials = hyperopt.Trials()
        self.rng = np.random.default_rng(seed)
        self.docs: dict[int, Any] = {}

    def _convert(self, space: dict[str, Any], prefix: str) -> dict[str, Any]:
        hp = self.hyperopt.hp
        out: dict[str, Any] = {}
        for name, spec in space.items():
            if name == "_name":
                continue
            label = prefix + name
            kind, values = spec["_type"], spec["_value"]
            if kind == "choice":
                if all(isinstance(v, dict) and "_name" in v for v in values):
                    options = [{"_name": v["_name"], **self._convert(v, f"{label}[{i}].")}
                               for i, v in enumerate(values)]  # fmt: skip
                    out[name] = hp.choice(label, options)
                else:
                    out[name] = hp.choice(label, values)
            elif kind == "randint":
                out[name] = hp.randint(label, int(values[0]), int(values[1]))
            elif kind == "uniform":
                out[name] = hp.uniform(label, values[0], values[1])
            elif kind == "quniform":
                out[name] = hp.quniform(label, values[0], values[1], values[2])
            elif kind == "loguniform":
                out[name] = hp.loguniform(label, math.log(values[0]), math.log(values[1]))
            elif kind == "qloguniform":
                out[name] = hp.qloguniform(label, math.log(values[0]), math.log(values[1]), values[2])
            else:
                out[name] = getattr(hp, kind)(label, *values)
        return out

    def _fix(self, space: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        # hyperopt's q-types are not clipped to the bounds as NNI's are; numpy scalars to Python.
        out: dict[str, Any] = {}
        for name, value in params.items():
            spec = space.get(name) if name != "_name" else None
            if isinstance(value, dict) and spec is not None:
                option = next(v for v in spec["_value"] if isinstance(v, dict) and v.get("_name") == value.get("_name"))
                out[name] = self._fix(option, value)
                continue
            if isinstance(value, np.generic):
                value = value.item()
            if spec is not None and spec["_type"] in ("quniform", "qloguniform"):
                value = float(min(max(value, spec["_value"][0]), spec["_value"][1]))
            out[name] = value
        return out

    def ask(self, ids: list[int]) -> tuple[list[Any], list[float]]:
        params, seconds = [], []
        for parameter_id in ids:
            began = time.perf_counter()
            tid = self.trials.new_trial_ids(1)
            docs = self.algorithm(tid, self.domain, self.trials, int(self.rng.integers(2**31 - 1)))
            self.trials.insert_trial_docs(docs)
            self.trials.refresh()
            doc = docs[0]
            values = {key: value[0] for key, value in doc["misc"]["vals"].items() if len(value)}
            params.append(self._fix(self.space, self.hyperopt.space_eval(self.expression, values)))
            seconds.append(time.perf_counter() - began)
            self.docs[parameter_id] = doc
        return params, seconds

    def tell(self, results: list[tuple[int, Any, float]]) -> None:
        for parameter_id, _, loss in results:
            tid = self.docs.pop(parameter_id)["tid"]
            # The stored document, not the one handed to insert_trial_docs (that was copied).
            doc = next(d for d in self.trials._dynamic_trials if d["tid"] == tid)
            doc["state"] = self.hyperopt.JOB_STATE_DONE
            doc["result"] = {"loss": float(loss), "status": self.hyperopt.STATUS_OK}
        self.trials.refresh()

    def load(self, count: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        tids = self.trials.new_trial_ids(count)
        specs, results, miscs = [], [], []
        for tid in tids:
            params = random_timing_params(rng)
            vals = {key: [value] for key, value in params.items()}
            vals["kind"] = [["a", "b", "c", "d"].index(params["kind"])]
            specs.append(None)
            results.append({"loss": timing_objective(params), "status": self.hyperopt.STATUS_OK})
            miscs.append({"tid": tid, "cmd": self.domain.cmd, "workdir": None,
                          "idxs": {key: [tid] for key in vals}, "vals": vals})  # fmt: skip
        docs = self.trials.new_trial_docs(tids, specs, results, miscs)
        for doc in docs:
            doc["state"] = self.hyperopt.JOB_STATE_DONE
        self.trials.insert_trial_docs(docs)
        self.trials.refresh()


def make_adapter(tuner: str, space: dict[str, Any], seed: int, parallel: bool) -> Adapter:
    """Build the adapter for ``family:name`` (``ours:TPE``, ``nni:Anneal``, ``optuna:TPE``, ...)."""
    family, _, name = tuner.partition(":")
    if family in ("ours", "nni"):
        return NniAdapter(name, space, seed, parallel, ours=family == "ours")
    if family == "optuna":
        return OptunaAdapter(name, space, seed, parallel)
    if family == "hyperopt":
        return HyperoptAdapter(name, space, seed, parallel)
    raise ValueError(f"unknown tuner family {family!r} in {tuner!r}")


def versions() -> dict[str, str]:
    """Versions of the packages this interpreter would use."""
    out = {"python": sys.version.split()[0], "numpy": np.__version__}
    for module in ("nni", "optuna", "hyperopt"):
        try:
            out[module] = str(__import__(module).__version__)
        except Exception:  # not installed here, or broken: just not reported
            continue
    return out


def main() -> None:
    # The protocol owns the real stdout; anything a library prints goes to stderr instead.
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    logging.basicConfig(level=logging.WARNING)
    adapter: Adapter | None = None
    for line in sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        try:
            op = command["op"]
            if op == "new":
                adapter = make_adapter(command["tuner"], command["space"], command["seed"], command["parallel"])
                reply: dict[str, Any] = {"ok": True}
            elif op == "ask":
                assert adapter is not None
                params, seconds = adapter.ask(command["ids"])
                reply = {"params": params, "seconds": seconds}
            elif op == "tell":
                assert adapter is not None
                adapter.tell([tuple(item) for item in command["results"]])
                reply = {"ok": True}
            elif op == "load":
                assert adapter is not None
                adapter.load(command["count"], command.get("seed", 0))
                reply = {"ok": True}
            elif op == "versions":
                reply = {"versions": versions()}
            elif op == "mf_run":
                # one whole run of the multi-fidelity benchmark (sq_mf_runner.py, beside this file)
                import sq_mf_runner

                reply = {"result": sq_mf_runner.run(command["algorithm"], command["seed"], command["max_epochs"])}
            else:
                reply = {"error": f"unknown op {op!r}"}
        except Exception as error:  # reported to the parent, which decides what to do
            reply = {"error": f"{type(error).__name__}: {error}"}
        protocol.write(json.dumps(reply) + "\n")
        protocol.flush()


if __name__ == "__main__":
    main()
