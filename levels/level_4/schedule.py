"""Level 4 · orchestrated_pipeline: the monthly cycle, scheduled for real.

    mlops-levels serve 4          # the platform on 127.0.0.1:8000 + a Prefect deployment, cron "0 6 1 * *"

On the 1st of each month at 06:00 the workspace's Prefect server starts `level-4-monthly-cycle`; the
run works out its month from its own scheduled time (the month that just ended), so every run serves
a new month and a repeated run of one month does nothing. This process runs it against the platform
it hosts. The deployment's parameters name the platform and the workspace, never a secret.
"""

from __future__ import annotations

from typing import Any

from common.config import Settings
from common.months import next_month
from common.serving import background_server

CRON = "0 6 1 * *"
DEPLOYMENT = "level-4-monthly"
FIRST_MONTH = "2021-01"
MODEL = "linear_regression"


def serve(settings: Settings, host: str, port: int, options: dict[str, Any]) -> None:
    import httpx
    from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, temporary_settings

    from common.errors import MlopsLevelsError
    from common.secrets import ensure_admin_token
    from common.services import prefect_settings
    from levels.level_4.automation import monthly_cycle
    from levels.level_4.platform_api import create_app
    from levels.level_4.run import promote_champion, start_loop

    token = ensure_admin_token(settings)
    first_month = options.get("first_month") or FIRST_MONTH
    with prefect_settings(settings) as api_url:
        log = start_loop(settings, [first_month, next_month(first_month)], MODEL, "pu_do", lambda step: None)
        with background_server(create_app(settings), host=host, port=port) as url:
            promote_champion(url, token, log.history()[-1]["champion"]["version"])
            print(f"platform: {url} · Prefect: {api_url} · schedule: {CRON} (the month that just ended)", flush=True)
            # Prefect's client retries a lost server for about two minutes; a local server that is gone
            # (stopped with `mlops-levels stop`, say) is said after one retry instead.
            with temporary_settings(updates={PREFECT_CLIENT_MAX_RETRIES: 1}):
                try:
                    monthly_cycle.serve(  # [orchestrated_pipeline]
                        name=DEPLOYMENT,
                        cron=CRON,
                        parameters={
                            "platform_url": url,
                            "config": settings.as_plain(),
                            "first_month": first_month,
                            "model": MODEL,
                        },
                    )
                except httpx.TransportError:
                    raise MlopsLevelsError(
                        f"the workspace's Prefect server at {api_url} went away, so the schedule stopped",
                        fix="start it again with mlops-levels serve 4 (mlops-levels stop also stops that server)",
                    ) from None
