"""Level 4 · orchestrated_pipeline: the monthly cycle, scheduled for real.

    mlops-levels serve 4          # the platform on 127.0.0.1:8000 + a Prefect deployment, cron "0 6 1 * *"

On the 1st of each month at 06:00 the workspace's Prefect server starts `level-4-monthly-cycle` for
the month that just ended; this process runs it against the platform it hosts.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from typing import Any

import httpx

from common.config import Settings
from common.serving import background_server

CRON = "0 6 1 * *"
DEPLOYMENT = "level-4-monthly"
FIRST_MONTH = "2021-01"
MODEL = "linear_regression"


def previous_month(today: dt.date | None = None) -> str:
    first = (today or dt.date.today()).replace(day=1)
    last = first - dt.timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def serve(settings: Settings, host: str, port: int, options: dict[str, Any]) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from common.months import next_month
    from common.services import ensure_prefect_api
    from levels.level_4.automation import decision_log, monthly_cycle
    from levels.level_4.platform_api import TOKEN_ENV, create_app
    from levels.level_4.run import first_champion

    api_url = ensure_prefect_api(settings)
    token = os.environ.get(TOKEN_ENV) or secrets.token_urlsafe(24)
    first_month = options.get("first_month") or FIRST_MONTH
    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        log = decision_log(settings, first_month, MODEL)
        if not log.read():
            first_champion(settings, [first_month, next_month(first_month)], MODEL, log)
    with (
        background_server(create_app(settings, admin_token=token), host=host, port=port) as url,
        temporary_settings(updates={PREFECT_API_URL: api_url}),
    ):
        champion = log.read()[-1]["champion"]["version"]
        with httpx.Client(base_url=url, timeout=120, headers={"Authorization": f"Bearer {token}"}) as api:
            api.post("/promote", json={"version": champion}).raise_for_status()
        print(f"platform: {url} · Prefect: {api_url} · schedule: {CRON} (the month that just ended)")
        monthly_cycle.serve(  # [orchestrated_pipeline]
            name=DEPLOYMENT,
            cron=CRON,
            parameters={
                "month": options.get("month") or previous_month(),
                "platform_url": url,
                "token": token,
                "config": settings.as_plain(),
                "first_month": first_month,
                "model": MODEL,
            },
        )
