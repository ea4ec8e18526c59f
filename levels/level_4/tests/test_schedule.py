"""`mlops-levels serve 4`: a real Prefect deployment with a monthly cron, whose runs this process executes.

A scheduled run serves the month that ended before its scheduled time, so the schedule advances; a
second run of the same month does nothing. And no secret travels: with a known admin token, after
`serve 4`, `run 3` and `run 4`, the token's text is in no file of the workspace and in no answer of
Prefect's API.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest

from common.serving import free_port
from levels.level_4.automation import month_of_schedule
from levels.level_4.schedule import CRON, DEPLOYMENT
from tests.conftest import REPO

TOKEN = "tok-" + "e" * 20 + "-known-to-the-test"


def test_a_run_scheduled_on_the_first_serves_the_month_that_just_ended():
    assert month_of_schedule(datetime(2021, 3, 1, 6, tzinfo=UTC)) == "2021-02"
    assert month_of_schedule(datetime(2022, 1, 1, 6, tzinfo=UTC)) == "2021-12"


async def _scheduled_runs(times: list[datetime]) -> tuple[str, list[str]]:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    name = f"level-4-monthly-cycle/{DEPLOYMENT}"
    async with get_client() as client:
        deadline = time.monotonic() + 180
        while True:
            try:
                deployment = await client.read_deployment_by_name(name)
                break
            except Exception:
                assert time.monotonic() < deadline, "serve 4 never registered its deployment"
                await asyncio.sleep(1)
        cron = deployment.schedules[0].schedule.cron
    runs = []
    for when in times:  # as the scheduler would create them, one after another
        flow_run = await run_deployment(name, scheduled_time=when, timeout=300, poll_interval=1)
        runs.append(flow_run.state.type.value)
    return cron, runs


def _token_in_prefect_api(api: str) -> list[str]:
    """Every flow run, deployment, task run and log line as Prefect's API serves them, searched for the token."""
    import httpx

    found = []
    for path in ("/flow_runs/filter", "/deployments/filter", "/task_runs/filter", "/logs/filter"):
        body = httpx.post(f"{api}{path}", json={"limit": 200}, timeout=30).text
        if TOKEN in body:
            found.append(path)
    return found


def _files_holding_the_token(folder) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and TOKEN.encode() in p.read_bytes()]


@pytest.mark.slow
@pytest.mark.server
def test_the_schedule_advances_is_idempotent_and_no_secret_travels(
    workspace, prefect_api, prefect_workspace, invoke, monkeypatch
):
    monkeypatch.setenv("MLOPS_LEVELS_SYNTHETIC_ROWS", "6000")
    monkeypatch.setenv("MLOPS_LEVELS_ADMIN_TOKEN", TOKEN)
    server = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "4", "--port", str(free_port())],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=(workspace.parent / "serve4.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    times = [
        datetime(2021, 3, 1, 6, tzinfo=UTC),
        datetime(2021, 4, 1, 6, tzinfo=UTC),
        datetime(2021, 3, 1, 6, 30, tzinfo=UTC),
    ]  # the last one repeats March's month
    from prefect.settings import PREFECT_API_URL, temporary_settings

    try:
        with temporary_settings(updates={PREFECT_API_URL: prefect_api}):  # prefect read its settings at import
            cron, runs = asyncio.run(_scheduled_runs(times))
    except AssertionError:
        print((workspace.parent / "serve4.log").read_text()[-3000:])  # what serve 4 said, for the failure report
        raise
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    assert cron == CRON and runs == ["COMPLETED"] * 3
    [log] = (workspace / "level_4" / "decisions").glob("*.jsonl")
    assert [json.loads(line)["month"] for line in log.read_text().splitlines()] == ["2021-01", "2021-02", "2021-03"]
    for month in ("2021-02", "2021-03"):  # every ride of the month logged once
        ids = [
            json.loads(line)["ride_id"] for line in (workspace / "level_4" / "predictions" / f"{month}.jsonl").open()
        ]
        assert len(ids) == len(set(ids)) > 1000

    assert invoke("run", "3").exit_code == 0
    run_4 = invoke("run", "4", "--months", "2021-01..2021-03")
    assert run_4.exit_code == 0, run_4.output
    assert _files_holding_the_token(workspace) == [] and _files_holding_the_token(prefect_workspace) == []
    assert _token_in_prefect_api(prefect_api) == []
