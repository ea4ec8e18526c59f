"""Level 4 · the lesson, drawn: the same months with a frozen level-2 model and with the closed loop.

RMSE per month for both, retrain events marked, as a PNG in the workspace (the terminal gets a table).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from common.atomic import atomic_path

RULE_NAMES = {"degradation": "rmse"}  # short enough for the table; the log keeps each rule's full text


def comparison_rows(decisions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One short row a month, to fit an 80-column terminal; every word of it is in the decision log."""
    return [
        {
            "month": d["month"],
            "frozen": round(d["frozen_rmse"], 3),
            "level 4": round(d["rmse"], 3),
            "drift": f"{d['drift_share']:.0%}",
            "rules": "+".join(RULE_NAMES.get(r.split(":")[0], r.split(":")[0]) for r in d["rules_fired"]) or "—",
            "then": short_action(d),
        }
        for d in decisions
        if "rmse" in d
    ]


def short_action(decision: dict[str, Any]) -> str:
    action = str(decision["action"])
    stale = " (stale data)" if decision.get("stale_window") else ""
    if action == "retrained and promoted":
        return f"retrained{stale}, serves v{decision['champion']['version']}"
    if action.startswith("retrained; gate refused"):
        return f"gate refused, keeps v{decision['champion']['version']}"
    if action.startswith("retrain failed"):
        return "retrain failed (see log)"
    return f"keeps v{decision['champion']['version']}" if action == "none" else action[:30]


def plot_comparison(decisions: list[dict[str, Any]], target: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [d for d in decisions if "rmse" in d]
    months = [d["month"] for d in rows]
    figure, axis = plt.subplots(figsize=(8, 4.5))
    axis.plot(months, [d["frozen_rmse"] for d in rows], marker="o", label="frozen model (level 2, never retrained)")
    axis.plot(months, [d["rmse"] for d in rows], marker="o", label="level 4 (monitor, retrain, promote)")
    for d in rows:
        if d["action"] == "retrained and promoted":
            axis.axvline(d["month"], color="green", linestyle="--", alpha=0.5)
            axis.annotate(
                f"v{d['champion']['version']}",
                (d["month"], d["rmse"]),
                textcoords="offset points",
                xytext=(4, 8),
                color="green",
            )
    axis.set(title=title, xlabel="month served", ylabel="RMSE (minutes)")
    axis.legend(loc="upper left")
    figure.autofmt_xdate()
    figure.tight_layout()
    with atomic_path(target) as tmp:
        figure.savefig(tmp, format="png", dpi=110)
    plt.close(figure)
    return target
