"""`run 1`, `serve 1` and `diff 0 1` drive level 1's own commands from outside, as a person would."""

from __future__ import annotations

import json

import pytest

from teaching.catalog import get_level
from teaching.infra.serving import free_port
from tests.conftest import VALIDATED_REAL_RMSE, real_rmse


@pytest.mark.slow
def test_run_1_trains_serves_and_reports_requests(invoke, workspace):
    result = invoke("run", "1", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["metrics"]["rmse_val"] > 0
    assert report["metrics"]["requests_served"] >= 25 and report["metrics"]["errors_served"] == 1
    assert len(report["details"]["sample_predictions"]) == 8
    assert report["artifacts"]["model"] == str(workspace / "level_1" / "model.bin")
    assert not (get_level(1).folder / "models").exists()  # the level wrote into the workspace, not its folder


@pytest.mark.slow
def test_run_1_passes_a_level_error_through_in_one_line(invoke, tmp_path):
    result = invoke("run", "1", "--train-data", str(tmp_path / "missing.parquet"))
    assert result.exit_code == 2 and "file not found" in result.output and "Traceback" not in result.output


@pytest.mark.slow
def test_real_sample_rmse_matches_the_course_on_validated_trips(invoke):
    assert real_rmse(invoke, 1) == pytest.approx(VALIDATED_REAL_RMSE, abs=0.02)


def test_serve_refuses_without_a_model(invoke):
    result = invoke("serve", "1", "--port", str(free_port()))
    assert result.exit_code == 1 and "run: mlops-levels run 1" in result.output


def test_diff_0_1_pairs_train_with_the_notebook_and_lists_practices(invoke):
    result = invoke("diff", "0", "1", "--json")
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert {p["id"] for p in report["practices_gained"]} == set(get_level(1).practice_ids)
    pair = next(f for f in report["files"] if f["new"] == "taxi_duration/train.py")
    assert pair["old"] == "duration_prediction.ipynb" and pair["added"] > 0
    assert next(f for f in report["files"] if f["new"] == "taxi_duration/serve.py")["status"] == "added"
    shown = invoke("diff", "0", "1", "--file", "taxi_duration/train.py")
    assert "+def train(" in shown.output.replace("+# [versioned_code]\n", "")
