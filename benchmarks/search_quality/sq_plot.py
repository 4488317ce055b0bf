"""Plot of the search-quality benchmark, drawn from its ``--json`` output (runs under the peers venv).

Usage: ``python sq_plot.py RESULTS.json OUT.png``. Draws mean normalized regret against the number
of evaluations for every tuner (log scale), the mean rank at each budget, and, when the file holds
suggest-time measurements, suggestion time against the number of observations.
"""

from __future__ import annotations

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

STYLE = {"ours": "-", "nni": "--", "optuna": ":", "hyperopt": "-."}


def main(source: str, target: str) -> None:
    data = json.loads(open(source).read())
    if "suggest_time" in data:
        table = data["suggest_time"]
        fig, ax = plt.subplots(figsize=(6, 4))
        for tuner, row in table.items():
            counts = sorted(int(c) for c in row)
            ax.plot(counts, [1000 * row[str(c)] for c in counts], STYLE.get(tuner.split(":")[0], "-"),
                    marker="o", label=tuner)
        ax.set(xscale="log", yscale="log", xlabel="observations", ylabel="ms per suggestion",
               title="TPE suggest time")
        ax.legend()
        fig.tight_layout()
        fig.savefig(target, dpi=110)
        print(f"Plot written to {target}")
        return
    summary = data["summary"]
    budgets = summary["budgets"]
    tuners = summary["tuners"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    colors = plt.get_cmap("tab20")
    # ours:TPE_legacy is ours:TPE under another name: draw TPE last so that it stays visible.
    tuners = sorted(tuners, key=lambda t: t == "ours:TPE")
    for index, tuner in enumerate(tuners):
        family = tuner.split(":")[0]
        regrets = [summary["mean_regret"][str(b)].get(tuner) for b in budgets]
        ranks = [summary["mean_rank"][str(b)].get(tuner) for b in budgets]
        style = dict(color=colors(index % 20), linestyle=STYLE.get(family, "-"), marker="o",
                     linewidth=2.2 if family == "ours" else 1.3, label=tuner)
        left.plot(budgets, regrets, **style)
        right.plot(budgets, ranks, **style)
    left.set(xscale="log", yscale="log", xlabel="evaluations", ylabel="mean normalized regret (lower is better)",
             title="Search quality, all problems, both modes")
    right.set(xscale="log", xlabel="evaluations", ylabel="mean rank (lower is better)", title="Mean rank")
    for axis in (left, right):
        axis.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        axis.set_xticks(budgets)
        axis.set_xticklabels([str(b) for b in budgets])
    right.legend(fontsize=7, ncol=2, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(target, dpi=110)
    print(f"Plot written to {target}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
