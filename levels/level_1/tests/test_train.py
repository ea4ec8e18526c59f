"""The training command: what it writes, what it refuses, and the course's number on real months."""

from __future__ import annotations

import json

import pytest
from conftest import VALIDATED_REAL_RMSE, real_month

from taxi_duration import train as train_module


def test_train_writes_the_model_and_its_metadata(tmp_path, capsys):
    output = tmp_path / "m.bin"
    code = train_module.main(["--train-data", "2021-01", "--val-data", "2021-02", "--output", str(output)])
    assert code == 0 and output.exists()
    metadata = json.loads(output.with_suffix(".json").read_text())
    assert metadata["train_data"] == "2021-01" and metadata["rmse_val"] > 0
    assert json.loads(capsys.readouterr().out)["model_path"] == str(output)


def test_bad_data_is_one_line_exit_2_and_no_model(tmp_path, capsys):
    code = train_module.main(["--train-data", str(tmp_path / "missing.parquet"), "--output", str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert code == 2 and "file not found" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m").exists()


def test_impossible_rows_are_counted_not_trained_on(tmp_path):
    result = train_module.train("2021-01", "2021-02", output=tmp_path / "m.bin")
    assert result.rows_dropped_invalid >= 0 and result.train_rows > 0
    assert result.rmse_train > 0 and result.rmse_val > 0


def test_real_months_give_the_course_number_on_validated_trips(tmp_path):
    months = [real_month(f"green_tripdata_2023-0{m}.parquet") for m in (1, 2)]
    result = train_module.train(str(months[0]), str(months[1]), output=tmp_path / "m.bin")
    assert result.rmse_val == pytest.approx(VALIDATED_REAL_RMSE, abs=0.02)
    assert result.rows_dropped_invalid > 0  # the meter typos the notebook trains on
