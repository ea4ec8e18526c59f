"""`python -m taxi_duration.schedule`: a real Prefect deployment with a monthly cron, whose runs that process
executes against the platform.

A scheduled run serves the month that ended before its scheduled time, so the schedule advances; a second
run of the same month does nothing. And no secret travels: with a known admin token, the token's text is in
no file of the project or of the Prefect server, and in no answer of Prefect's API.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import TOKEN, level_command, running_platform

from taxi_duration.automation import month_of_schedule
from taxi_duration.schedule import CRON, DEPLOYMENT


def test_a_run_scheduled_on_the_first_serves_the_month_that_just_ended():
    assert month_of_schedule(datetime(2021, 3, 1, 6, tzinfo=UTC)) == "2021-02"
    assert month_of_schedule(datetime(2022, 1, 1, 6, tzinfo=UTC)) == "2021-12"


async def _scheduled_runs(times: list[datetime], schedule) -> tuple[str, list[str]]:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    name = f"level-4-monthly-cycle/{DEPLOYMENT}"
    async with get_client() as client:
        deadline = time.monotonic() + 240  # the schedule trains the first champion before it registers
        while True:
            try:
                deployment = await client.read_deployment_by_name(name)
                break
            except Exception:
                assert schedule.poll() is None, "the schedule command stopped"
                assert time.monotonic() < deadline, "the schedule command never registered its deployment"
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
        answer = httpx.post(f"{api}{path}", json={"limit": 200}, timeout=30)
        assert answer.status_code == 200, answer.text
        if TOKEN in answer.text:
            found.append(path)
    return found


def _files_holding_the_token(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and TOKEN.encode() in p.read_bytes()]


@pytest.mark.slow
def test_the_schedule_advances_is_idempotent_and_no_secret_travels(prefect_api, prefect_home, project):
    times = [
        datetime(2021, 3, 1, 6, tzinfo=UTC),
        datetime(2021, 4, 1, 6, tzinfo=UTC),
        datetime(2021, 3, 1, 6, 30, tzinfo=UTC),
    ]  # the last one repeats March's month
    log = project / "schedule.log"
    with running_platform(project) as url:
        poll = {"PREFECT_RUNNER_POLL_FREQUENCY": "1"}  # a run is picked up within a second, not ten
        with level_command("taxi_duration.schedule", ["--platform-url", url], project, poll, log) as schedule:
            try:
                cron, runs = asyncio.run(_scheduled_runs(times, schedule))
            except AssertionError:
                print(log.read_text()[-3000:])  # what the schedule said, for the failure report
                raise
    assert cron == CRON and runs == ["COMPLETED"] * 3
    [decisions] = (project / "platform" / "decisions").glob("*.jsonl")
    assert [json.loads(line)["month"] for line in decisions.read_text().splitlines()] == [
        "2021-01",
        "2021-02",
        "2021-03",
    ]
    predictions = project / "platform" / "predictions"
    assert sorted(p.name for p in predictions.glob("2021-*")) == ["2021-02.jsonl", "2021-03.jsonl"]  # none redone
    for month in ("2021-02", "2021-03"):  # every ride of the month logged once
        ids = [json.loads(line)["ride_id"] for line in (predictions / f"{month}.jsonl").open()]
        assert len(ids) == len(set(ids)) > 1000

    assert _files_holding_the_token(project) == [] and _files_holding_the_token(prefect_home) == []
    assert _token_in_prefect_api(prefect_api) == []
