"""The registry's manual step (a person promotes a version) and the service that serves the champion."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
from fastapi.testclient import TestClient
from training_fixtures import LEVEL_DIR, MODEL_NAME, RIDE


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_without_a_champion_serving_says_how_to_promote(own_registry, capsys):
    from taxi_duration.serve import main

    assert main(["--port", str(_free_port())]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1
    assert "no version 'champion'" in err and "python -m taxi_duration.promote --version N" in err


@pytest.mark.parametrize("command", ["promote", "serve"])
def test_a_folder_without_the_store_is_said_and_no_empty_store_is_made(command, tmp_path, monkeypatch, capsys):
    import importlib

    main = importlib.import_module(f"taxi_duration.{command}").main
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # the default: ./mlflow.db, here
    assert main(["--version", "4"]) != 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no MLflow store at ") and len(err.splitlines()) == 1
    assert str(elsewhere / "mlflow.db") in err and "MLFLOW_TRACKING_URI" in err
    assert list(elsewhere.iterdir()) == []  # no empty store, no mlruns folder


def test_promoted_champion_is_served_and_named_in_every_answer(own_registry, capsys):
    from taxi_duration.promote import main
    from taxi_duration.serve import create_app

    assert main(["--version", "2"]) == 0
    assert "v2 is now @champion" in capsys.readouterr().out
    assert main(["--list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].startswith("v2 ") and listed[0].endswith("aliases: champion")
    assert listed[1].startswith("v1 ") and listed[1].endswith("aliases: -")
    with TestClient(create_app(own_registry.config())) as client:
        answer = client.post("/predict", json=RIDE).json()
        assert answer["model_version"] == "2" and answer["duration_minutes"] > 0
        assert client.get("/health").json() == {"status": "ok", "model_version": "2"}
        assert client.post("/predict", json={**RIDE, "DOLocationID": 0}).status_code == 422
    with TestClient(create_app(own_registry.config(), version="1")) as client:
        assert client.post("/predict", json=RIDE).json()["model_version"] == "1"


def test_promoting_a_missing_version_fails_clearly_and_moves_nothing(own_registry, capsys):
    from taxi_duration.promote import main

    assert main(["--version", "1"]) == 0
    assert main(["--version", "9"]) == 1
    err = capsys.readouterr().err
    assert "has no version '9'" in err and "python -m taxi_duration.promote --list" in err
    champion = own_registry.client().get_model_version_by_alias(MODEL_NAME, "champion")
    assert str(champion.version) == "1"


def test_resolve_unknown_alias_is_a_project_error(registry):
    from common.errors import TaxiDurationError
    from taxi_duration.registry import resolve_version

    config = registry[0].config()
    with pytest.raises(TaxiDurationError, match="no version 'challenger'"):
        resolve_version(config, "challenger")
    assert str(resolve_version(config, "2").version) == "2"


def test_a_version_whose_files_are_gone_is_a_clear_artifact_error(own_registry):
    import shutil

    from common.errors import ArtifactError
    from taxi_duration.registry import load_version, model_location, resolve_version

    config = own_registry.config()
    location = model_location(config, resolve_version(config, "1"))
    assert location.startswith(str(own_registry.folder))  # the copy's own files, not the session's
    shutil.rmtree(location)
    with pytest.raises(ArtifactError, match=r"nyc-taxi-duration v1\b") as caught:
        load_version(config, "1")
    assert caught.value.where == location and caught.value.exit_code == 3
    assert load_version(config, "2") is not None


@pytest.mark.slow
def test_serve_command_answers_over_http_with_the_champion(own_registry):
    from taxi_duration.promote import main

    assert main(["--version", "1"]) == 0
    port = _free_port()
    env = {**os.environ, "MLFLOW_TRACKING_URI": own_registry.uri}
    command = [sys.executable, "-m", "taxi_duration.serve", "--port", str(port)]
    process = subprocess.Popen(command, cwd=LEVEL_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
                assert time.monotonic() < deadline, "the service did not start within 90 s"
                time.sleep(0.2)
        answer = httpx.post(f"{url}/predict", json=RIDE)
        assert answer.status_code == 200 and answer.json()["model_version"] == "1"
        assert httpx.post(f"{url}/predict", json={**RIDE, "trip_distance": -2.0}).status_code == 422
        assert 'status="422"' in httpx.get(f"{url}/metrics").text
    finally:
        process.terminate()
        process.wait(timeout=20)
