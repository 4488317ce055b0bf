"""``nnictl experiment pareto [id] [--json]``: the Pareto front of a multi-objective experiment (ours).

Running experiments answer ``GET /api/v1/nni/pareto-front``; for a stopped one the front is computed
from its database. See :mod:`nni.common.objectives` for how objectives are named.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from typing import Any

from .errors import CliError
from .experiments import resolve
from .output import format_metric, plain_json, table

__all__ = ["add_parser", "cmd_experiment_pareto"]


def add_parser(sub: Any) -> None:
    """Register ``pareto`` under ``nnictl experiment``."""
    pareto = sub.add_parser("pareto", help="show the Pareto front of a multi-objective experiment")
    pareto.add_argument("id", nargs="?", help="the id of experiment")
    pareto.add_argument("--json", action="store_true", help="print the objectives and front trials as JSON")
    pareto.set_defaults(func=cmd_experiment_pareto)


def _front(ref: Any) -> dict[str, Any]:
    if not ref.stopped:
        ref.require_running()
        return ref.request("GET", "/pareto-front")
    from nni.experiment import stored

    try:
        return stored.pareto_front(ref.db_path)
    except (OSError, sqlite3.Error, ValueError) as error:
        raise CliError(f"cannot read the database of {ref.id}: {error}") from None


def cmd_experiment_pareto(args: argparse.Namespace) -> int:
    """``nnictl experiment pareto``."""
    ref = resolve(args.id)
    front = _front(ref)
    if not front.get("objectives"):
        raise CliError(
            f"experiment {ref.id} has one objective; a Pareto front needs several, named in the tuner's "
            "optimize_mode, e.g. {accuracy: maximize, latency: minimize}"
        )
    if args.json:
        print(plain_json(front))
        return 0
    names = [o["name"] for o in front["objectives"]]
    headers = ["Trial ID", "Sequence", *[f"{o['name']} ({o['mode']})" for o in front["objectives"]], "Parameters"]
    rows = [
        [t["trialJobId"], str(t["sequenceId"]), *[format_metric(t["objectives"][n]) for n in names],
         json.dumps(t["parameter"])]
        for t in front["trials"]
    ]  # fmt: skip
    print(table(headers, rows))
    return 0
