"""Why one level's number differs from the level before: every RMSE `run all` shows names its cause.

A table of five RMSEs invites the wrong lesson ("CI makes the model better"). Most practices change how a
model is made, checked and served, not what it predicts; where a number moves, something the level does
to the data or the model moved it, and the row says what. All RMSEs here are the served models' on the
same rides (story_scores.served_rmse), so a difference is never a difference of validation rows.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from teaching.infra.config import Settings

if TYPE_CHECKING:
    from common.data import Dropped

# The course's own validation RMSE (linear regression on PU_DO + distance, 1..60 minutes), which level 0's
# notebook reproduces on the real green-taxi months: shown beside level 0 when those are the months.
COURSE_RMSE = {("2021-01", "2021-02"): 7.7587, ("2023-01", "2023-02"): 6.0385}
SAME = 1e-6  # RMSEs closer than this are the same predictions


def _change(before: float, after: float) -> str:
    return f"{before:.3f} → {after:.3f} ({after / before - 1:+.1%})"


def dropped_for_training(settings: Settings, month: str) -> Dropped:
    """The rows of the training month that level 1's validation leaves out, by reason (common/data.py);
    the course's 1..60-minute filter, which level 0 applies too, is not counted."""
    # imported here: they bring pandas, which `run`'s checks of its options must not pay for
    from common.data import prepare_trips_counted, read_trips
    from common.sources import resolve_data

    path = resolve_data(month, settings.data).path
    return replace(prepare_trips_counted(read_trips(path, model_columns_only=True), path).dropped, duration=0)


def _level_0(report: dict[str, Any], settings: Settings) -> str:
    text = f"the course's notebook: its own validation RMSE {float(report['metrics']['rmse_val']):.4f}"
    course = COURSE_RMSE.get((report["train"], report["val"]))
    real = settings.data_folder is not None or settings.source == "tlc"
    if course is not None and real and settings.color == "green":  # the course's numbers are green taxis
        text += f" (the course publishes {course:.4f} for these real months)"
    return text


def _level_1(report: dict[str, Any], first: tuple[float, float], settings: Settings) -> str:
    dropped = dropped_for_training(settings, report["train"])
    if not dropped.invalid:
        if abs(first[1] - first[0]) < SAME:
            return f"the same model, trained on the same rows: same predictions ({first[1]:.3f})"
        return f"no row dropped, yet other predictions: {_change(*first)} (another model or features was asked for)"
    return (
        f"the same model without the {dropped.invalid:,} training rows its data validation drops "
        f"({dropped.describe()}): {_change(*first)}; CI, tests and the service change no number"
    )


def _level_2(first: tuple[float, float], report: dict[str, Any], above: dict[str, Any]) -> str:
    if abs(first[1] - first[0]) < SAME:
        return f"the same model as level 1, now tracked and registered: same predictions ({first[1]:.3f})"
    if report["model"] != above["model"]:
        return f"a different model ({report['model']} vs {above['model']}): {_change(*first)}"
    chosen = report["details"].get("best_params", "defaults")
    return f"{report['model']} again, with other parameters or features (here: {chosen}): {_change(*first)}"


def _level_3(report: dict[str, Any], first: tuple[float, float]) -> str:
    served = str(report["serving"]["version"])
    arms = {str(row["version"]): row for row in report["details"].get("ab_test", [])}
    reused = [c["call"] for c in report["details"].get("quality gate", []) if "earlier run" in c["call"]]
    if len(arms) > 1:
        winner = min(arms.values(), key=lambda row: row["RMSE"])
        loser = max(arms.values(), key=lambda row: row["RMSE"])
        contest = (
            f"the A/B winner on {report['details']['replayed']} ({winner['RMSE']:.3f} vs {loser['model']} "
            f"{loser['RMSE']:.3f})"
        )
        if str(winner["version"]) == served:
            text = f"serves v{served} ({winner['model']}), {contest}: {_change(*first)}"
        else:  # the gate refused the winner's promotion: the champion stays
            text = (
                f"serves v{served}: v{winner['version']} ({winner['model']}) was {contest}, but the gate "
                f"refused its promotion: {_change(*first)}"
            )
    elif served in arms:
        text = f"serves v{served} ({arms[served]['model']}): the gate kept the challenger out: {_change(*first)}"
    else:
        text = f"serves v{served}: {_change(*first)}"
    if reused:
        text += f"; this workspace's registry already had a champion ({reused[0]})"
    return text


def _level_4(report: dict[str, Any], last_month: str) -> str:
    metrics, details = report["metrics"], report["details"]
    served, frozen = float(metrics["last_month_rmse"]), float(metrics["last_month_frozen_rmse"])
    retrains = int(metrics["retrains"])
    fired = [row["month"] for row in details.get("month_by_month", []) if row.get("rules", "—") != "—"]
    if retrains:
        gain = 1 - served / frozen
        text = (
            f"retrained {retrains} time(s) ({details['retrained_in']}); in {last_month} it serves "
            f"{details['serving_now']}: {served:.3f}, where its own first champion kept frozen scores {frozen:.3f} "
            f"(this run's retraining {'lowered' if gain >= 0 else 'raised'} {last_month}'s RMSE by {abs(gain):.1%})"
        )
    elif fired:
        text = (
            f"rules fired in {', '.join(fired)} but no candidate was promoted (refused or failed: see its "
            f"decision log), so it serves its first champion ({served:.3f} in {last_month})"
        )
    else:
        text = f"no rule fired, so it kept its first champion ({served:.3f} in {last_month})"
    if details.get("resumed"):
        text += "; resumed an earlier run's decisions (not decided again)"
    return text


def causes(settings: Settings, reports: list[dict[str, Any]], curves: dict[str, dict[str, float]]) -> dict[int, str]:
    """{level: why its served model scores what it does, against the level above it}."""
    by_level = {int(r["level"]): r for r in reports}
    first_month = min(next(iter(curves.values())))
    last_month = max(next(iter(curves.values())))

    def first(level: int) -> tuple[float, float]:
        return curves[str(level - 1)][first_month], curves[str(level)][first_month]

    found: dict[int, str] = {}
    for level, report in by_level.items():
        if level == 0:
            found[0] = _level_0(report, settings)
        elif level == 1 and 0 in by_level:
            found[1] = _level_1(report, first(1), settings)
        elif level == 2 and 1 in by_level:
            found[2] = _level_2(first(2), report, by_level[1])
        elif level == 3 and 2 in by_level:
            found[3] = _level_3(report, first(3))
        elif level == 4:
            found[4] = _level_4(report, last_month)
    return found
