"""`mlops-levels serve 4`: a real Prefect deployment with a monthly cron, whose runs this process executes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from common.serving import free_port
from levels.level_4.schedule import CRON, DEPLOYMENT, previous_month
from tests.conftest import REPO


def test_previous_month_is_the_month_that_just_ended():
    import datetime as dt

    assert previous_month(dt.date(2021, 3, 1)) == "2021-02"
    assert previous_month(dt.date(2022, 1, 15)) == "2021-12"


async def _deployment_and_run(month: str) -> tuple[str, str]:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    async with get_client() as client:
        deadline = time.monotonic() + 120
        while True:
            try:
                deployment = await client.read_deployment_by_name(f"level-4-monthly-cycle/{DEPLOYMENT}")
                break
            except Exception:
                assert time.monotonic() < deadline, "serve 4 never registered its deployment"
                await asyncio.sleep(1)
        cron = deployment.schedules[0].schedule.cron
    flow_run = await run_deployment(f"level-4-monthly-cycle/{DEPLOYMENT}", parameters={"month": month}, timeout=240)
    return cron, flow_run.state.type.value


@pytest.mark.slow
@pytest.mark.server
def test_serve_4_registers_a_monthly_cron_and_runs_a_triggered_cycle(workspace, prefect_api, monkeypatch):
    monkeypatch.setenv("MLOPS_LEVELS_SYNTHETIC_ROWS", "6000")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    server = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "4", "--port", str(free_port())],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        cron, state = asyncio.run(_deployment_and_run("2021-02"))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert cron == CRON and state == "COMPLETED"
    [log] = (workspace / "level_4" / "decisions").glob("*.jsonl")
    months = [json.loads(line)["month"] for line in log.read_text().splitlines()]
    assert months == ["2021-01", "2021-02"]
