"""`python -m taxi_duration.schedule`: a real Prefect deployment with a monthly cron, whose runs that process
executes against the platform.

A scheduled run serves the month that ended before its scheduled time, so the schedule advances; a second
run of the same month does nothing. Whoever reaches the Prefect server without its secret cannot even start a
run (401); whoever holds it cannot steer one: a `platform_url` of theirs is refused or ignored (the token goes
only where the schedule's own environment says), and a `month` its scheduled time does not imply fails the
run and leaves the decision log as it was. And no secret travels: with a known admin token, the token's text
is in no file of the project or of the Prefect server, and in no answer of Prefect's API.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import PREFECT_AUTH, TOKEN, level_command, running_platform

from taxi_duration.automation import month_of_schedule
from taxi_duration.schedule import CRON, DEPLOYMENT


def test_a_run_scheduled_on_the_first_serves_the_month_that_just_ended():
    assert month_of_schedule(datetime(2021, 3, 1, 6, tzinfo=UTC)) == "2021-02"
    assert month_of_schedule(datetime(2022, 1, 1, 6, tzinfo=UTC)) == "2021-12"


@contextmanager
def _listener() -> Iterator[tuple[str, list[bytes]]]:
    """An attacker's address on 127.0.0.1: every byte anyone sends it, until the block ends (bounded)."""
    received: list[bytes] = []
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(2)
                try:
                    received.append(connection.recv(65536)[:65536])
                except OSError:
                    received.append(b"<connected>")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}", received
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


def _without_the_secret(deployment_id: str, listener: str) -> dict[str, str]:
    """Another local account, without the server's secret: it can neither read the deployment nor start a run."""
    import httpx
    from prefect.settings import PREFECT_API_URL

    url = f"{PREFECT_API_URL.value()}/deployments/{deployment_id}"
    body = {"parameters": {"platform_url": listener, "month": "2030-01"}}
    answers = {
        "read without the secret": httpx.get(url, timeout=30),
        "run without the secret": httpx.post(f"{url}/create_flow_run", json=body, timeout=30),
        "run with a wrong one": httpx.post(f"{url}/create_flow_run", json=body, auth=("suite", "guess"), timeout=30),
    }
    return {what: str(answer.status_code) for what, answer in answers.items()}


async def _attack_runs(name: str, listener: str, folder: Path) -> dict[str, str]:
    """As anyone who reaches the Prefect API would: a run with their own address, and a run of another month."""
    from prefect.deployments import run_deployment

    outcome = {}
    try:  # a month not decided yet (2021-03), so a flow that took the address would go there
        run = await run_deployment(
            name,
            parameters={"platform_url": listener},
            scheduled_time=datetime(2021, 4, 1, 6, 15, tzinfo=UTC),
            timeout=300,
            poll_interval=1,
        )
        outcome["address"] = run.state.type.value
    except Exception as exc:  # refused by Prefect: an unknown parameter
        outcome["address"] = f"refused: {type(exc).__name__}"
    [decisions] = folder.glob("*.jsonl")
    before = decisions.read_bytes()
    # beyond the data, not ended yet (within the data), and a past month the run's time does not imply
    for month in ("2030-01", "2027-06", "2021-05"):
        run = await run_deployment(name, parameters={"month": month}, timeout=300, poll_interval=1)
        outcome[month] = run.state.type.value
    outcome["log unchanged"] = str(decisions.read_bytes() == before)
    return outcome


async def _scheduled_runs(
    times: list[datetime], schedule, attack: tuple[str, Path] | None = None
) -> tuple[str, list[str], dict[str, str]]:
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
    runs, attacked = [], {}
    for index, when in enumerate(times):  # as the scheduler would create them, one after another
        flow_run = await run_deployment(name, scheduled_time=when, timeout=300, poll_interval=1)
        runs.append(flow_run.state.type.value)
        if index == 0 and attack:  # between two real months: the next one must still work
            attacked = _without_the_secret(str(deployment.id), attack[0]) | await _attack_runs(name, *attack)
    return cron, runs, attacked


def _token_in_prefect_api(api: str) -> list[str]:
    """Every flow run, deployment, task run and log line as Prefect's API serves them, searched for the token."""
    import httpx

    found = []
    for path in ("/flow_runs/filter", "/deployments/filter", "/task_runs/filter", "/logs/filter"):
        answer = httpx.post(f"{api}{path}", json={"limit": 200}, auth=tuple(PREFECT_AUTH.split(":", 1)), timeout=30)
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
        with (
            level_command("taxi_duration.schedule", ["--platform-url", url], project, poll, log) as schedule,
            _listener() as (listener, received),
        ):
            try:
                attack = (listener, project / "platform" / "decisions")
                cron, runs, attacked = asyncio.run(_scheduled_runs(times, schedule, attack))
            except AssertionError:
                print(log.read_text()[-3000:])  # what the schedule said, for the failure report
                raise
    assert received == [], f"the flow reached the attacker's address: {attacked}"  # no request, no token
    refused = ("read without the secret", "run without the secret", "run with a wrong one")
    assert [attacked[what] for what in refused] == ["401"] * 3, attacked
    assert "address" in attacked  # refused by Prefect, failed, or run against the real platform: all are safe
    assert [attacked[m] for m in ("2030-01", "2027-06", "2021-05")] == ["FAILED"] * 3, attacked
    assert attacked["log unchanged"] == "True", attacked
    assert cron == CRON and runs == ["COMPLETED"] * 3  # the real months work after the attacks
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


@pytest.mark.parametrize("window", [["2027-05"], ["2021-03"], ["2021-02", "not-a-month"]])
def test_a_window_that_is_not_before_the_month_is_refused_before_anything_is_decided(window):
    """Whoever reaches Prefect could pass `window`: a month not yet lived (or the month itself) would train on
    what the loop is about to be judged on. Refused before the decision log or the platform is touched."""
    from common.errors import TaxiDurationError
    from taxi_duration.automation import monthly_cycle

    with pytest.raises(TaxiDurationError, match="only months before 2021-03"):
        monthly_cycle.fn("2021-01", month="2021-03", window=window)
