"""`mlops-levels run all`: every level on the same months, compared in one table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from common.config import Settings
from common.errors import UsageError
from levels.catalog import get_level, load_levels


def run_story(settings: Settings, choices: Any, on_step: Callable[[str], None]) -> dict[str, Any]:
    from levels.runner import run_level
    from teaching.runs import _request, check_choices, prefixed, preflight, run_settings
    from teaching.state import record_run

    levels = load_levels()
    for option, value in choices.given.items():
        if value not in (None, False) and not any(option in lv.run_options for lv in levels):
            raise UsageError(f"no level uses --{option}", fix="see mlops-levels run --help")
    settings = run_settings(settings, choices)
    plans = [(lv, check_choices(lv, {k: v for k, v in choices.given.items() if k in lv.run_options})) for lv in levels]
    for _, chosen in plans:
        preflight(settings, chosen)
    reports = []
    for level, chosen in plans:
        request = _request(settings, chosen, prefixed(on_step, f"level {level.number}"))
        report = run_level(level.number, request).to_dict()
        record_run(settings.workspace, level.number, report)
        reports.append(report)
    comparison = [
        {
            "level": r["level"],
            "practices": len(get_level(r["level"]).practices),
            "val RMSE": r["metrics"].get("rmse_val"),
            "wall s": r["wall_seconds"],
            "still by hand": "; ".join(r["manual_steps"]) or "nothing",
        }
        for r in reports
    ]
    return {"reports": reports, "comparison": comparison, "next": "mlops-levels diff 0 4 --stat"}
