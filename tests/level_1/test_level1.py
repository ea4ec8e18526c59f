from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest

from common.serving import free_port
from levels.catalog import get_level
from levels.level_1 import train as train_module
from tests.conftest import REPO, VALIDATED_REAL_RMSE, real_rmse

LEVEL = get_level(1)


def test_train_cli_writes_model_and_metadata(workspace, tmp_path):
    output = tmp_path / "m.bin"
    code = train_module.main(["--train-data", "2021-01", "--val-data", "2021-02", "--output", str(output)])
    assert code == 0 and output.exists()
    metadata = json.loads(output.with_suffix(".json").read_text())
    assert metadata["train_data"] == "2021-01" and metadata["rmse_val"] > 0


def test_train_cli_refuses_bad_data_with_exit_2(workspace, tmp_path, capsys):
    code = train_module.main(["--train-data", str(tmp_path / "missing.parquet"), "--output", str(tmp_path / "m")])
    assert code == 2 and "file not found" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_run_1_trains_serves_and_reports_requests(invoke):
    result = invoke("run", "1", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["metrics"]["rmse_val"] > 0
    assert report["metrics"]["requests_served"] >= 25 and report["metrics"]["errors_served"] == 1
    assert len(report["details"]["sample_predictions"]) == 8


def test_real_sample_rmse_matches_the_course_on_validated_trips(invoke):
    assert real_rmse(invoke, 1) == pytest.approx(VALIDATED_REAL_RMSE, abs=0.02)


@pytest.mark.slow
@pytest.mark.server
def test_real_uvicorn_process_serves_over_http(model_file, tmp_path):
    port = free_port()
    env = {**os.environ, "MLOPS_LEVELS_MODEL_PATH": str(model_file), "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "levels.level_1.serve:app_from_env",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=tmp_path,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        ok = httpx.post(f"{url}/predict", json={"PULocationID": 74, "DOLocationID": 75, "trip_distance": 2.0})
        bad = httpx.post(f"{url}/predict", json={"PULocationID": 74, "DOLocationID": 75, "trip_distance": -2.0})
        assert ok.status_code == 200 and bad.status_code == 422
        assert 'status="422"' in httpx.get(f"{url}/metrics").text
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_serve_refuses_without_a_model(invoke):
    result = invoke("serve", "1", "--port", str(free_port()))
    assert result.exit_code == 1 and "run: mlops-levels run 1" in result.output


def test_diff_0_1_pairs_train_with_the_notebook_and_lists_practices(invoke):
    result = invoke("diff", "0", "1", "--json")
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert {p["id"] for p in report["practices_gained"]} == set(LEVEL.practice_ids)
    pair = next(f for f in report["files"] if f["new"] == "train.py")
    assert pair["old"] == "duration_prediction.ipynb" and pair["added"] > 0
    assert next(f for f in report["files"] if f["new"] == "serve.py")["status"] == "added"
    shown = invoke("diff", "0", "1", "--file", "train.py")
    assert "+def train(" in shown.output.replace("+# [versioned_code]\n", "")
