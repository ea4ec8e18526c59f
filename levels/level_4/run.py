"""Level 4 · entry point of `mlops-levels run 4 --months 2021-01..2021-06`: fast-forward the closed loop
over many months on the platform, then draw the frozen model beside the automated one."""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import time
from typing import Any

import httpx

from common.config import Settings
from common.errors import UsageError
from common.months import month_range
from common.runs import RunReport, RunRequest
from common.serving import background_server

DEFAULT_MONTHS = "2021-01..2021-06"


def first_champion(settings: Settings, months: list[str], model: str, log: Any) -> dict[str, Any]:
    """Before the loop can watch a model, one must exist: trained on the first month, validated on the next."""
    from levels.level_4.pipeline import run_pipeline

    trained = run_pipeline(settings, months[0], months[1], model)
    champion = {
        "version": trained["model_version"],
        "train": months[0],
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


def main(request: RunRequest) -> RunReport:
    settings = request.settings
    months = month_range(request.options.get("months") or DEFAULT_MONTHS)
    if len(months) < 2:
        raise UsageError("level 4 needs at least two months", fix="e.g. --months 2021-01..2021-06")
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    from common.services import ensure_prefect_api

    request.on_step("connect to the workspace's Prefect server")
    api_url = ensure_prefect_api(settings)
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from levels.level_4.automation import decision_log, fast_forward
    from levels.level_4.lesson import comparison_rows, plot_comparison
    from levels.level_4.platform_api import create_app

    log = decision_log(settings, months[0], request.model)
    quiet = contextlib.redirect_stderr(io.StringIO()) if not settings.verbose else contextlib.nullcontext()
    with temporary_settings(updates={PREFECT_API_URL: api_url}), quiet:
        history = log.read()
        if not history:
            request.on_step(f"train the first champion on {months[0]}")
            champion = first_champion(settings, months, request.model, log)
        else:
            champion = history[-1]["champion"]
        token = secrets.token_urlsafe(24)
        with background_server(create_app(settings, admin_token=token)) as url:
            with httpx.Client(base_url=url, timeout=120, headers={"Authorization": f"Bearer {token}"}) as api:
                api.post("/promote", json={"version": champion["version"]}).raise_for_status()
            request.on_step(f"fast-forward {months[1]}..{months[-1]}: serve, monitor, decide, retrain, promote")
            fast_forward(months, url, token, settings.as_plain(), request.model)

    decisions = [d for d in log.read() if d["month"] in months]
    monthly = [d for d in decisions if "rmse" in d]
    figure = plot_comparison(
        decisions,
        settings.level_dir(4) / "reports" / f"frozen-vs-automated-{months[0]}.png",
        f"{settings.scenario} scenario: frozen model vs closed loop",
    )
    retrains = [d["month"] for d in monthly if d["action"] == "retrained and promoted"]
    last = monthly[-1]
    return RunReport(
        level=4,
        train=months[0],
        val=months[1],
        model=request.model,
        metrics={
            "rmse_val": decisions[0]["champion"]["baseline_rmse"],
            "last_month_rmse": last["rmse"],
            "last_month_frozen_rmse": last["frozen_rmse"],
            "retrains": len(retrains),
        },
        artifacts={"plot": str(figure), "decisions": str(log.path), "reports": str(settings.level_dir(4) / "reports")},
        details={
            "scenario": settings.scenario,
            "months": f"{months[0]}..{months[-1]}",
            "retrained_in": ", ".join(retrains) or "none (no rule fired: try --scenario traffic-returns)",
            "serving_now": f"v{last['champion']['version']}",
            "month_by_month": comparison_rows(decisions),
        },
        manual_steps=[],
    )
