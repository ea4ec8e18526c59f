"""The gate, the router, the log and the monitor, without servers."""

from __future__ import annotations

import os

import numpy as np
import pytest
from tests.carried import each_carrier, module

from common import model as ml
from common.data import prepare_trips
from common.synthetic import generate_month


@each_carrier(3, "gate.py")
def test_gate_refuses_a_worse_candidate(level):
    decision = module(level, "gate").quality_gate("2", 7.5, "1", 7.0, tolerance=0.02)
    assert not decision.passed and "worse than" in decision.reason


@each_carrier(3, "gate.py")
def test_gate_passes_a_better_or_equal_candidate_and_a_first_model(level):
    quality_gate = module(level, "gate").quality_gate
    assert quality_gate("2", 6.9, "1", 7.0).passed
    assert quality_gate("2", 7.1, "1", 7.0, tolerance=0.02).passed  # within noise
    assert quality_gate("1", 9.0, None, None).passed


@each_carrier(3, "ab.py")
def test_the_same_ride_reaches_the_same_variant_in_another_process(level):
    """Python's own hash() is salted per process: a router built on it would pass any in-process test."""
    import subprocess
    import sys

    ab = module(level, "ab")
    bucket, choose_variant, Variant = ab.bucket, ab.choose_variant, ab.Variant
    ids = [f"ride-{i}" for i in range(50)]
    code = f"from levels.level_{level}.ab import bucket; print([bucket(i) for i in {ids!r}])"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert other.strip() == str([bucket(i) for i in ids])
    assert all(0 <= bucket(i) < 1 for i in ids)
    variants = [Variant("champion", "1", 0.5), Variant("challenger", "2", 0.5)]
    assert {choose_variant(variants, i).name for i in ids} == {"champion", "challenger"}


@each_carrier(3, "ab.py")
@pytest.mark.parametrize("split", [0.5, 0.3, 0.9])
def test_observed_split_is_close_to_the_configured_one(level, split):
    Variant, choose_variant = module(level, "ab").Variant, module(level, "ab").choose_variant
    variants = [Variant("champion", "1", split), Variant("challenger", "2", 1 - split)]
    chosen = [choose_variant(variants, f"ride-{i}").name for i in range(20_000)]
    assert chosen.count("champion") / len(chosen) == pytest.approx(split, abs=0.015)


@each_carrier(3, "prediction_log.py")
def test_prediction_log_leaves_out_and_reports_a_torn_last_line(level, tmp_path):
    PredictionLog, read_log = module(level, "prediction_log").PredictionLog, module(level, "prediction_log").read_log
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


@each_carrier(3, "prediction_log.py")
def test_log_is_opened_for_append_only(level, tmp_path):
    PredictionLog, read_log = module(level, "prediction_log").PredictionLog, module(level, "prediction_log").read_log
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


@each_carrier(3, "monitor.py")
def test_monitoring_flags_strong_drift(level, reference_and_model, tmp_path):
    run_monitoring = module(level, "monitor").run_monitoring

    reference, model = reference_and_model
    result = run_monitoring(_served("2021-07", "traffic-returns", model), reference, tmp_path, "strong")
    assert result.drifted_columns and result.drift_share > 0
    assert (tmp_path / "drift-strong.html").exists() and (tmp_path / "regression-champion-strong.json").exists()


@each_carrier(3, "monitor.py")
def test_monitoring_does_not_cry_wolf_on_two_draws_of_one_distribution(level, reference_and_model, tmp_path):
    run_monitoring = module(level, "monitor").run_monitoring

    reference, model = reference_and_model
    result = run_monitoring(_served("2021-03", "none", model, variant_split=True), reference, tmp_path, "same")
    assert result.drifted_columns == [] and result.drift_share == 0
    assert set(result.rmse_by_variant) == {"champion", "challenger"}
    assert all(3 < rmse < 12 for rmse in result.rmse_by_variant.values())
