"""The monthly cycle deployed to a work pool (flow.deploy beside flow.serve): no secret among its parameters,
an entrypoint a worker can import, and a worker that reads the admin token from its own environment."""

from __future__ import annotations

import pytest
from conftest import TOKEN

from common.errors import TaxiDurationError
from taxi_duration.pool import POOL_CRON, POOL_DEPLOYMENT, deploy_to_pool, pooled_cycle


def test_the_deployment_lives_on_the_server_for_the_pool_and_carries_no_secret(prefect_api):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists
    from prefect.flows import load_flow_from_entrypoint

    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(WorkPoolCreate(name="test-pool", type="process"))
        except ObjectAlreadyExists:
            pass
        deployment_id = deploy_to_pool("test-pool", "2021-01")
        deployment = client.read_deployment_by_name(f"level-4-monthly-cycle-on-a-pool/{POOL_DEPLOYMENT}")

    assert str(deployment.id) == deployment_id and deployment.work_pool_name == "test-pool"
    assert deployment.schedules[0].schedule.cron == POOL_CRON
    assert deployment.parameters == {"first_month": "2021-01"}  # no address, no secret: the worker's environment
    assert "platform_url" not in pooled_cycle.parameters.properties  # nor can a run be given one
    assert TOKEN not in deployment.model_dump_json()  # the token is in this process's environment, not there
    assert deployment.entrypoint == "taxi_duration.pool.pooled_cycle"  # a module path: importable on any worker
    assert load_flow_from_entrypoint(deployment.entrypoint).name == "level-4-monthly-cycle-on-a-pool"


def test_a_worker_without_the_admin_token_refuses_clearly(monkeypatch):
    monkeypatch.delenv("PLATFORM_ADMIN_TOKEN")
    with pytest.raises(TaxiDurationError, match="PLATFORM_ADMIN_TOKEN"):
        pooled_cycle.fn("2021-01", month="2021-03")


def test_a_worker_with_the_token_runs_the_cycle_for_the_month_it_was_given():
    # The cycle reads the project's decision log first: with no first champion it stops with its own error,
    # and with the month already decided it does nothing; either proves the month and the story reached it.
    from taxi_duration.automation import decision_log
    from taxi_duration.config import Config

    with pytest.raises(TaxiDurationError, match="no first champion"):
        pooled_cycle.fn("2021-01", month="2021-03")
    log = decision_log(Config.from_env(), "2021-01", "linear_regression")
    for month in ("2021-01", "2021-03"):
        log.record({"month": month, "action": "none", "champion": {"version": "1"}})
    assert pooled_cycle.fn("2021-01", month="2021-03")["skipped"] is True
    with pytest.raises(TaxiDurationError, match="2021-02 comes before 2021-03"):
        pooled_cycle.fn("2021-01", month="2021-02")
