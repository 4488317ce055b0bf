"""Several objectives at once: what they are, and which results are Pareto-optimal (ours; NNI has none).

A multi-objective experiment names each metric and its direction in the tuner's ``optimize_mode``,
a mapping instead of the usual string::

    tuner:
      name: TPE
      classArgs:
        optimize_mode: {accuracy: maximize, latency: minimize}

and its trials report a dict holding every named metric (``"default"`` may be one of them)::

    nni.report_final_result({'default': acc, 'accuracy': acc, 'latency': ms})

A result *dominates* another when it is no worse in every objective and better in one; the
*Pareto front* is the set of results no other result dominates.

Stdlib only: the manager computes the front without numpy.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, NamedTuple

__all__ = [
    "Objective",
    "losses",
    "nondominated_ranks",
    "objectives_of_config",
    "pareto_front",
    "pareto_trials",
    "parse_objectives",
]


class Objective(NamedTuple):
    """One metric to optimize: its key in the reported dict and its direction."""

    name: str
    maximize: bool

    def mode(self) -> str:
        return "maximize" if self.maximize else "minimize"


def parse_objectives(optimize_mode: Any) -> list[Objective] | None:
    """Read the objectives out of an ``optimize_mode`` class arg.

    Parameters
    ----------
    optimize_mode
        ``'maximize'`` / ``'minimize'`` / ``None`` (one objective), or a mapping of metric name to
        direction (several).

    Returns
    -------
    list of Objective or None
        ``None`` for a single objective.

    Raises
    ------
    ValueError
        If the mapping is empty, has one entry, or a direction or name is not valid.

    Examples
    --------
    >>> parse_objectives({'accuracy': 'maximize', 'latency': 'minimize'})
    [Objective(name='accuracy', maximize=True), Objective(name='latency', maximize=False)]
    """
    if not isinstance(optimize_mode, Mapping):
        return None
    if len(optimize_mode) < 2:
        raise ValueError(
            "optimize_mode as a mapping names two or more metrics with their directions, e.g. "
            f"{{accuracy: maximize, latency: minimize}}; got {dict(optimize_mode)!r}"
        )
    objectives = []
    for name, mode in optimize_mode.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"optimize_mode: metric names must be non-empty strings, got {name!r}")
        if mode not in ("maximize", "minimize"):
            raise ValueError(f"optimize_mode.{name} should be 'maximize' or 'minimize', got {mode!r}")
        objectives.append(Objective(name, mode == "maximize"))
    return objectives


def objectives_of_config(params: Mapping[str, Any]) -> list[Objective] | None:
    """The objectives of an experiment config (camelCase dict), ``None`` for a single objective."""
    for section in ("tuner", "advisor"):
        algorithm = params.get(section)
        if isinstance(algorithm, Mapping):
            class_args = algorithm.get("classArgs") or algorithm.get("class_args") or {}
            if isinstance(class_args, Mapping):
                try:
                    return parse_objectives(class_args.get("optimize_mode"))
                except ValueError:
                    return None
    return None


def losses(value: Any, objectives: Sequence[Objective]) -> tuple[float, ...] | None:
    """A result as one loss per objective (smaller is better), or ``None`` if a metric is missing.

    ``value`` is the reported metric: a dict, or its JSON text (as stored).
    """
    if isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except ValueError:
            return None
        if isinstance(value, str):  # stored metrics are JSON of JSON
            try:
                value = json.loads(value)
            except ValueError:
                return None
    if not isinstance(value, Mapping):
        return None
    out = []
    for objective in objectives:
        number = value.get(objective.name)
        if isinstance(number, bool) or not isinstance(number, numbers.Real) or not math.isfinite(float(number)):
            return None
        out.append(-float(number) if objective.maximize else float(number))
    return tuple(out)


def _dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    return all(x <= y for x, y in zip(a, b, strict=True)) and any(x < y for x, y in zip(a, b, strict=True))


def pareto_front(points: Sequence[tuple[Hashable, Sequence[float]]]) -> list[Hashable]:
    """Keys of the points no other point dominates (losses: smaller is better), in input order.

    Equal points are all kept.
    """
    front = []
    for key, loss in points:
        if not any(_dominates(other, loss) for _, other in points):
            front.append(key)
    return front


def nondominated_ranks(points: Sequence[Sequence[float]]) -> list[int]:
    """Non-dominated sorting: 0 for the Pareto front, 1 for the front of the rest, and so on."""
    ranks = [-1] * len(points)
    remaining = set(range(len(points)))
    level = 0
    while remaining:
        current = [i for i in remaining if not any(_dominates(points[j], points[i]) for j in remaining if j != i)]
        for i in current:
            ranks[i] = level
        remaining.difference_update(current)
        level += 1
    return ranks


def pareto_trials(params: Mapping[str, Any], trials: Mapping[str, Any]) -> dict[str, Any]:
    """Describe the experiment's objectives and its Pareto-optimal trials.

    Parameters
    ----------
    params
        The experiment's camelCase config.
    trials
        Trial id to trial record (``status``, ``final_metric``, ``parameters()``, ``sequence_id``).

    Returns
    -------
    dict
        ``{"objectives": [{"name", "mode"}], "trials": [{"trialJobId", "sequenceId", "parameter",
        "value", "objectives": {name: number}}]}``, trials in sequence order; both lists are empty
        for a single-objective experiment.
    """
    objectives = objectives_of_config(params)
    if not objectives:
        return {"objectives": [], "trials": []}
    candidates = []
    for record in trials.values():
        if record.status != "SUCCEEDED" or record.final_metric is None:
            continue
        vector = losses(record.final_metric.data, objectives)
        if vector is not None:
            candidates.append((record, vector))
    front_indices = set(pareto_front([(index, vector) for index, (_, vector) in enumerate(candidates)]))
    front = []
    for index, (record, _) in enumerate(candidates):
        if index not in front_indices:
            continue
        value = _decode(record.final_metric.data)
        front.append({
            "trialJobId": record.trial_job_id,
            "sequenceId": record.sequence_id,
            "parameter": record.parameters(),
            "value": value,
            "objectives": {o.name: value[o.name] for o in objectives},
        })
    front.sort(key=lambda item: (item["sequenceId"] is None, item["sequenceId"]))
    return {"objectives": [{"name": o.name, "mode": o.mode()} for o in objectives], "trials": front}


def _decode(data: Any) -> Any:
    # stored final metrics are JSON of the JSON text the trial sent
    value = json.loads(data) if isinstance(data, (str, bytes)) else data
    return json.loads(value) if isinstance(value, str) else value
