"""Level 4 · entry point of `mlops-levels run 4 --months 2021-01..2021-06`: fast-forward the closed loop
over many months on the platform, then draw the frozen model beside the automated one."""

from __future__ import annotations

import time
from typing import Any

import httpx

from common.config import Settings
from common.errors import UsageError
from common.months import month_range
from common.runs import RunReport, RunRequest
from common.serving import background_server
from common.sources import describe_source

DEFAULT_MONTHS = "2021-01..2021-06"


def first_champion(settings: Settings, months: list[str], model: str, features: str, log: Any) -> dict[str, Any]:
    """Before the loop can watch a model, one must exist: trained on the first month, validated on the next."""
    from levels.level_4.pipeline import run_pipeline

    trained = run_pipeline(settings, months[0], months[1], model, features=features)
    champion = {
        "version": trained["model_version"],
        "train": months[0],
        "val": months[1],
        "baseline_rmse": trained["metrics"]["rmse_val"],
    }
    log.record(
        {
            "month": months[0],
            "action": "initial training",
            "champion": champion,
            "at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
    )
    return champion


def start_loop(settings: Settings, months: list[str], model: str, features: str, on_step: Any) -> Any:
    """The decision log, with a first champion in it (trained now if the story is new)."""
    from levels.level_4.automation import decision_log

    log = decision_log(settings, months[0], model)
    if not log.history():
        on_step(f"train the first champion on {months[0]}")
        first_champion(settings, months, model, features, log)
    history = log.history()
    past = [m for m in months[1:] if m < history[-1]["month"] and m not in {d["month"] for d in history}]
    if past:  # said before any server starts; the loop itself refuses too (automation.monthly_cycle)
        raise UsageError(
            f"{', '.join(past)} come(s) before {history[-1]['month']}, which this story has already decided",
            where=str(log.path),
            fix="ask for later months only, or start a new story (another --seed, or mlops-levels clean)",
        )
    return log


def promote_champion(url: str, token: str, version: str) -> None:
    """A freshly started platform serves the registry's champion; make sure that is the loop's."""
    from common.errors import MlopsLevelsError

    with httpx.Client(base_url=url, timeout=120, headers={"Authorization": f"Bearer {token}"}) as api:
        response = api.post("/promote", json={"version": version})
        if response.status_code == 409 and "gate" in response.json().get("detail", {}):
            # the loop's own champion, which a human replaced: the loop resumes with the one it recorded
            reason = "level 4 resumes its loop with the champion it recorded"
            response = api.post("/promote", json={"version": version, "force": True, "reason": reason})
    if response.status_code != 200:
        raise MlopsLevelsError(f"the platform would not serve v{version}: {response.text[:300]}", where=url)


def already_decided(history: list[dict[str, Any]], months: list[str]) -> list[str]:
    decided = {d["month"] for d in history if "rmse" in d}
    return [month for month in months[1:] if month in decided]


def resumed_note(months: list[str], log_path: Any) -> str:
    # A rerun of the same story replays its log instead of deciding again (one decision per month):
    # a student who changed a threshold must hear that nothing was re-measured.
    return (
        f"resumed: {len(months)} month(s) already decided in {log_path} were not run again; "
        "change --seed or --months, or `mlops-levels clean`, to decide them anew"
    )


def main(request: RunRequest) -> RunReport:
    settings = request.settings
    months = month_range(request.options.get("months") or DEFAULT_MONTHS)
    from common.secrets import ensure_admin_token
    from common.services import prefect_settings
    from levels.level_4.automation import fast_forward
    from levels.level_4.lesson import comparison_rows, plot_comparison
    from levels.level_4.platform_api import create_app

    request.on_step("connect to the workspace's Prefect server")
    token = ensure_admin_token(settings)  # environment, or the workspace's 0600 file: never a flow parameter
    with prefect_settings(settings):
        log = start_loop(settings, months, request.model, request.features, request.on_step)
        with background_server(create_app(settings)) as url:
            promote_champion(url, token, log.history()[-1]["champion"]["version"])
            resumed = already_decided(log.history(), months)
            if resumed:
                request.on_step(resumed_note(resumed, log.path))
            request.on_step(f"fast-forward {months[1]}..{months[-1]}: serve, monitor, decide, retrain, promote")
            fast_forward(months, url, settings.as_plain(), request.model, request.features)

    decisions = [d for d in log.history() if d["month"] in months]
    monthly = [d for d in decisions if "rmse" in d]
    source = describe_source(settings.data)
    figure = plot_comparison(
        decisions,
        settings.layout.reports(4) / f"frozen-vs-automated-{months[0]}.png",
        f"{source}: frozen model vs closed loop",
    )
    retrains = [d["month"] for d in monthly if d["action"] == "retrained and promoted"]
    last = monthly[-1]
    hint = "" if settings.data_folder or settings.source != "synthetic" else " (try --scenario traffic-returns)"
    return request.report(
        4,
        train=months[0],
        val=f"{months[1]}..{months[-1]}" if len(months) > 2 else months[1],  # every month the loop served
        model=request.model,
        metrics={
            "rmse_val": decisions[0]["champion"]["baseline_rmse"],
            "last_month_rmse": last["rmse"],
            "last_month_frozen_rmse": last["frozen_rmse"],
            "retrains": len(retrains),
        },
        artifacts={"plot": str(figure), "decisions": str(log.path), "reports": str(settings.layout.reports(4))},
        details={
            "data": source,
            "months": ", ".join(months),
            "retrained_in": ", ".join(retrains) or f"none: no rule fired{hint}",
            **({"resumed": resumed_note(resumed, log.path)} if resumed else {}),
            "serving_now": f"v{last['champion']['version']}",
            "month_by_month": comparison_rows(decisions),
        },
        manual_steps=[],
        serving={"kind": "registry", "version": str(last["champion"]["version"])},
    )
