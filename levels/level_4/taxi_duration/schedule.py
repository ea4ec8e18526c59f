"""Level 4 · orchestrated_pipeline: the monthly cycle, scheduled for real.

    PLATFORM_URL=http://127.0.0.1:8000 python -m taxi_duration.schedule     # cron "0 6 1 * *"

On the 1st of each month at 06:00 the Prefect server (PREFECT_API_URL) starts `level-4-monthly-cycle`;
the run works out its month from its own scheduled time (the month that just ended), so every run
serves a new month and a repeated run of one month does nothing; a run given a `month` its scheduled
time does not imply is refused (automation.month_to_decide). This process runs it against the platform
at PLATFORM_URL in its own environment (--platform-url sets it): the deployment's parameters name
neither the platform nor a secret, because anyone who reaches the Prefect API can set them.
"""

from __future__ import annotations

import argparse
import os
import sys

import httpx
from prefect.settings import PREFECT_CLIENT_MAX_RETRIES, temporary_settings

from common.errors import TaxiDurationError
from common.months import next_month
from taxi_duration.automation import (
    DEFAULT_PLATFORM_URL,
    PLATFORM_URL_ENV,
    monthly_cycle,
    platform_url_from_env,
    promote_champion,
    start_loop,
)
from taxi_duration.config import Config

CRON = "0 6 1 * *"
DEPLOYMENT = "level-4-monthly"
FIRST_MONTH = "2021-01"
MODEL = "linear_regression"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the monthly cycle on its schedule, until Ctrl-C.")
    parser.add_argument(
        "--platform-url", help=f"sets {PLATFORM_URL_ENV} in this process (default: it, or {DEFAULT_PLATFORM_URL})"
    )
    parser.add_argument("--first-month", default=FIRST_MONTH, help="the month the first champion trains on")
    args = parser.parse_args(argv)
    if args.platform_url:  # bound here, in the process that runs the flows, not in a run's parameters
        os.environ[PLATFORM_URL_ENV] = args.platform_url
    api = os.environ.get("PREFECT_API_URL", "Prefect's default")
    try:
        url = platform_url_from_env()
        log = start_loop(Config.from_env(), [args.first_month, next_month(args.first_month)], MODEL, "pu_do")
        promote_champion(url, log.history()[-1]["champion"]["version"])
    except TaxiDurationError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    print(f"platform: {url} · Prefect: {api} · schedule: {CRON} (the month that just ended)", flush=True)
    # Prefect's client retries a lost server for about two minutes; a server that is gone is said after
    # one retry instead.
    with temporary_settings(updates={PREFECT_CLIENT_MAX_RETRIES: 1}):
        try:
            monthly_cycle.serve(
                name=DEPLOYMENT,
                cron=CRON,
                parameters={"first_month": args.first_month, "model": MODEL},
            )
        except httpx.TransportError:
            print(f"error: the Prefect server at {api} went away, so the schedule stopped", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
