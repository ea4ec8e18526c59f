"""`mlops-levels run all`: the lesson of the course in one run.

Every level runs on the same months of the default story ("traffic returns": the real 2021 -> 2023
change compressed into 2021, so a model frozen in January is visibly worse by summer). Levels 0-3
train once on the first month and keep serving that model; their still-manual step is retraining.
Level 4 watches each month and retrains by itself. Each level's served model is then scored on every
month that followed, drawn in one figure, and written to one page an instructor can project.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any

from common.errors import UsageError
from common.months import month_range
from teaching.attribution import causes
from teaching.catalog import load_levels
from teaching.choices import check_choices, left_running, make_request, prefixed, preflight, run_settings
from teaching.infra.config import Settings
from teaching.scenarios import drift_note

STORY_MONTHS = "2021-01..2021-06"
STORY_SCENARIO = "traffic-returns"
NOT_FOR_ALL = ("train-data", "val-data", "replay", "sweep")


def _warm_up_prefect(settings: Settings) -> threading.Thread:
    """Start the workspace's Prefect server while levels 0 and 1 run, which do not need it (~15 s saved)."""
    from teaching.infra.services import ensure_prefect_api

    def start() -> None:
        try:
            ensure_prefect_api(settings)
        except Exception:  # level 2 starts it again and reports the failure in its own words
            pass

    thread = threading.Thread(target=start, name="prefect-warm-up", daemon=True)
    thread.start()
    return thread


def _plans(choices: Any, months: list[str]) -> list[tuple[Any, dict[str, Any]]]:
    plans = []
    for level in load_levels():
        given = {k: v for k, v in choices.given.items() if k in level.run_options and k != "months"}
        if "months" in level.run_options:
            given["months"] = ",".join(months)
        else:
            given |= {"train-data": months[0], "val-data": months[1]}
        plans.append((level, check_choices(level, given)))
    return plans


def run_story(settings: Settings, choices: Any, on_step: Callable[[str], None]) -> dict[str, Any]:
    from common.sources import describe_source
    from teaching.class_report import write_class_report
    from teaching.runner import run_level
    from teaching.state import record_run
    from teaching.story_scores import comparison, served_rmse

    for option in NOT_FOR_ALL:
        if choices.given.get(option):
            raise UsageError(
                f"run all tells one story over --months; --{option} is for a single level",
                fix=f"drop --{option}, or run one level: mlops-levels run N --{option} …",
            )
    if choices.data.get("scenario") is None and choices.data.get("data_folder") is None:
        choices.data["scenario"] = STORY_SCENARIO  # the default story; --scenario still chooses
    months = month_range(choices.given.get("months") or STORY_MONTHS)
    if len(months) < 3:
        raise UsageError("the story needs at least three months", fix="e.g. --months 2021-01..2021-06")
    settings = run_settings(settings, choices)
    plans = _plans(choices, months)
    for _, chosen in plans:
        preflight(settings, chosen)
    _warm_up_prefect(settings)

    def run_in_turn(batch: list[tuple[Any, dict[str, Any]]]) -> list[dict[str, Any]]:
        done = []
        for level, chosen in batch:
            request = make_request(settings, chosen, prefixed(on_step, f"level {level.number}"))
            done.append(run_level(level.number, request).to_dict())
            record_run(settings.workspace, level.number, done[-1], describe_source(settings.data))
        return done

    # The levels share nothing until they are compared (each has its own store and folder), and each runs
    # its own commands in processes of its own: the closed loop (level 4, the longest) runs beside the
    # others, which run in turn.
    loop = [(level, chosen) for level, chosen in plans if "months" in level.run_options]
    rest = [(level, chosen) for level, chosen in plans if "months" not in level.run_options]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        batches = [pool.submit(run_in_turn, batch) for batch in (loop, rest) if batch]
        reports = sorted((r for batch in batches for r in batch.result()), key=lambda r: int(r["level"]))
    on_step("score every level's served model on the months that followed")
    curves = served_rmse(settings, reports, months[1:])
    table = comparison(reports, curves, causes(settings, reports, curves))
    on_step("draw the figure and write the class report")
    files = write_class_report(settings, reports, curves, table, months)
    return {
        "reports": reports,
        "months": months,
        "curves": curves,
        "comparison": table,
        "comparison_title": f"Every level on the same months ({months[0]} → {months[-1]})",
        "drift_note": drift_note(settings.data),
        "files": files,
        "next": f"{settings.command('diff', 3, 4)}   (what closing the loop took)",
        **left_running(settings, [r["level"] for r in reports]),
    }
