"""Problems of the search-quality benchmark: search spaces in NNI's format and objectives to minimize.

Three groups:

* ``synthetic``: classic test functions with known optima (Branin, Hartmann6, Rosenbrock, Levy);
* ``mixed``: made-up functions over mixed and conditional spaces (choice, randint, q-types, log
  scales, nested choice) whose optimum (0) is known;
* ``ml``: models from scikit-learn on its bundled datasets (digits, breast_cancer, wine), as
  tabular benchmarks: each parameter is snapped to a fixed grid (a quarter or half decade for
  log-scaled ones) before the model is trained, so an evaluation is repeatable and, once the
  table is computed (in parallel before the runs, then cached on disk), a lookup. The table's
  minimum is the known optimum.

Runs under the project's interpreter (numpy; scikit-learn for ``ml``). Objectives accept the
values of any tuner (ints as floats and the other way round).
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["PROBLEMS", "Problem", "evaluate_cell", "get_problem", "missing_cells", "table_optimum"]

Objective = Callable[[dict[str, Any]], float]


@dataclass
class Problem:
    """One benchmark problem.

    Attributes
    ----------
    name
        Short identifier used on the command line and in tables.
    group
        ``'synthetic'``, ``'mixed'`` or ``'ml'``.
    space
        Search space in NNI's format.
    objective
        Loss to minimize, from a parameter dict as a tuner gives it.
    optimum
        Known minimum, or ``None`` (then the best value found by any run is used).
    cost
        Rough relative cost of one run, used to schedule expensive jobs first.
    """

    name: str
    group: str
    space: dict[str, Any]
    objective: Objective
    optimum: float | None
    cost: float = 1.0
    cache: dict[str, float] = field(default_factory=dict)
    cache_dir: Path | None = None
    _new_entries: dict[str, float] = field(default_factory=dict)

    def evaluate(self, params: dict[str, Any]) -> float:
        return float(self.objective(params))

    # -- disk cache (ml problems) -----------------------------------------------------------------

    def load_cache(self, directory: Path | None) -> None:
        """Read every cache file of this problem in ``directory`` (written by earlier workers)."""
        self.cache_dir = directory
        if directory is None or not directory.is_dir():
            return
        for path in directory.glob(f"{self.name}.*.jsonl"):
            for line in path.read_text().splitlines():
                try:
                    key, value = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a killed run
                self.cache[key] = float(value)

    def save_cache(self) -> None:
        """Append the cells evaluated by this process to its own cache file."""
        if self.cache_dir is None or not self._new_entries:
            return
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        path = self.cache_dir / f"{self.name}.{os.getpid()}.jsonl"
        with path.open("a") as file:
            for key, value in self._new_entries.items():
                file.write(json.dumps([key, value]) + "\n")
        self._new_entries.clear()


# ---------------------------------------------------------------------------------------------------
# Synthetic functions (minimization, known optima)


def _branin(p: dict[str, Any]) -> float:
    x1, x2 = float(p["x1"]), float(p["x2"])
    b, c = 5.1 / (4 * math.pi**2), 5 / math.pi
    r, s, t = 6.0, 10.0, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - r) ** 2 + s * (1 - t) * math.cos(x1) + s


_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_H6_A = np.array([
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
])  # fmt: skip
_H6_P = 1e-4 * np.array([
    [1312, 1696, 5569, 124, 8283, 5886],
    [2329, 4135, 8307, 3736, 1004, 9991],
    [2348, 1451, 3522, 2883, 3047, 6650],
    [4047, 8828, 8732, 5743, 1091, 381],
])  # fmt: skip


def _hartmann6(p: dict[str, Any]) -> float:
    x = np.array([float(p[f"x{i}"]) for i in range(1, 7)])
    inner = np.sum(_H6_A * (x - _H6_P) ** 2, axis=1)
    return float(-np.sum(_H6_ALPHA * np.exp(-inner)))


def _rosenbrock(p: dict[str, Any]) -> float:
    x = [float(p[f"x{i}"]) for i in range(1, 5)]
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(3))


def _levy(p: dict[str, Any]) -> float:
    w = [1 + (float(p[f"x{i}"]) - 1) / 4 for i in range(1, 6)]
    total = math.sin(math.pi * w[0]) ** 2
    for wi in w[:-1]:
        total += (wi - 1) ** 2 * (1 + 10 * math.sin(math.pi * wi + 1) ** 2)
    total += (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)
    return total


def _uniform_box(names: list[str], low: float, high: float) -> dict[str, Any]:
    return {name: {"_type": "uniform", "_value": [low, high]} for name in names}


# ---------------------------------------------------------------------------------------------------
# Mixed and conditional spaces with a known optimum of 0


MIXED_SPACE: dict[str, Any] = {
    "optimizer": {"_type": "choice", "_value": ["sgd", "adam", "rmsprop", "adagrad"]},
    "lr": {"_type": "loguniform", "_value": [1e-5, 1.0]},
    "batch_size": {"_type": "qloguniform", "_value": [16, 1024, 16]},
    "layers": {"_type": "randint", "_value": [1, 9]},
    "units": {"_type": "quniform", "_value": [32, 512, 32]},
    "dropout": {"_type": "uniform", "_value": [0.0, 0.9]},
    "weight_decay": {"_type": "choice", "_value": [0, 1e-5, 1e-4, 1e-3]},
}
# Each optimizer has its own best learning rate (an interaction TPE's independent model misses).
_BEST_LOG_LR = {"sgd": -1.5, "adam": -3.0, "rmsprop": -3.5, "adagrad": -2.0}
_OPTIMIZER_PENALTY = {"sgd": 0.05, "adam": 0.0, "rmsprop": 0.02, "adagrad": 0.1}
_DECAY_PENALTY = {0: 0.05, 1e-5: 0.0, 1e-4: 0.01, 1e-3: 0.08}


def _mixed(p: dict[str, Any]) -> float:
    optimizer = p["optimizer"]
    loss = _OPTIMIZER_PENALTY[optimizer]
    loss += (math.log10(float(p["lr"])) - _BEST_LOG_LR[optimizer]) ** 2 / 4
    loss += (math.log2(max(float(p["batch_size"]), 1.0)) - 7) ** 2 / 20
    loss += (int(p["layers"]) - 4) ** 2 / 16
    loss += ((float(p["units"]) - 256) / 256) ** 2
    # The best dropout grows with depth: another interaction.
    loss += (float(p["dropout"]) - 0.1 * int(p["layers"])) ** 2
    loss += _DECAY_PENALTY[float(p["weight_decay"])]
    return loss


CONDITIONAL_SPACE: dict[str, Any] = {
    "model": {"_type": "choice", "_value": [
        {"_name": "linear", "C": {"_type": "loguniform", "_value": [1e-4, 1e4]}},
        {"_name": "mlp",
         "hidden": {"_type": "qloguniform", "_value": [8, 512, 8]},
         "depth": {"_type": "randint", "_value": [1, 6]},
         "lr": {"_type": "loguniform", "_value": [1e-5, 1e-1]},
         "activation": {"_type": "choice", "_value": ["relu", "tanh", "gelu"]}},
        {"_name": "tree",
         "max_depth": {"_type": "randint", "_value": [2, 17]},
         "min_leaf": {"_type": "qloguniform", "_value": [1, 100, 1]},
         "criterion": {"_type": "choice", "_value": ["gini", "entropy"]}},
    ]},
    "scale": {"_type": "choice", "_value": [True, False]},
}  # fmt: skip


def _conditional(p: dict[str, Any]) -> float:
    model = p["model"]
    name = model["_name"]
    if name == "linear":
        loss = 0.30 + (math.log10(float(model["C"])) - 1) ** 2 / 20
    elif name == "mlp":
        loss = (math.log2(max(float(model["hidden"]), 1.0)) - 7) ** 2 / 30
        loss += (int(model["depth"]) - 3) ** 2 / 10
        loss += (math.log10(float(model["lr"])) + 3) ** 2 / 8
        loss += {"relu": 0.0, "tanh": 0.03, "gelu": 0.01}[model["activation"]]
    else:
        loss = 0.15 + (int(model["max_depth"]) - 9) ** 2 / 100
        loss += (math.log10(max(float(model["min_leaf"]), 1.0)) - 1) ** 2 / 10
        loss += {"gini": 0.02, "entropy": 0.0}[model["criterion"]]
    return loss + (0.0 if p["scale"] in (True, 1, "true") else 0.05)


# ---------------------------------------------------------------------------------------------------
# Machine-learning problems on scikit-learn's bundled datasets


def _snap_log(value: Any, step: float = 0.25) -> float:
    # Quarter-decade grid by default: 10 ** (k / 4).
    return round(math.log10(float(value)) / step) * step


def _steps(low: float, high: float, step: float) -> list[float]:
    return [round(low + k * step, 6) for k in range(round((high - low) / step) + 1)]


class _Tabular:
    """Objective that trains a model on the grid cell of the parameters, cached by cell.

    The grid is finite (``cells`` lists it), so the whole table can be computed up front (in
    parallel, see :func:`fill_table`) and its minimum is the problem's true optimum.
    """

    def __init__(self, cell: Callable[[dict[str, Any]], dict[str, Any]],
                 train: Callable[[dict[str, Any]], float], cells: Callable[[], list[dict[str, Any]]]) -> None:
        self.cell = cell
        self.train = train
        self.cells = cells
        self.problem: Problem | None = None

    def __call__(self, params: dict[str, Any]) -> float:
        return self.value_of(self.cell(params))

    def value_of(self, cell: dict[str, Any]) -> float:
        assert self.problem is not None
        key = json.dumps(cell, sort_keys=True)
        cache = self.problem.cache
        if key not in cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # convergence warnings of weak configurations
                value = float(self.train(cell))
            cache[key] = value
            self.problem._new_entries[key] = value
        return cache[key]


def missing_cells(problem: Problem) -> list[dict[str, Any]]:
    """Grid cells of an ``ml`` problem not in its cache yet (empty for other problems)."""
    if not isinstance(problem.objective, _Tabular):
        return []
    return [c for c in problem.objective.cells() if json.dumps(c, sort_keys=True) not in problem.cache]


def evaluate_cell(name: str, cell: dict[str, Any]) -> tuple[str, float]:
    """Train one grid cell of problem ``name``; returns (cache key, loss). For worker pools."""
    problem = get_problem(name)
    assert isinstance(problem.objective, _Tabular)
    value = problem.objective.value_of(cell)
    problem._new_entries.clear()  # the caller stores it
    return json.dumps(cell, sort_keys=True), value


def table_optimum(problem: Problem) -> float | None:
    """Best loss of a fully computed table, else ``None``."""
    if not isinstance(problem.objective, _Tabular):
        return None
    values = [problem.cache.get(json.dumps(c, sort_keys=True)) for c in problem.objective.cells()]
    return None if any(v is None for v in values) else min(v for v in values if v is not None)


_DATA: dict[str, Any] = {}


def _dataset(name: str) -> Any:
    # Loaded once per process, on first use, so that importing this module stays cheap.
    if name not in _DATA:
        from sklearn import datasets
        from sklearn.model_selection import train_test_split

        if name == "digits":
            x, y = datasets.load_digits(return_X_y=True)
            _DATA[name] = train_test_split(x / 16.0, y, train_size=500, test_size=500, random_state=0, stratify=y)
        elif name == "breast_cancer":
            x, y = datasets.load_breast_cancer(return_X_y=True)
            _DATA[name] = train_test_split(x, y, train_size=300, random_state=0, stratify=y)
        else:
            x, y = datasets.load_wine(return_X_y=True)
            _DATA[name] = (x, y)
    return _DATA[name]


def _svm_digits_cell(p: dict[str, Any]) -> dict[str, Any]:
    return {"C": _snap_log(p["C"]), "gamma": _snap_log(p["gamma"])}


def _svm_digits_cells() -> list[dict[str, Any]]:
    return [{"C": c, "gamma": g} for c in _steps(-2, 4, 0.25) for g in _steps(-5, 1, 0.25)]


def _svm_digits_train(cell: dict[str, Any]) -> float:
    from sklearn.svm import SVC

    x_train, x_valid, y_train, y_valid = _dataset("digits")
    model = SVC(C=10 ** cell["C"], gamma=10 ** cell["gamma"]).fit(x_train, y_train)
    return 1.0 - float(model.score(x_valid, y_valid))


def _gb_cancer_cell(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "learning_rate": _snap_log(p["learning_rate"], 0.5),
        "n_estimators": int(min(max(round(float(p["n_estimators"]) / 10) * 10, 10), 60)),
        "max_depth": int(p["max_depth"]),
        "max_features": p["max_features"] if isinstance(p["max_features"], str) else float(p["max_features"]),
    }


def _gb_cancer_cells() -> list[dict[str, Any]]:
    return [{"learning_rate": lr, "n_estimators": n, "max_depth": d, "max_features": f}
            for lr in _steps(-3, 0, 0.5) for n in range(10, 61, 10) for d in range(1, 5)
            for f in ("sqrt", "log2", 1.0)]  # fmt: skip


def _log_loss(y_true: np.ndarray, probabilities: np.ndarray, classes: np.ndarray) -> float:
    index = np.searchsorted(classes, y_true)
    picked = np.clip(probabilities[np.arange(len(y_true)), index], 1e-3, 1.0)
    return float(-np.mean(np.log(picked)))


def _gb_cancer_train(cell: dict[str, Any]) -> float:
    from sklearn.ensemble import GradientBoostingClassifier

    x_train, x_valid, y_train, y_valid = _dataset("breast_cancer")
    model = GradientBoostingClassifier(
        learning_rate=10 ** cell["learning_rate"], n_estimators=cell["n_estimators"],
        max_depth=cell["max_depth"], max_features=cell["max_features"], subsample=0.8, random_state=0,
    ).fit(x_train, y_train)  # fmt: skip
    return _log_loss(y_valid, model.predict_proba(x_valid), model.classes_)


WINE_SPACE: dict[str, Any] = {
    "classifier": {"_type": "choice", "_value": [
        {"_name": "logreg", "C": {"_type": "loguniform", "_value": [1e-4, 1e4]}},
        {"_name": "knn",
         "n_neighbors": {"_type": "randint", "_value": [1, 31]},
         "weights": {"_type": "choice", "_value": ["uniform", "distance"]}},
        {"_name": "svc",
         "C": {"_type": "loguniform", "_value": [1e-2, 1e4]},
         "gamma": {"_type": "loguniform", "_value": [1e-5, 1e1]}},
    ]},
    "standardize": {"_type": "choice", "_value": [True, False]},
}  # fmt: skip


def _wine_cell(p: dict[str, Any]) -> dict[str, Any]:
    classifier = dict(p["classifier"])
    cell: dict[str, Any] = {"_name": classifier["_name"], "standardize": bool(p["standardize"])}
    if cell["_name"] == "logreg":
        cell["C"] = _snap_log(classifier["C"])
    elif cell["_name"] == "knn":
        cell["n_neighbors"] = int(classifier["n_neighbors"])
        cell["weights"] = classifier["weights"]
    else:
        cell["C"] = _snap_log(classifier["C"])
        cell["gamma"] = _snap_log(classifier["gamma"])
    return cell


def _wine_cells() -> list[dict[str, Any]]:
    cells: list[dict[str, Any]] = []
    for standardize in (True, False):
        cells += [{"_name": "logreg", "standardize": standardize, "C": c} for c in _steps(-4, 4, 0.25)]
        cells += [{"_name": "knn", "standardize": standardize, "n_neighbors": k, "weights": w}
                  for k in range(1, 31) for w in ("uniform", "distance")]  # fmt: skip
        cells += [{"_name": "svc", "standardize": standardize, "C": c, "gamma": g}
                  for c in _steps(-2, 4, 0.25) for g in _steps(-5, 1, 0.25)]  # fmt: skip
    return cells


def _wine_train(cell: dict[str, Any]) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    x, y = _dataset("wine")
    losses = []
    for train, valid in StratifiedKFold(3, shuffle=True, random_state=0).split(x, y):
        if cell["_name"] == "logreg":
            model: Any = LogisticRegression(C=10 ** cell["C"], max_iter=200)
        elif cell["_name"] == "knn":
            model = KNeighborsClassifier(n_neighbors=cell["n_neighbors"], weights=cell["weights"])
        else:
            model = SVC(C=10 ** cell["C"], gamma=10 ** cell["gamma"], probability=True, random_state=0)
        if cell["standardize"]:
            model = make_pipeline(StandardScaler(), model)
        model.fit(x[train], y[train])
        losses.append(_log_loss(y[valid], model.predict_proba(x[valid]), np.unique(y[train])))
    return float(np.mean(losses))


def _tabular_problem(name: str, space: dict[str, Any], objective: _Tabular, cost: float) -> Problem:
    problem = Problem(name, "ml", space, objective, None, cost)
    objective.problem = problem
    return problem


def _make_problems() -> dict[str, Problem]:
    problems = [
        Problem("branin", "synthetic", {"x1": {"_type": "uniform", "_value": [-5, 10]},
                                        "x2": {"_type": "uniform", "_value": [0, 15]}},
                _branin, 0.397887357729739),
        Problem("hartmann6", "synthetic", _uniform_box([f"x{i}" for i in range(1, 7)], 0, 1),
                _hartmann6, -3.32236801141551),
        Problem("rosenbrock4", "synthetic", _uniform_box([f"x{i}" for i in range(1, 5)], -5, 10),
                _rosenbrock, 0.0),
        Problem("levy5", "synthetic", _uniform_box([f"x{i}" for i in range(1, 6)], -10, 10), _levy, 0.0),
        Problem("mixed", "mixed", MIXED_SPACE, _mixed, 0.0),
        Problem("conditional", "mixed", CONDITIONAL_SPACE, _conditional, 0.0),
        _tabular_problem("svm_digits", {"C": {"_type": "loguniform", "_value": [1e-2, 1e4]},
                                        "gamma": {"_type": "loguniform", "_value": [1e-5, 1e1]}},
                         _Tabular(_svm_digits_cell, _svm_digits_train, _svm_digits_cells), 1.0),
        _tabular_problem("gb_breast_cancer", {
            "learning_rate": {"_type": "loguniform", "_value": [1e-3, 1.0]},
            "n_estimators": {"_type": "quniform", "_value": [10, 60, 10]},
            "max_depth": {"_type": "randint", "_value": [1, 5]},
            "max_features": {"_type": "choice", "_value": ["sqrt", "log2", 1.0]},
        }, _Tabular(_gb_cancer_cell, _gb_cancer_train, _gb_cancer_cells), 1.0),
        _tabular_problem("wine_nested", WINE_SPACE, _Tabular(_wine_cell, _wine_train, _wine_cells), 1.0),
    ]  # fmt: skip
    return {problem.name: problem for problem in problems}


PROBLEMS = _make_problems()


def get_problem(name: str) -> Problem:
    """Return the problem called ``name``."""
    try:
        return PROBLEMS[name]
    except KeyError:
        raise ValueError(f"unknown problem {name!r}; known: {', '.join(PROBLEMS)}") from None
