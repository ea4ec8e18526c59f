"""`run 4`, `serve 4` and `diff 3 4` drive level 4's own commands from outside (its platform, its loop, its
schedule), as a person would; the toolkit draws the frozen model beside the loop and keeps no secret."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from teaching.infra.serving import free_port
from tests.cli.conftest import STORY_ROWS
from tests.conftest import REPO, real_file

TOKEN = "tok-" + "e" * 20 + "-known-to-the-test"


def _run(invoke, *args: str) -> dict:
    result = invoke("run", "4", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _months(report: dict) -> list[str]:
    return [json.loads(line)["month"] for line in Path(report["artifacts"]["decisions"]).read_text().splitlines()]


@pytest.mark.slow
def test_run_4_retrains_when_traffic_returns_draws_the_frozen_model_and_resumes(
    invoke, story, story_workspace, monkeypatch
):
    """`run all`'s level 4 is `run 4` over the story's six months of returning traffic (one run shared with
    test_story.py); `run 4` on the same workspace and months resumes its log and decides nothing twice."""
    strong = story["reports"][4]
    assert strong["metrics"]["retrains"] >= 1 and strong["details"]["retrained_in"] != ""
    assert strong["metrics"]["last_month_rmse"] < strong["metrics"]["last_month_frozen_rmse"]
    assert _months(strong) == story["months"]
    assert Path(strong["artifacts"]["plot"]).is_file()
    assert Path(strong["artifacts"]["decisions"]).is_relative_to(story_workspace)  # the level wrote in the workspace
    monkeypatch.setenv("MLOPS_LEVELS_WORKSPACE", str(story_workspace))
    monkeypatch.setenv("MLOPS_LEVELS_SYNTHETIC_ROWS", STORY_ROWS)
    again = _run(invoke, "--months", f"{story['months'][0]}..{story['months'][-1]}", "--scenario", "traffic-returns")
    assert again["details"]["resumed"].startswith(f"resumed: {len(story['months']) - 1} month(s) already decided")
    assert _months(again) == story["months"] and again["metrics"] == strong["metrics"]  # none decided twice


@pytest.mark.slow
def test_across_a_gap_in_the_months_level_4_says_how_old_its_training_data_is(invoke, prefect_api):
    gap = _run(invoke, "--months", "2021-01,2021-02,2021-06", "--scenario", "traffic-returns")
    [june] = [json.loads(line) for line in Path(gap["artifacts"]["decisions"]).read_text().splitlines()][-1:]
    assert june["month"] == "2021-06" and june["rules_fired"], june  # traffic returned: a rule fires
    assert june["window"] == "2021-01,2021-02"  # the months listed before it: all the loop was given
    assert "2021-02, is 4 months before 2021-06" in june["stale_window"]
    assert gap["details"]["stale training data"] == [june["stale_window"]]
    assert "(stale data)" in gap["details"]["month_by_month"][-1]["then"]


@pytest.mark.slow
def test_run_4_on_mild_months_retrains_nothing_and_says_how_to_see_drift(invoke, prefect_api):
    mild = _run(invoke, "--months", "2021-01..2021-03")
    assert mild["metrics"]["retrains"] == 0
    assert mild["details"]["retrained_in"] == "none: no rule fired (try --scenario traffic-returns)"


@pytest.mark.slow
def test_run_4_runs_end_to_end_on_real_months_from_a_folder(invoke, prefect_api):
    folder = real_file("green_tripdata_2023-02.parquet").parent
    result = invoke("run", "4", "--data-dir", folder, "--months", "2023-01,2023-02", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["details"]["data"] == f"real TLC green months from {folder}"
    assert report["details"]["months"] == "2023-01, 2023-02"
    [month] = report["details"]["month_by_month"]
    assert month["month"] == "2023-02" and 5.0 < month["level 4"] < 8.0
    assert "scenario" not in result.output and "mild" not in result.output


def test_diff_3_4_shows_the_loop(invoke):
    result = invoke("diff", "3", "4", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {p["id"] for p in report["practices_gained"]} == {"automated_retraining"}
    carried = ("taxi_duration/gate.py", "taxi_duration/deployer.py", "taxi_duration/cd.py")
    assert {f["new"]: f["status"] for f in report["files"] if f["new"] in carried} == dict.fromkeys(
        carried, "unchanged"
    )
    added = {f["new"] for f in report["files"] if f["status"] == "added"}
    assert {"taxi_duration/automation.py", "taxi_duration/triggers.py", "taxi_duration/decisions.py"} <= added


def _attack_without_the_secret(api: str, deployment: str) -> list[int]:
    """What another local account would send: a run of serve 4's deployment with its own month and address,
    with no secret and with a wrong one. Each must be refused before Prefect looks at the parameters."""
    import httpx

    body = {"parameters": {"month": "2030-01", "platform_url": "http://127.0.0.1:9"}}
    url = f"{api}/deployments/{deployment}/create_flow_run"
    return [
        httpx.post(url, json=body, timeout=30).status_code,
        httpx.post(url, json=body, auth=("mlops-levels", "a-guess"), timeout=30).status_code,
    ]


async def _one_scheduled_run(api: str, when: datetime, serve) -> tuple[str, list[int]]:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    name = "level-4-monthly-cycle/level-4-monthly"
    # Prefect read its settings at import; the session's server and its secret were chosen after.
    updates = {PREFECT_API_URL: api, PREFECT_API_AUTH_STRING: os.environ.get("PREFECT_API_AUTH_STRING")}
    with temporary_settings(updates=updates):
        async with get_client() as client:
            deadline = time.monotonic() + 240
            while True:
                try:
                    deployment = await client.read_deployment_by_name(name)
                    break
                except Exception:
                    assert serve.poll() is None, "serve 4 stopped"
                    assert time.monotonic() < deadline, "serve 4 never registered its deployment"
                    await asyncio.sleep(1)
        refused = _attack_without_the_secret(api, str(deployment.id))
        flow_run = await run_deployment(name, scheduled_time=when, timeout=300, poll_interval=1)
    return flow_run.state.type.value, refused


def _files_holding_the_token(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.is_file() and TOKEN.encode() in p.read_bytes()]


@pytest.mark.slow
def test_serve_4_runs_the_schedule_in_the_workspace_and_no_secret_travels(
    workspace, prefect_api, prefect_workspace, monkeypatch
):
    monkeypatch.setenv("MLOPS_LEVELS_ADMIN_TOKEN", TOKEN)
    monkeypatch.setenv("PREFECT_RUNNER_POLL_FREQUENCY", "1")  # a run is picked up within a second, not ten
    log = workspace.parent / "serve4.log"
    serve = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "4", "--port", str(free_port())],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        state, refused = asyncio.run(_one_scheduled_run(prefect_api, datetime(2021, 3, 1, 6, tzinfo=UTC), serve))
    except AssertionError:
        print(log.read_text()[-3000:])  # what serve 4 said, for the failure report
        raise
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        serve.wait(timeout=60)
    assert refused == [401, 401]  # the attacker's runs were never created: no month, no address
    assert state == "COMPLETED"
    [decisions] = workspace.rglob("decisions/*.jsonl")
    assert [json.loads(line)["month"] for line in decisions.read_text().splitlines()] == ["2021-01", "2021-02"]
    assert _files_holding_the_token(workspace) == [] and _files_holding_the_token(prefect_workspace) == []
