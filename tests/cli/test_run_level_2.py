"""`run 2`, `serve 2`, `ui 2` and `diff 1 2` drive level 2's own commands from outside, as a person would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from teaching.catalog import get_level
from teaching.infra.config import experiment_name
from teaching.infra.serving import free_port
from tests.conftest import REPO, VALIDATED_REAL_RMSE, real_rmse

MODEL = "nyc-taxi-duration"
EXPERIMENT = experiment_name(2)


@pytest.fixture
def store(workspace):
    """An MlflowClient on the workspace's level-2 store."""

    def _client():
        from mlflow import MlflowClient

        uri = f"sqlite:///{workspace / 'level_2' / 'mlflow.db'}"
        return MlflowClient(tracking_uri=uri, registry_uri=uri)

    return _client


def _runs(client):
    experiment = client.get_experiment_by_name(EXPERIMENT)
    return client.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"])


def test_run_2_tracks_everything_and_registers_a_version(invoke, store, workspace, prefect_api):
    result = invoke("run", "2", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    client = store()
    [run] = _runs(client)
    assert run.info.run_id == report["artifacts"]["mlflow run"]
    assert report["artifacts"]["registered version"] == f"{MODEL} v1"
    assert run.data.params["train_data"] == "2021-01" and run.data.params["model"] == "linear_regression"
    assert run.data.metrics["rmse_val"] == pytest.approx(report["metrics"]["rmse_val"])
    assert {"predicted_vs_actual.png", "features.json"} <= {a.path for a in client.list_artifacts(run.info.run_id)}
    [version] = client.search_model_versions(f"name='{MODEL}'")
    assert version.run_id == run.info.run_id and str(version.version) == "1"
    # The manual step, run as printed from wherever the person is, promotes this version in this store.
    [promote] = [step.removeprefix("promote: ") for step in report["manual_steps"] if step.startswith("promote:")]
    promoted = subprocess.run(promote, shell=True, cwd=workspace, capture_output=True, text=True, timeout=300)
    assert promoted.returncode == 0, promoted.stderr
    assert str(client.get_model_version_by_alias(MODEL, "champion").version) == "1"
    assert (workspace / "level_2" / "mlruns").is_dir()  # the level ran in the workspace, not in its folder
    assert not (get_level(2).folder / "mlruns").exists() and not (get_level(2).folder / "mlflow.db").exists()

    again = invoke("run", "2", "--json", "--val-data", "2021-03")
    assert again.exit_code == 0, again.output
    assert len(_runs(store())) == 2
    assert sorted(str(v.version) for v in store().search_model_versions(f"name='{MODEL}'")) == ["1", "2"]


def test_run_2_sweep_reports_its_candidates(invoke, store, prefect_api):
    result = invoke("run", "2", "--model", "ridge", "--sweep", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["metrics"]["candidates"] == 3
    assert len(_runs(store())) == 4  # the parent and its three nested runs


def test_bad_data_fails_once_with_exit_2_and_logs_no_run(invoke, store, tmp_path, prefect_api):
    result = invoke("run", "2", "--train-data", tmp_path / "missing.parquet")
    assert result.exit_code == 2 and "file not found" in result.output and "Traceback" not in result.output
    assert store().get_experiment_by_name(EXPERIMENT) is None


def test_real_sample_rmse_matches_the_course_on_validated_trips(invoke, prefect_api):
    assert real_rmse(invoke, 2) == pytest.approx(VALIDATED_REAL_RMSE, abs=0.02)


def test_without_a_champion_serving_says_how_to_promote(invoke, prefect_api, capfd):
    assert invoke("run", "2").exit_code == 0
    result = invoke("serve", "2", "--port", str(free_port()))
    assert result.exit_code == 1 and "did not start" in result.output
    assert "python -m taxi_duration.promote --version N" in capfd.readouterr().err  # the level's own line


def _shows_runs_and_metrics_in_the_classic_view(printed: str, base: str, folder: Path) -> None:
    """The address `ui 2` prints, opened at 1280x800 in a fresh Chromium: MLflow's classic view with the run
    and its metric charts (not the GenAI view's traces), and no telemetry banner."""
    from tests.browser import dom, looks_blank, screenshot

    [address] = [word for word in printed.split() if word.startswith(base)]
    page = dom(address, size="1280,800", showing=("Model metrics", "linear_regression", "rmse_"))
    assert "Model metrics" in page and "linear_regression" in page, page[-2000:]  # the run and its charts
    assert "rmse_" in page  # a metric of the run, by name
    assert "collects usage data" not in page and "Detect Issues" not in page
    assert not looks_blank(screenshot(address, folder / "ui-2.png", size="1280,800"))


@pytest.mark.slow
def test_ui_serves_the_runs_and_takes_runs_from_a_remote_client(invoke, workspace, prefect_api, tmp_path):
    """`mlops-levels ui 2` is a real `mlflow server`: read it over REST, and send a run to it."""
    assert invoke("run", "2").exit_code == 0
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    printed = workspace / "ui.out"
    server = subprocess.Popen(
        [sys.executable, "-m", "cli", "ui", "2", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=printed.open("w"),
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while f"level 2: {base}" not in printed.read_text():
            assert time.monotonic() < deadline and server.poll() is None, "no address printed"
            time.sleep(0.2)
        # The address is printed once the server answers: curl was refused for ~11 s after it was.
        assert httpx.get(f"{base}/health", timeout=5).status_code == 200
        experiment = httpx.get(
            f"{base}/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": EXPERIMENT}
        ).json()["experiment"]
        search = {"experiment_ids": [experiment["experiment_id"]]}
        assert len(httpx.post(f"{base}/api/2.0/mlflow/runs/search", json=search).json()["runs"]) == 1
        _shows_runs_and_metrics_in_the_classic_view(printed.read_text(), base, tmp_path)
        # no artifact proxy: no other local account can write over a model's files through `ui` (no login)
        upload = httpx.put(f"{base}/api/2.0/mlflow-artifacts/artifacts/1/models/m-x/artifacts/model.pkl", content=b"x")
        assert upload.status_code >= 400, upload.status_code

        remote = invoke("run", "2", "--tracking-uri", base, "--json")
        assert remote.exit_code == 0, remote.output
        assert json.loads(remote.output)["artifacts"]["tracking uri"] == base
        runs = httpx.post(f"{base}/api/2.0/mlflow/runs/search", json=search).json()["runs"]
        versions = httpx.get(f"{base}/api/2.0/mlflow/registered-models/get", params={"name": MODEL}).json()
        assert len(runs) == 2 and versions["registered_model"]["name"] == MODEL
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


def test_ui_refuses_a_level_without_a_store(invoke):
    result = invoke("ui", "2", "--port", str(free_port()))
    assert result.exit_code == 2 and "run it first" in result.output


def test_diff_1_2_pairs_the_pipeline_with_train(invoke):
    report = json.loads(invoke("diff", "1", "2", "--json").output)
    pair = next(f for f in report["files"] if f["new"] == "taxi_duration/pipeline.py")
    assert pair["old"] == "taxi_duration/train.py"
    gained = {p["id"] for p in report["practices_gained"]}
    assert gained == {"orchestrated_pipeline", "experiment_tracking", "model_registry"}
