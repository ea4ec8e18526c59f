from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest
from fastapi.testclient import TestClient
from levels.level_2 import promote
from levels.level_2.serve import create_app

from common.config import Settings
from common.errors import MlopsLevelsError
from common.serving import free_port
from tests.conftest import REPO

RIDE = {"PULocationID": 74, "DOLocationID": 75, "trip_distance": 1.8}


@pytest.fixture
def two_versions(invoke):
    assert invoke("run", "2").exit_code == 0
    assert invoke("run", "2", "--model", "ridge").exit_code == 0


def test_without_a_champion_serving_says_how_to_promote(two_versions, invoke):
    result = invoke("serve", "2", "--port", str(free_port()))
    assert result.exit_code == 1 and "promote.py --version" in result.output


def test_promoted_champion_is_served_and_named_in_every_answer(two_versions, workspace, capsys):
    assert promote.main(["--version", "2"]) == 0
    assert promote.main(["--list"]) == 0
    assert "aliases: champion" in capsys.readouterr().out
    with TestClient(create_app(Settings())) as client:
        answer = client.post("/predict", json=RIDE).json()
        assert answer["model_version"] == "2" and answer["duration_minutes"] > 0
        assert client.post("/predict", json={**RIDE, "DOLocationID": 0}).status_code == 422
    with TestClient(create_app(Settings(), version="1")) as client:
        assert client.post("/predict", json=RIDE).json()["model_version"] == "1"


def test_promoting_a_missing_version_fails_clearly(two_versions, capsys):
    assert promote.main(["--version", "9"]) == 1
    assert "has no version '9'" in capsys.readouterr().err


def test_resolve_unknown_alias_is_a_toolkit_error(two_versions):
    from levels.level_2.registry import resolve_version

    with pytest.raises(MlopsLevelsError, match="no version 'challenger'"):
        resolve_version(Settings(), "challenger")


@pytest.mark.slow
@pytest.mark.server
def test_ui_serves_the_runs_and_takes_runs_from_a_remote_client(invoke, workspace):
    """`mlops-levels ui 2` is a real `mlflow server`: read it over REST, and send a run to it."""
    assert invoke("run", "2").exit_code == 0
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    server = subprocess.Popen(
        [sys.executable, "-m", "cli", "ui", "2", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "mlflow server did not start"
            time.sleep(0.5)
        experiment = httpx.get(
            f"{base}/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": "nyc-taxi-duration-level-2"}
        ).json()["experiment"]
        runs = httpx.post(
            f"{base}/api/2.0/mlflow/runs/search", json={"experiment_ids": [experiment["experiment_id"]]}
        ).json()["runs"]
        assert len(runs) == 1

        remote = invoke("run", "2", "--tracking-uri", base, "--json")
        assert remote.exit_code == 0, remote.output
        assert json.loads(remote.output)["artifacts"]["tracking uri"] == base
        runs = httpx.post(
            f"{base}/api/2.0/mlflow/runs/search", json={"experiment_ids": [experiment["experiment_id"]]}
        ).json()["runs"]
        versions = httpx.get(
            f"{base}/api/2.0/mlflow/registered-models/get", params={"name": "nyc-taxi-duration"}
        ).json()
        assert len(runs) == 2 and versions["registered_model"]["name"] == "nyc-taxi-duration"
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


def test_ui_refuses_a_level_without_a_store(invoke):
    result = invoke("ui", "2", "--port", str(free_port()))
    assert result.exit_code == 2 and "run it first" in result.output
