"""`mlops-levels run 4 --months 2021-01..2021-06` and `serve 4`: start the level's platform, run its closed
loop over the months in fast-forward (`python -m taxi_duration.automation`), then draw the frozen model
beside the automated one. `serve 4` runs the loop on its real schedule (`python -m taxi_duration.schedule`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from common.months import month_range
from teaching.drive.level_4_lesson import comparison_rows, plot_comparison
from teaching.drive.training import prefect_env, store_ready
from teaching.infra.config import Settings
from teaching.infra.processes import run_owned
from teaching.infra.runs import RunReport, RunRequest
from teaching.infra.secrets import lineage_env
from teaching.levelproc import (
    LevelCommandFailed,
    command,
    level_env,
    level_server,
    platform_token_env,
    run_json,
    workdir,
)
from teaching.scenarios import drift_note

Env = dict[str, str]

LEVEL = 4
DEFAULT_MONTHS = "2021-01..2021-06"
PLATFORM = "taxi_duration.platform_api"


def resumed_note(months: list[str], log_path: str) -> str:
    # A rerun of the same story replays its log instead of deciding again (one decision per month):
    # a student who changed a threshold must hear that nothing was re-measured.
    return (
        f"resumed: {len(months)} month(s) already decided in {log_path} were not run again; "
        "change --seed or --months, or `mlops-levels clean`, to decide them anew"
    )


def _environments(settings: Settings) -> tuple[Env, Env]:
    """What the platform and the loop run with: the admin token (a token file others can read is refused
    before Prefect starts), the workspace's Prefect server, and the lineage keys: the loop trains and signs
    its candidates, the platform only verifies them."""
    token = platform_token_env(settings)
    tools = {**prefect_env(settings), **token}
    return {**tools, **lineage_env(settings, signs=False)}, {**tools, **lineage_env(settings, signs=True)}


def main(request: RunRequest) -> RunReport:
    settings = request.settings
    months = month_range(request.options.get("months") or DEFAULT_MONTHS)
    request.on_step("connect to the workspace's Prefect server")
    platform, loop = _environments(settings)
    with store_ready(LEVEL, settings), level_server(LEVEL, PLATFORM, [], settings, platform) as url:
        request.on_step(
            f"train on {months[0]}, then fast-forward {months[1]}..{months[-1]}: serve, monitor, decide, retrain, "
            "promote (python -m taxi_duration.automation)"
        )
        arguments = ["--months", ",".join(months), "--model", request.model, "--features", request.features, "--json"]
        # where the platform lives is the command's environment, never a flow's parameter: the token goes there
        result = run_json(LEVEL, "taxi_duration.automation", arguments, settings, {**loop, **_platform_env(url)})
    decisions, resumed = result["decisions"], result["resumed"]
    if resumed:
        request.on_step(resumed_note(resumed, result["log"]))
    monthly = [d for d in decisions if "rmse" in d]
    figure = plot_comparison(
        decisions,
        # named after the decision log it draws: another story (seed, months, data) gets a figure of its own
        settings.layout.reports(LEVEL) / f"frozen-vs-automated-{Path(result['log']).stem}.png",
        f"{result['data']}: frozen model vs closed loop",
    )
    retrains = [d["month"] for d in monthly if d["action"] == "retrained and promoted"]
    last = monthly[-1]
    stale = [d["stale_window"] for d in monthly if "stale_window" in d]  # a gap in the months: said, not hidden
    story = settings.data_folder or settings.source != "synthetic" or settings.scenario != "mild"
    hint = "" if story else " (try --scenario traffic-returns)"
    return request.report(
        LEVEL,
        train=months[0],
        val=f"{months[1]}..{months[-1]}" if len(months) > 2 else months[1],  # every month the loop served
        model=request.model,
        metrics={
            "rmse_val": decisions[0]["champion"]["baseline_rmse"],
            "last_month_rmse": last["rmse"],
            "last_month_frozen_rmse": last["frozen_rmse"],
            "retrains": len(retrains),
        },
        artifacts={"plot": str(figure), "decisions": result["log"], "reports": str(settings.layout.reports(LEVEL))},
        details={
            "data": result["data"],
            **({"drift": note} if (note := drift_note(settings.data)) else {}),
            "months": ", ".join(months),
            "retrained_in": ", ".join(retrains) or f"none: no rule fired{hint}",
            **({"resumed": resumed_note(resumed, result["log"])} if resumed else {}),
            "serving_now": f"v{last['champion']['version']}",
            **({"stale training data": stale} if stale else {}),
            "month_by_month": comparison_rows(decisions),
        },
        manual_steps=[],
        serving={"kind": "registry", "version": str(last["champion"]["version"])},
    )


def _platform_env(url: str) -> dict[str, str]:
    """Where the level's flows find the platform (and send its admin token): the platform this command started,
    on another host only when `serve 4 --host` put it there."""
    host = urlsplit(url).hostname or ""
    remote = host not in ("127.0.0.1", "localhost", "::1")
    return {"PLATFORM_URL": url, **({"PLATFORM_URL_ALLOW_REMOTE": "1"} if remote else {})}


def serve(settings: Settings, host: str, port: int, options: dict[str, Any]) -> None:
    """`mlops-levels serve 4`: the level's platform on HOST:PORT, and its monthly schedule in the foreground
    (`python -m taxi_duration.schedule`), until Ctrl-C; the platform stops with it."""
    platform, loop = _environments(settings)
    schedule = ["--first-month", options["first_month"]] if options.get("first_month") else []
    with level_server(LEVEL, PLATFORM, [], settings, platform, host=host, port=port) as url:
        code = run_owned(
            command("taxi_duration.schedule", schedule),
            level_env(LEVEL, settings, {**loop, **_platform_env(url)}),  # the schedule's runs send the token there
            cwd=workdir(LEVEL, settings),
        )
    if code not in (0, -2, -15, 130, 143):  # a stop signal or Ctrl-C is how a schedule is meant to end
        raise LevelCommandFailed("level 4's schedule stopped (its reason is above)", code)
