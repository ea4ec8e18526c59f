"""Level 4 · orchestrated_pipeline: the monthly cycle deployed to a work pool, beside `flow.serve`.

    python -m taxi_duration.schedule    # flow.serve: the process that schedules the cycle also runs it
    deploy_to_pool("training", "2021-01")   # flow.deploy: a worker runs it

With `flow.serve` the deployment lives and dies with one process on one machine. With `flow.deploy`
the deployment lives on the Prefect server and any worker polling the pool runs each month's cycle.
The worker imports the flow by module path, so it needs this project installed; it reads the
platform's admin token, where the platform lives (PLATFORM_URL) and the stores from its own
environment: Prefect stores and shows parameters in clear, and anyone who reaches its API can set them.
A run decides the month its scheduled time implies (automation.month_to_decide).
"""

from __future__ import annotations

import os
from typing import Any

from prefect import flow

from common.errors import TaxiDurationError
from taxi_duration.automation import monthly_cycle
from taxi_duration.platform_api import TOKEN_ENV, TOKEN_FILE_ENV

POOL_DEPLOYMENT = "level-4-monthly-on-a-pool"
POOL_CRON = "0 6 1 * *"  # the 1st of each month, 06:00, as schedule.py


@flow(name="level-4-monthly-cycle-on-a-pool")
def pooled_cycle(first_month: str, model: str = "linear_regression", month: str | None = None) -> dict[str, Any]:
    """The monthly cycle, with the admin token and the platform's address from the worker's environment."""
    if not (os.environ.get(TOKEN_ENV) or os.environ.get(TOKEN_FILE_ENV)):  # read_admin_token reads them
        raise TaxiDurationError(f"the worker has no {TOKEN_ENV}", fix=f"start the worker with {TOKEN_ENV} set")
    return monthly_cycle.fn(first_month, model, month=month)


def deploy_to_pool(work_pool: str, first_month: str) -> str:
    """Register the cycle on the Prefect server, for the pool's workers, on the monthly cron; its id."""
    from prefect.deployments.runner import EntrypointType

    deployment_id = pooled_cycle.deploy(
        name=POOL_DEPLOYMENT,
        work_pool_name=work_pool,
        cron=POOL_CRON,
        parameters={"first_month": first_month},
        entrypoint_type=EntrypointType.MODULE_PATH,
        build=False,
        push=False,
        print_next_steps=False,
        ignore_warnings=True,
    )
    return str(deployment_id)
