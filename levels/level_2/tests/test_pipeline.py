"""The training pipeline: a Prefect flow whose every run is tracked in MLflow and registered as a version."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from training_fixtures import (
    EXPERIMENT,
    LEVEL_DIR,
    MODEL_NAME,
    VALIDATED_REAL_RMSE,
    Store,
    real_month,
)


def _run_command(args: list[str], cwd, **kwargs) -> subprocess.Popen:
    """The level's own command, as a person runs it (the package from this level's folder)."""
    env = {**os.environ, "PYTHONPATH": str(LEVEL_DIR)}
    return subprocess.Popen(
        [sys.executable, "-m", "taxi_duration.pipeline", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def test_every_run_is_tracked_and_registered_as_the_next_version(registry):
    store, v1, v2 = registry
    client = store.client()
    first, second = store.runs()
    assert (first.info.run_id, second.info.run_id) == (v1["run_id"], v2["run_id"])
    assert first.data.params["train_data"] == "2021-01" and first.data.params["model"] == "linear_regression"
    assert first.data.params["val_data"] == "2021-02" and second.data.params["model"] == "ridge"
    assert first.data.metrics["rmse_val"] == pytest.approx(v1["metrics"]["rmse_val"])
    assert 0 < first.data.metrics["rmse_train"] < 20
    assert len(first.data.tags["train_data_sha256"]) == 64 and first.data.tags["git_commit"]
    assert first.data.tags["prefect_flow_run_id"]  # the tracked run names the Prefect flow run that made it
    artifacts = {a.path for a in client.list_artifacts(first.info.run_id)}
    assert {"predicted_vs_actual.png", "features.json"} <= artifacts
    assert store.versions() == ["1", "2"]
    assert client.get_model_version(MODEL_NAME, "1").run_id == v1["run_id"]
    assert client.get_model_version(MODEL_NAME, "2").run_id == v2["run_id"]
    assert store.folder.joinpath("mlruns").is_dir()  # artifacts beside the store, in the project folder


def test_logged_model_has_a_signature_and_predicts(registry):
    import mlflow.pyfunc
    import pandas as pd

    store = registry[0]
    mlflow.set_tracking_uri(store.uri)
    model = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}/1")
    assert model.metadata.signature is not None
    rides = pd.DataFrame({"PULocationID": [74, 75, 41], "DOLocationID": [75, 74, 42], "trip_distance": [1.8, 2.5, 0.9]})
    predicted = model.predict(rides)
    assert len(predicted) == 3 and all(0 < minutes < 60 for minutes in predicted)


def test_sweep_logs_nested_runs_and_registers_the_best(prefect_api, project):
    from taxi_duration.pipeline import training_pipeline

    result = training_pipeline("2021-01", "2021-02", "ridge", sweep=True)
    runs = Store(project).runs()
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId")]
    [parent] = [r for r in runs if not r.data.tags.get("mlflow.parentRunId")]
    assert len(children) == 3 and result["candidates"] == 3
    assert {c.data.params["alpha"] for c in children} == {"0.1", "1.0", "10.0"}
    best = min(children, key=lambda c: c.data.metrics["rmse_val"])
    assert parent.data.metrics["rmse_val"] == pytest.approx(best.data.metrics["rmse_val"])
    assert parent.data.params["alpha"] == best.data.params["alpha"]
    assert Store(project).versions() == ["1"]  # only the best is registered


def test_a_failed_download_is_retried(prefect_api, project, monkeypatch):
    from common.errors import DownloadError
    from taxi_duration import pipeline

    real_resolve, calls = pipeline.resolve_data, []

    def flaky(spec, source):
        calls.append(spec)
        if len(calls) == 1:
            raise DownloadError("connection reset", where="test")
        return real_resolve(spec, source)

    monkeypatch.setattr(pipeline, "resolve_data", flaky)
    result = pipeline.training_pipeline("2021-01", "2021-02", "linear_regression")
    assert result["model_version"] == "1" and calls == ["2021-01", "2021-01", "2021-02"]


def test_a_bad_file_is_not_retried(prefect_api, project, monkeypatch):
    from common.errors import DataError
    from taxi_duration import pipeline

    calls = []

    def broken(spec, source):
        calls.append(spec)
        raise DataError("not a parquet file", where=spec)

    monkeypatch.setattr(pipeline, "resolve_data", broken)
    with pytest.raises(DataError):
        pipeline.training_pipeline("2021-01", "2021-02", "linear_regression")
    assert calls == ["2021-01"]  # a bad file stays bad however often it is read


def test_bad_data_fails_once_with_exit_2_and_logs_no_run(prefect_api, project, capsys):
    from taxi_duration.pipeline import main

    missing = project / "missing.parquet"
    assert main(["--train-data", str(missing), "--val-data", "2021-02"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert "file not found" in err and str(missing) in err
    assert not Store(project).runs() and not (project / "mlruns").exists()


def test_an_unknown_model_fails_before_any_data_is_read(prefect_api, project, monkeypatch):
    from common.errors import UsageError
    from taxi_duration import pipeline

    monkeypatch.setattr(pipeline, "resolve_data", lambda *a: pytest.fail("read data for an unknown model"))
    with pytest.raises(UsageError, match="unknown model 'no_such_model'"):
        pipeline.training_pipeline("2021-01", "2021-02", "no_such_model")


def test_json_output_is_the_pipeline_result(prefect_api, project, capsys):
    from taxi_duration.pipeline import main

    assert main(["--train-data", "2021-01", "--val-data", "2021-03", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    [run] = Store(project).runs()
    assert result["run_id"] == run.info.run_id and result["model_version"] == "1"
    assert run.data.params["val_data"] == "2021-03"
    assert result["metrics"]["rmse_val"] == pytest.approx(run.data.metrics["rmse_val"])


@pytest.mark.slow
def test_real_sample_rmse_matches_the_course_on_validated_trips(prefect_api):
    from taxi_duration.pipeline import training_pipeline

    train, val = real_month("green_tripdata_2023-01.parquet"), real_month("green_tripdata_2023-02.parquet")
    result = training_pipeline(str(train), str(val), "linear_regression")
    assert result["metrics"]["rmse_val"] == pytest.approx(VALIDATED_REAL_RMSE, abs=0.02)


@pytest.mark.slow
def test_two_runs_at_once_do_not_corrupt_the_store(prefect_api, project):
    from taxi_duration.config import Config
    from taxi_duration.tracking import start_tracking

    # The store exists (a first run made it): two first runs at once race on creating its tables.
    start_tracking(Config.from_env())
    processes = [_run_command(["--train-data", "2021-01", "--val-data", f"2021-0{i}"], cwd=project) for i in (2, 3)]
    outputs = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    store = Store(project)
    assert sorted(r.data.params["val_data"] for r in store.runs()) == ["2021-02", "2021-03"]
    assert store.versions() == ["1", "2"]


@pytest.mark.slow
def test_mlflow_projects_runs_the_same_pipeline(prefect_api, project):
    from taxi_duration.config import Config
    from taxi_duration.tracking import start_tracking

    start_tracking(Config.from_env())  # the experiment first, so its artifacts live in the project folder
    bin_dir = os.path.dirname(sys.executable)
    env = {**os.environ, "PYTHONPATH": str(LEVEL_DIR), "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    out = subprocess.run(
        [os.path.join(bin_dir, "mlflow"), "run", str(LEVEL_DIR), "-P", "train_data=2021-01", "-P", "val_data=2021-02"]
        + ["--env-manager", "local", "--experiment-name", EXPERIMENT],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    [run] = Store(project).runs()  # the pipeline logged into the run `mlflow run` created, not a second one
    assert run.data.params["train_data"] == "2021-01" and "rmse_val" in run.data.metrics
    assert run.data.tags.get("mlflow.project.entryPoint") == "main"
