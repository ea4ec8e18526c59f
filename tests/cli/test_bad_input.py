"""Every kind of bad input: exit code 2, one line naming the file and the problem, nothing half-written."""

from __future__ import annotations

import pandas as pd
import pytest


def _small_frame(month_files):
    return pd.read_parquet(month_files["2021-01"]).head(200)


def _make_missing(tmp_path, month_files):
    return tmp_path / "nowhere.parquet", "file not found"


def _make_missing_column(tmp_path, month_files):
    path = tmp_path / "no_distance.parquet"
    _small_frame(month_files).drop(columns="trip_distance").to_parquet(path)
    return path, "missing column trip_distance"


def _make_wrong_dtype(tmp_path, month_files):
    path = tmp_path / "wrong_dtype.parquet"
    frame = _small_frame(month_files)
    frame["PULocationID"] = "somewhere"
    frame.to_parquet(path)
    return path, "column PULocationID has dtype"


def _make_empty_file(tmp_path, month_files):
    path = tmp_path / "empty.parquet"
    path.write_bytes(b"")
    return path, "empty"


def _make_truncated(tmp_path, month_files):
    path = tmp_path / "truncated.parquet"
    data = month_files["2021-01"].read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path, "truncated"


def _make_no_rows(tmp_path, month_files):
    path = tmp_path / "no_rows.parquet"
    _small_frame(month_files).head(0).to_parquet(path)
    return path, "no rows"


def _make_nothing_left_after_filter(tmp_path, month_files):
    path = tmp_path / "all_short.parquet"
    frame = _small_frame(month_files)
    frame["lpep_dropoff_datetime"] = frame["lpep_pickup_datetime"]
    frame.to_parquet(path)
    return path, "no trip of 1..60 minutes"


BAD_INPUTS = [
    _make_missing,
    _make_missing_column,
    _make_wrong_dtype,
    _make_empty_file,
    _make_truncated,
    _make_no_rows,
    _make_nothing_left_after_filter,
]


@pytest.mark.parametrize("make_bad", BAD_INPUTS, ids=lambda f: f.__name__.removeprefix("_make_"))
def test_run_0_refuses_bad_data_in_one_line(invoke, workspace, tmp_path, month_files, make_bad):
    path, message = make_bad(tmp_path, month_files)
    result = invoke("run", "0", "--train-data", path, "--val-data", "2021-02")
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and path.name in lines[0]
    assert "Traceback" not in result.output
    assert not (workspace / "level_0" / "lin_reg.bin").exists()


@pytest.mark.parametrize("make_bad", BAD_INPUTS[:3], ids=lambda f: f.__name__.removeprefix("_make_"))
def test_data_show_refuses_bad_data_in_one_line(invoke, tmp_path, month_files, make_bad):
    path, message = make_bad(tmp_path, month_files)
    result = invoke("data", "show", path)
    assert result.exit_code == 2 and message in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", "0", "--train-data", "2021-1"), "neither a month nor a data file"),
        (("run", "0", "--model", "xgboost"), "no model 'xgboost'"),
        (("run", "7"), "not a level"),
        (("run", "0", "--scenario", "apocalypse"), "unknown scenario"),
        (("run", "0", "--source", "ftp"), "unknown data source"),
        (("data", "generate", "2021-13"), "not a month"),
        (("diff", "1", "1"), "the two levels are the same"),
    ],
)
def test_bad_arguments_exit_2_with_a_fix(invoke, args, message):
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_click_itself_refuses_a_level_out_of_range(invoke):
    result = invoke("explain", "9")
    assert result.exit_code == 2
