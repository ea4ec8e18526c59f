from __future__ import annotations

import pandas as pd
import pytest

from common.data import read_trips
from common.errors import DataError, UsageError
from common.months import month_range, next_month, parse_month
from tests.conftest import real_file


def test_real_months_with_drifting_dtypes_read_to_one_schema():
    january = read_trips(real_file("green_tripdata_2023-01.parquet"))
    february = read_trips(real_file("green_tripdata_2023-02.parquet"))  # int32 IDs, double ehail_fee
    assert dict(january.dtypes) == dict(february.dtypes)
    assert str(february.PULocationID.dtype) == "int64"


def test_course_filtered_file_with_string_ids_is_cast():
    frame = read_trips(real_file("course_filtered_2021", "green_tripdata_2021-01.parquet"))
    assert str(frame.DOLocationID.dtype) == "int64"


def test_csv_files_are_read_like_parquet(tmp_path, month_files):
    csv = tmp_path / "trips.csv"
    pd.read_parquet(month_files["2021-01"]).to_csv(csv, index=False)
    frame = read_trips(csv)
    assert str(frame.lpep_pickup_datetime.dtype) == "datetime64[us]" and len(frame) > 0


def test_month_helpers():
    assert parse_month("2021-12") == (2021, 12)
    assert month_range("2021-11..2022-02") == ["2021-11", "2021-12", "2022-01", "2022-02"]
    assert next_month("2021-12") == "2022-01"
    with pytest.raises(UsageError):
        parse_month("2021-13")
    with pytest.raises(UsageError, match="backwards"):
        month_range("2021-05..2021-01")


def test_a_wrong_dtype_names_the_column(tmp_path, month_files):
    frame = pd.read_parquet(month_files["2021-01"])
    frame["trip_distance"] = "far"
    path = tmp_path / "bad.parquet"
    frame.to_parquet(path)
    with pytest.raises(DataError, match="trip_distance"):
        read_trips(path)
