"""Level 4's cycle deployed to a work pool (flow.deploy beside flow.serve): no secret among its parameters."""

from __future__ import annotations

import pytest

from common.errors import MlopsLevelsError
from levels.level_4.pool import POOL_CRON, POOL_DEPLOYMENT, deploy_to_pool, pooled_cycle


def test_the_deployment_lives_on_the_server_for_the_pool_and_carries_no_token(prefect_api, settings):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists
    from prefect.settings import PREFECT_API_URL, temporary_settings

    # Explicit: Prefect reads PREFECT_API_URL from the environment once, when it is first imported.
    with temporary_settings(updates={PREFECT_API_URL: prefect_api}), get_client(sync_client=True) as client:
        try:
            client.create_work_pool(WorkPoolCreate(name="test-pool", type="process"))
        except ObjectAlreadyExists:
            pass
        deploy_to_pool(settings, "test-pool", "http://127.0.0.1:9", "2021-03", "2021-01")
        deployment = client.read_deployment_by_name(f"level-4-monthly-cycle-on-a-pool/{POOL_DEPLOYMENT}")

    assert deployment.work_pool_name == "test-pool"
    assert deployment.entrypoint == "levels.level_4.pool.pooled_cycle"  # importable on any worker
    assert deployment.schedules[0].schedule.cron == POOL_CRON
    assert "token" not in deployment.parameters
    assert "workspace" not in deployment.parameters["config"]  # the worker's own workspace applies


def test_a_worker_without_the_admin_token_refuses_clearly(monkeypatch, settings):
    monkeypatch.delenv("MLOPS_LEVELS_ADMIN_TOKEN", raising=False)
    with pytest.raises(MlopsLevelsError, match="MLOPS_LEVELS_ADMIN_TOKEN"):
        pooled_cycle.fn("2021-03", "http://127.0.0.1:9", settings.as_plain(), "2021-01")


def test_a_worker_with_the_token_runs_the_cycle_for_the_month_it_was_given(monkeypatch, settings):
    # The cycle reads the workspace's decision log first: with no first champion it stops with its own
    # error, which proves the month, platform URL and settings reached it in their places.
    monkeypatch.setenv("MLOPS_LEVELS_ADMIN_TOKEN", "t0ken")
    with pytest.raises(MlopsLevelsError, match="no first champion"):
        pooled_cycle.fn("2021-03", "http://127.0.0.1:9", settings.as_plain(), "2021-01")
