"""Synthetic months that pass for real (issue 14): the figures of `common.realism` against the real
sample when it is present, how `mild` moves month to month, and where the story scenario goes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp, spearmanr

from common import realism
from common.data import prepare_trips, read_trips
from common.synthetic import generate_month
from tests.conftest import SMALL_MONTH_ROWS, real_file

STORY_ROWS = 20_000  # enough for a linear model on PU_DO pairs to tell drift from noise


@pytest.fixture(scope="session")
def real_2023_01() -> pd.DataFrame:
    return read_trips(real_file("green_tripdata_2023-01.parquet"))


@pytest.fixture(scope="session")
def full_size(real_2023_01) -> dict[str, float]:
    return realism.compare_months(generate_month("2023-01"), real_2023_01)


@pytest.fixture(scope="session")
def small(real_2023_01) -> dict[str, float]:
    return realism.compare_months(generate_month("2023-01", rows=SMALL_MONTH_ROWS), real_2023_01)


@pytest.fixture(scope="session")
def story() -> dict[str, pd.DataFrame]:
    months = realism.months_between("2021-01", "2021-06")
    return {m: prepare_trips(generate_month(m, scenario="traffic-returns", rows=STORY_ROWS)) for m in months}


def test_ks_and_spearman_are_the_textbook_ones():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 3000), rng.normal(0.1, 1.2, 2000)
    assert realism.ks_statistic(a, b) == pytest.approx(ks_2samp(a, b).statistic)
    x = np.round(rng.exponential(2, 3000), 1)  # ties, as in trip_distance
    y = x + rng.normal(0, 1, 3000)
    assert realism.spearman(x, y) == pytest.approx(spearmanr(x, y).statistic)


def test_psi_is_zero_for_one_mix_and_large_for_another():
    zones = np.repeat(np.arange(1, 266), 10)
    assert realism.psi(zones, zones) == 0
    assert realism.psi(zones, np.full(100, 74)) > 1
    assert realism.psi(zones, np.r_[zones, np.full(50, 74)]) == pytest.approx(
        realism.psi(np.r_[zones, np.full(50, 74)], zones)
    )


@pytest.mark.parametrize("figures", ["full_size", "small"])
def test_rides_look_like_the_real_month(figures, request):
    got = request.getfixturevalue(figures)
    assert got["ks_duration"] < 0.05 and got["ks_distance"] < 0.05
    assert got["psi_pu"] < 0.1 and got["psi_do"] < 0.1
    assert abs(got["spearman_duration_distance_synthetic"] - got["spearman_duration_distance_real"]) <= 0.05
    assert abs(got["share_outside_1_60_synthetic"] - got["share_outside_1_60_real"]) <= 0.01


def test_as_many_pickup_dropoff_pairs_as_the_real_month(full_size, real_2023_01):
    assert 0.8 <= full_size["pairs_ratio"] <= 1.2
    # At the tests' size, against as many real rows: the pair count grows with the sample.
    real_sample = real_2023_01.sample(SMALL_MONTH_ROWS, random_state=0)
    small = realism.compare_months(generate_month("2023-01", rows=SMALL_MONTH_ROWS), real_sample)
    assert 0.8 <= small["pairs_ratio"] <= 1.2


def test_mild_moves_every_month_like_real_months_do():
    # Each calendar step once while the story drifts (2022) and once after (2023): the wobble repeats
    # every year and the drift is linear, so these are all the steps 2021-2024 has (the benchmark runs them).
    months = realism.months_between("2022-01", "2024-01")
    steps = realism.month_to_month({m: generate_month(m) for m in months})
    moves = {f"{s['from']}->{s['to']}": round(s["ks_duration"], 4) for s in steps}
    assert all(0.01 <= ks <= 0.03 for ks in moves.values()), moves


def test_mild_stays_calibrated_after_2023():
    january = {m: generate_month(m) for m in ("2023-01", "2024-01", "2025-01")}
    for step in realism.month_to_month(january):
        assert step["ks_duration"] < 0.01 and step["psi_pu"] < 0.02


def test_none_is_two_draws_of_one_distribution():
    steps = realism.month_to_month({m: generate_month(m, scenario="none") for m in ("2021-01", "2021-06", "2023-01")})
    assert all(s["ks_duration"] < 0.01 and s["ks_distance"] < 0.01 and s["psi_pu"] < 0.02 for s in steps)


def test_story_shortens_rides_and_trips(story):
    january, june = story["2021-01"], story["2021-06"]
    assert june.duration.median() < 0.95 * january.duration.median()
    assert june.trip_distance.median() < 0.85 * january.trip_distance.median()


def test_story_concentrates_pickups_on_fewer_zones(story):
    january, june = story["2021-01"], story["2021-06"]
    assert realism.top_zone_share(june.PULocationID) > realism.top_zone_share(january.PULocationID) + 0.1
    assert realism.psi(january.PULocationID, june.PULocationID) > 0.1  # a different zone mix


def test_story_frozen_model_gets_worse_and_retraining_recovers(story):
    curve = {point["month"]: point for point in realism.frozen_vs_retrained(story)}
    assert curve["2021-06"]["frozen_rmse"] > 1.03 * curve["2021-02"]["frozen_rmse"]
    assert curve["2021-06"]["retrained_rmse"] <= 0.95 * curve["2021-06"]["frozen_rmse"]


def test_story_moves_the_way_the_real_months_moved(story, real_2023_01):
    lockdown = pd.read_parquet(real_file("course_filtered_2021", "green_tripdata_2021-01.parquet"))
    real_before, real_after = lockdown, prepare_trips(real_2023_01)
    synthetic_before, synthetic_after = story["2021-01"], story["2021-06"]

    def changes(before: pd.DataFrame, after: pd.DataFrame) -> np.ndarray:
        return np.sign(
            [
                after.duration.median() - before.duration.median(),
                after.trip_distance.median() - before.trip_distance.median(),
                realism.top_zone_share(after.PULocationID.astype(int))
                - realism.top_zone_share(before.PULocationID.astype(int)),
            ]
        )

    assert changes(real_before, real_after).tolist() == [-1, -1, 1]
    assert changes(synthetic_before, synthetic_after).tolist() == changes(real_before, real_after).tolist()
