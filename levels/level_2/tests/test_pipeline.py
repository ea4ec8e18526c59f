from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from levels.level_2.tracking import EXPERIMENT

from tests.conftest import REPO, VALIDATED_REAL_RMSE, real_rmse

MODEL = "nyc-taxi-duration"


def _runs(client):
    experiment = client.get_experiment_by_name(EXPERIMENT)
    return client.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"])


def test_run_2_tracks_everything_and_registers_a_version(invoke, store):
    result = invoke("run", "2", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    client = store()
    [run] = _runs(client)
    assert run.info.run_id == report["artifacts"]["mlflow run"]
    assert run.data.params["train_data"] == "2021-01" and run.data.params["model"] == "linear_regression"
    assert run.data.metrics["rmse_val"] == pytest.approx(report["metrics"]["rmse_val"])
    assert "rmse_train" in run.data.metrics
    assert len(run.data.tags["train_data_sha256"]) == 64 and run.data.tags["git_commit"]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"predicted_vs_actual.png", "features.json"} <= artifacts
    [version] = client.search_model_versions(f"name='{MODEL}'")
    assert version.run_id == run.info.run_id and str(version.version) == "1"

    again = invoke("run", "2", "--json", "--val-data", "2021-03")
    assert again.exit_code == 0
    assert len(_runs(store())) == 2
    assert sorted(str(v.version) for v in store().search_model_versions(f"name='{MODEL}'")) == ["1", "2"]


def test_logged_model_has_a_signature_and_predicts(invoke, store, prepared):
    import mlflow.pyfunc

    assert invoke("run", "2").exit_code == 0
    store()
    model = mlflow.pyfunc.load_model(f"models:/{MODEL}/1")
    assert model.metadata.signature is not None
    rides = prepared["2021-02"][["PULocationID", "DOLocationID", "trip_distance"]].head(3)
    assert len(model.predict(rides)) == 3


def test_sweep_logs_nested_runs_and_registers_the_best(invoke, store):
    result = invoke("run", "2", "--model", "ridge", "--sweep", "--json")
    assert result.exit_code == 0, result.output
    runs = _runs(store())
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId")]
    parent = next(r for r in runs if not r.data.tags.get("mlflow.parentRunId"))
    assert len(children) == 3
    assert parent.data.metrics["rmse_val"] == pytest.approx(min(c.data.metrics["rmse_val"] for c in children))


def test_a_failed_download_is_retried(workspace, monkeypatch):
    from levels.level_2 import pipeline

    from common.config import Settings
    from common.errors import DownloadError

    real_resolve, calls = pipeline.resolve_data, []

    def flaky(spec, settings):
        calls.append(spec)
        if len(calls) == 1:
            raise DownloadError("connection reset", where="test")
        return real_resolve(spec, settings)

    monkeypatch.setattr(pipeline, "resolve_data", flaky)
    result = pipeline.run_pipeline(Settings(), "2021-01", "2021-02", "linear_regression")
    assert result["model_version"] == "1" and len(calls) == 3


def test_bad_data_fails_once_with_exit_2_and_logs_no_run(invoke, store, tmp_path):
    result = invoke("run", "2", "--train-data", tmp_path / "missing.parquet")
    assert result.exit_code == 2 and "file not found" in result.output
    experiment = store().get_experiment_by_name(EXPERIMENT)
    assert experiment is None or not _runs(store())


def test_real_sample_rmse_matches_the_course_on_validated_trips(invoke):
    assert real_rmse(invoke, 2) == pytest.approx(VALIDATED_REAL_RMSE, abs=0.02)


@pytest.mark.slow
def test_two_runs_at_once_do_not_corrupt_the_store(workspace, store):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, str(REPO / "levels/level_2/pipeline.py"), "--train_data=2021-01"]
    processes = [
        subprocess.Popen(
            [*command, f"--val_data=2021-0{i}"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for i in (2, 3)
    ]
    outputs = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    client = store()
    assert len(_runs(client)) == 2
    assert sorted(str(v.version) for v in client.search_model_versions(f"name='{MODEL}'")) == ["1", "2"]


@pytest.mark.slow
def test_mlflow_projects_runs_the_same_pipeline(workspace, store):
    from levels.level_2.tracking import start_tracking

    from common.config import Settings

    uri = f"sqlite:///{workspace / 'level_2' / 'mlflow.db'}"
    start_tracking(Settings())  # as after a first `run 2`: the experiment keeps its artifacts in the workspace
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": uri,
        "PYTHONPATH": str(REPO),
        "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{os.environ['PATH']}",
    }
    out = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "mlflow"),
            "run",
            "levels/level_2",
            "-P",
            "train_data=2021-01",
            "-P",
            "val_data=2021-02",
            "--env-manager",
            "local",
            "--experiment-name",
            EXPERIMENT,
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    [run] = _runs(store())
    assert run.data.params["train_data"] == "2021-01" and "rmse_val" in run.data.metrics


def test_diff_1_2_pairs_the_pipeline_with_train(invoke):
    report = json.loads(invoke("diff", "1", "2", "--json").output)
    pair = next(f for f in report["files"] if f["new"] == "pipeline.py")
    assert pair["old"] == "train.py"
    gained = {p["id"] for p in report["practices_gained"]}
    assert gained == {"orchestrated_pipeline", "experiment_tracking", "model_registry"}
