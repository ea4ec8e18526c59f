"""The production-like stack: PostgreSQL + mlflow server + Prefect on 127.0.0.1, level 2 run against it."""

from __future__ import annotations

import glob
import json
import shutil
import tempfile
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.server]


@pytest.fixture
def postgres_installed():
    if not (shutil.which("initdb") or glob.glob("/usr/lib/postgresql/*/bin/initdb")):
        pytest.skip("PostgreSQL is not installed here")


@pytest.fixture
def open_workspace(monkeypatch):
    """As root, PostgreSQL runs as `postgres`, who cannot enter pytest's private (0700) tmp folders."""
    folder = Path(tempfile.mkdtemp(prefix="mlops-stack-"))
    folder.chmod(0o755)
    monkeypatch.setenv("MLOPS_LEVELS_WORKSPACE", str(folder / "ws"))
    yield folder / "ws"
    shutil.rmtree(folder, ignore_errors=True)


def test_stack_up_run_level_2_against_it_and_down(invoke, open_workspace, postgres_installed, monkeypatch):
    workspace = open_workspace
    monkeypatch.delenv("PREFECT_API_URL", raising=False)  # the stack brings its own Prefect server
    up = invoke("stack", "up")
    try:
        assert up.exit_code == 0, up.output
        status = {row["service"]: row for row in json.loads(invoke("stack", "status", "--json").output)["services"]}
        assert {row["state"] for row in status.values()} == {"up"}
        url = status["mlflow server"]["where"]

        run = invoke("run", "2", "--stack", "--json")
        assert run.exit_code == 0, run.output
        report = json.loads(run.output)
        assert report["artifacts"]["tracking uri"] == url

        run_id = report["artifacts"]["mlflow run"]
        logged = httpx.get(f"{url}/api/2.0/mlflow/runs/get", params={"run_id": run_id}).json()["run"]
        assert {m["key"] for m in logged["data"]["metrics"]} >= {"rmse_train", "rmse_val"}
        versions = httpx.get(
            f"{url}/api/2.0/mlflow/model-versions/search", params={"filter": "name='nyc-taxi-duration'"}
        ).json()["model_versions"]
        assert [v["run_id"] for v in versions] == [run_id]
        assert (workspace / "stack" / "db-password").stat().st_mode & 0o077 == 0
    finally:
        down = invoke("stack", "down")
    assert down.exit_code == 0
    assert "not up" in invoke("stack", "status").output


def test_run_with_stack_before_stack_up_says_how(invoke):
    result = invoke("run", "2", "--stack")
    assert result.exit_code == 1 and "mlops-levels stack up" in result.output
