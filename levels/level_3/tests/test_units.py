"""The gate, the router, the log and the monitor, without servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import LEVEL_DIR

from common import model as ml
from common.data import prepare_trips
from common.synthetic import generate_month
from taxi_duration.ab import Variant, bucket, choose_variant
from taxi_duration.gate import quality_gate
from taxi_duration.prediction_log import PredictionLog, read_log


def test_gate_refuses_a_worse_candidate():
    decision = quality_gate("2", 7.5, "1", 7.0, tolerance=0.02)
    assert not decision.passed and "worse than" in decision.reason


def test_gate_passes_a_better_or_equal_candidate_and_a_first_model():
    assert quality_gate("2", 6.9, "1", 7.0).passed
    assert quality_gate("2", 7.1, "1", 7.0, tolerance=0.02).passed  # within noise
    assert not quality_gate("2", 7.2, "1", 7.0, tolerance=0.02).passed  # beyond it
    assert quality_gate("1", 9.0, None, None).passed


def test_the_same_ride_reaches_the_same_variant_in_another_process():
    """Python's own hash() is salted per process: a router built on it would pass any in-process test."""
    ids = [f"ride-{i}" for i in range(50)]
    code = f"from taxi_duration.ab import bucket; print([bucket(i) for i in {ids!r}])"
    other = subprocess.run(
        [sys.executable, "-c", code], cwd=LEVEL_DIR, capture_output=True, text=True, check=True
    ).stdout
    assert other.strip() == str([bucket(i) for i in ids])
    assert all(0 <= bucket(i) < 1 for i in ids)
    variants = [Variant("champion", "1", 0.5), Variant("challenger", "2", 0.5)]
    assert {choose_variant(variants, i).name for i in ids} == {"champion", "challenger"}


@pytest.mark.parametrize("split", [0.5, 0.3, 0.9])
def test_observed_split_is_close_to_the_configured_one(split):
    variants = [Variant("champion", "1", split), Variant("challenger", "2", 1 - split)]
    chosen = [choose_variant(variants, f"ride-{i}").name for i in range(20_000)]
    assert chosen.count("champion") / len(chosen) == pytest.approx(split, abs=0.015)


def test_prediction_log_leaves_out_and_reports_a_torn_last_line(tmp_path):
    path = tmp_path / "log.jsonl"
    log = PredictionLog(path)
    log.append([{"ride_id": "a", "prediction": 1.0}, {"ride_id": "b", "prediction": 2.0}])
    log.close()
    with open(path, "ab") as handle:  # a crash in the middle of a write
        handle.write(b'{"ride_id": "c", "predi')
    read = read_log(path)
    assert list(read.records.ride_id) == ["a", "b"]
    assert read.torn_last_line
    assert read_log(tmp_path / "none.jsonl").records.empty


def test_log_is_opened_for_append_only(tmp_path):
    log = PredictionLog(tmp_path / "log.jsonl")
    log.append([{"ride_id": "a"}])
    log.close()
    PredictionLog(tmp_path / "log.jsonl").append([{"ride_id": "b"}])
    assert list(read_log(tmp_path / "log.jsonl").records.ride_id) == ["a", "b"]
    assert os.path.getsize(tmp_path / "log.jsonl") > 0


def _served(month: str, scenario: str, model, variant_split: bool = False):
    frame = prepare_trips(generate_month(month, scenario=scenario, rows=20_000))
    frame["prediction"] = ml.predict(model, frame)
    frame["variant"] = (
        np.where(np.arange(len(frame)) % 2 == 0, "champion", "challenger") if variant_split else "champion"
    )
    return frame


@pytest.fixture(scope="module")
def reference_and_model():
    reference = prepare_trips(generate_month("2021-01", scenario="none", rows=20_000))
    model = ml.train(reference)
    reference["prediction"] = ml.predict(model, reference)
    return reference, model


@pytest.mark.slow
def test_monitoring_flags_strong_drift(reference_and_model, tmp_path):
    from taxi_duration.monitor import run_monitoring

    reference, model = reference_and_model
    result = run_monitoring(_served("2021-07", "traffic-returns", model), reference, tmp_path, "strong")
    assert result.drifted_columns and result.drift_share > 0
    assert (tmp_path / "drift-strong.html").exists() and (tmp_path / "regression-champion-strong.json").exists()


@pytest.mark.slow
def test_monitoring_does_not_cry_wolf_on_two_draws_of_one_distribution(reference_and_model, tmp_path):
    from taxi_duration.monitor import run_monitoring

    reference, model = reference_and_model
    result = run_monitoring(_served("2021-03", "none", model, variant_split=True), reference, tmp_path, "same")
    assert result.drifted_columns == [] and result.drift_share == 0
    assert set(result.rmse_by_variant) == {"champion", "challenger"}
    assert all(3 < rmse < 12 for rmse in result.rmse_by_variant.values())


@pytest.mark.slow
def test_the_monitoring_job_joins_the_log_with_the_truth(registry, tmp_path, capsys, monkeypatch):
    """`python -m taxi_duration.monitor`, in-process: the month's log, its truth, the champion's month."""
    from taxi_duration.monitor import main

    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry[0].uri)
    log = PredictionLog(tmp_path / "2021-03.jsonl")
    rides = prepare_trips(generate_month("2021-03", rows=400))
    log.append(
        [
            {"ride_id": f"r{i}", "PULocationID": int(r.PULocationID), "DOLocationID": int(r.DOLocationID)}
            | {"trip_distance": float(r.trip_distance), "prediction": 12.0, "version": "1", "variant": "champion"}
            for i, r in enumerate(rides.itertuples())
        ]
    )
    log.close()
    truth = pd.DataFrame({"ride_id": [f"r{i}" for i in range(300)], "duration": rides.duration.to_numpy()[:300]})
    truth.to_parquet(tmp_path / "truth.parquet")
    args = ["--predictions", str(tmp_path / "2021-03.jsonl"), "--truth", str(tmp_path / "truth.parquet")]
    args += ["--reference-month", "2021-02", "--version", "1", "--reports", str(tmp_path / "reports")]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["rows"] == 300 and result["rows_by_variant"] == {"champion": 300}
    expected = ml.rmse(rides.duration.to_numpy()[:300], np.full(300, 12.0))
    assert result["rmse_by_variant"]["champion"] == pytest.approx(expected)
    assert (tmp_path / "reports" / "drift-2021-03.html").exists()
    assert main([*args[:2], "--truth", str(tmp_path / "none.parquet"), *args[4:]]) == 2
    assert "not a ground-truth file" in capsys.readouterr().err
