"""Level 4 · orchestrated_pipeline: the monthly cycle deployed to a work pool, beside `flow.serve`.

    mlops-levels serve 4          # flow.serve: the process that schedules the cycle also runs it
    deploy_to_pool(settings, "mlops-levels-training", "http://platform:8000")   # flow.deploy: a worker runs it

With `flow.serve` the deployment lives and dies with one process on one machine. With `flow.deploy`
the deployment lives on the Prefect server and any worker polling the pool runs each month's cycle
(`mlops-levels stack worker` on a class server). The worker imports the flow by module path, so it
needs the toolkit installed, not this file copied; and it reads the platform's admin token from its
own environment (MLOPS_LEVELS_ADMIN_TOKEN): Prefect stores and shows parameters in clear.
"""

from __future__ import annotations

import os
from typing import Any

from prefect import flow

from common.config import Settings
from common.errors import MlopsLevelsError
from levels.level_4.automation import monthly_cycle
from levels.level_4.platform_api import TOKEN_ENV

POOL_DEPLOYMENT = "level-4-monthly-on-a-pool"
POOL_CRON = "0 6 1 * *"  # the 1st of each month, 06:00, as `serve 4`
# Where a worker keeps files is the worker's business: the deployer's workspace path means nothing there.
DEPLOYER_ONLY = ("workspace", "verbose", "stack_url", "work_pool")


# [orchestrated_pipeline]
@flow(name="level-4-monthly-cycle-on-a-pool")
def pooled_cycle(
    month: str, platform_url: str, config: dict[str, Any], first_month: str, model: str = "linear_regression"
) -> dict[str, Any]:
    """The monthly cycle, with the admin token from the worker's environment instead of a parameter."""
    if not os.environ.get(TOKEN_ENV):  # the cycle reads it from there (common.secrets.read_admin_token)
        raise MlopsLevelsError(f"the worker has no {TOKEN_ENV}", fix=f"start the worker with {TOKEN_ENV} set")
    return monthly_cycle.fn(platform_url, config, first_month, model, month=month)


def deploy_to_pool(settings: Settings, work_pool: str, platform_url: str, month: str, first_month: str) -> str:
    """Register the cycle on the Prefect server, for the pool's workers, on the monthly cron; its id."""
    from prefect.deployments.runner import EntrypointType

    config = {name: value for name, value in settings.as_plain().items() if name not in DEPLOYER_ONLY}
    deployment_id = pooled_cycle.deploy(
        name=POOL_DEPLOYMENT,
        work_pool_name=work_pool,
        cron=POOL_CRON,
        parameters={"month": month, "platform_url": platform_url, "config": config, "first_month": first_month},
        entrypoint_type=EntrypointType.MODULE_PATH,
        build=False,
        push=False,
        print_next_steps=False,
        ignore_warnings=True,
    )
    return str(deployment_id)
