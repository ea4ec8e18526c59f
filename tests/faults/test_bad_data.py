"""Impossible trips in the training data: NaN and infinite distances, zone IDs outside the TLC zones,
negative and 100,000-mile distances. They are dropped and counted, or the file is refused (exit 2)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from common.data import prepare_trips, prepare_trips_counted
from common.errors import DataError
from common.schemas import servable
from common.synthetic import generate_month
from tests.conftest import SMALL_MONTH_ROWS

# row -> (column, value): what a damaged or hostile file holds
DAMAGE = {
    0: ("trip_distance", np.inf),
    1: ("trip_distance", -np.inf),
    2: ("trip_distance", np.nan),
    3: ("PULocationID", 10**12),
    4: ("DOLocationID", 0),
    5: ("PULocationID", -7),
    6: ("trip_distance", -1.0),
    7: ("trip_distance", 120_098.84),  # the longest "trip" of January 2023, as it is in the TLC file
}


def _month_with_damage(rows: int = SMALL_MONTH_ROWS):
    trips = generate_month("2021-01", rows=rows)
    minutes = (trips.lpep_dropoff_datetime - trips.lpep_pickup_datetime).dt.total_seconds() / 60
    kept = trips.index[minutes.between(1, 60) & servable(trips)][: len(DAMAGE)]  # rows the course would train on
    for row, (column, value) in zip(kept, DAMAGE.values(), strict=True):
        trips.loc[row, column] = value
    return trips


def test_impossible_trips_are_dropped_and_counted_by_reason():
    clean = prepare_trips_counted(generate_month("2021-01", rows=SMALL_MONTH_ROWS))
    damaged = prepare_trips_counted(_month_with_damage(), "2021-01")
    # the generator has its own real-looking typos (100,000-mile trips); the damage adds to them
    assert damaged.dropped.non_finite_distance == clean.dropped.non_finite_distance + 3
    assert damaged.dropped.unknown_zone == clean.dropped.unknown_zone + 3
    assert damaged.dropped.absurd_distance == clean.dropped.absurd_distance + 2
    assert damaged.dropped.duration == clean.dropped.duration
    assert len(damaged.trips) == len(clean.trips) - len(DAMAGE)
    assert servable(damaged.trips).all()  # every row trained on is a ride the services would accept
    assert f"{clean.dropped.non_finite_distance + 3} with a NaN or infinite distance" in damaged.dropped.describe()


def test_a_file_with_no_valid_trip_is_refused_with_the_reasons():
    trips = generate_month("2021-01", rows=200)
    trips["trip_distance"] = np.inf
    trips.loc[:9, "trip_distance"] = 1.0
    trips.loc[:9, "PULocationID"] = 10**12
    with pytest.raises(DataError) as caught:
        prepare_trips(trips, "bad.parquet")
    line = caught.value.one_line()
    assert line.startswith("bad.parquet: no valid trip in 200 rows")
    assert "190 with a NaN or infinite distance" in line and "10 with a zone ID outside 1-265" in line
    assert caught.value.exit_code == 2


def _write(trips, path):
    trips.to_parquet(path, index=False)
    return path


@pytest.mark.slow
def test_run_1_trains_on_the_valid_rows_of_a_damaged_month(invoke, tmp_path):
    train = _write(_month_with_damage(), tmp_path / "damaged.parquet")
    val = _write(generate_month("2021-02", rows=SMALL_MONTH_ROWS), tmp_path / "val.parquet")
    result = invoke("run", "1", "--train-data", train, "--val-data", val, "--json")
    assert result.exit_code == 0, result.output
    assert np.isfinite(json.loads(result.output)["metrics"]["rmse_val"])


@pytest.mark.slow
def test_run_1_refuses_a_month_with_no_valid_trip_in_one_line(invoke, tmp_path):
    trips = generate_month("2021-01", rows=200)
    trips["PULocationID"] = 10**12
    train = _write(trips, tmp_path / "zones.parquet")
    result = invoke("run", "1", "--train-data", train, "--val-data", train)
    assert result.exit_code == 2
    assert "no valid trip in 200 rows" in result.output and "zones.parquet" in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_run_2_with_infinite_distances_trains_quietly(prefect_api, invoke, tmp_path):
    """Infinite distances used to end `run 2` in 114 lines of Prefect and sklearn tracebacks."""
    train = _write(_month_with_damage(), tmp_path / "damaged.parquet")
    val = _write(_month_with_damage(), tmp_path / "val.parquet")
    result = invoke("run", "2", "--train-data", train, "--val-data", val, "--json")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output


def test_a_file_name_that_is_not_utf8_is_read_like_any_other(invoke, month_files, tmp_path):
    import os

    name = os.fsdecode(b"trips-\xff\xfe.parquet")  # what Python makes of a Latin-1 name from another system
    target = tmp_path / name
    target.write_bytes(month_files["2021-01"].read_bytes())
    result = invoke("data", "show", target, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["summary"]["rows"] > 0


def test_a_csv_with_wrong_columns_at_level_2_is_one_line_and_leaves_no_store(invoke, workspace, prefect_api, tmp_path):
    bad = tmp_path / "trips.csv"
    bad.write_text("pickup,dropoff,zone\n2021-01-01,2021-01-01,74\n")
    result = invoke("run", "2", "--train-data", bad)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "missing column" in lines[0] and "trips.csv" in lines[0]
    assert not (workspace / "level_2" / "mlflow.db").exists()
