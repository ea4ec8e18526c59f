"""The offline data source: months of green-taxi trips in the TLC schema, with drift between months.

The world is fixed by the seed (zone positions, how slow each zone is); a month is drawn from it at a
point `t` of the story "traffic returns": t=0 is January 2021 (lockdown: fast roads, long trips, pickups
spread over many zones), t=1 is 2023 (12.1 -> 10.6 mph median speed, shorter trips, pickups on fewer
zones). Scenarios move t at different paces:

- mild: the real pace, 2021-01 to 2023-01 over 24 months, so consecutive months are as close as real ones;
- traffic-returns: the same change inside 2021, with extra congestion, so a frozen January model is
  visibly worse by summer (the lesson of levels 3 and 4);
- none: every month is January 2021 again (two draws of one distribution).
"""

from __future__ import annotations

import calendar
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from common import synthetic_profile as real
from common.atomic import atomic_path
from common.errors import UsageError
from common.months import parse_month
from common.zones import ZONE_BOROUGHS

SCENARIOS = ("mild", "traffic-returns", "none")
ROWS_PER_MONTH = 70_000
_BOROUGH_CENTRE = {  # miles from Midtown; only distances between zones matter
    "Manhattan": (0.0, 2.0),
    "Bronx": (3.0, 9.0),
    "Brooklyn": (1.0, -6.0),
    "Queens": (7.0, 0.0),
    "Staten Island": (-7.0, -11.0),
    "EWR": (-11.0, -5.0),
    "Unknown": (0.0, 0.0),
    "N/A": (0.0, 0.0),
}


def story_time(month: str, scenario: str) -> float:
    """Where a month stands between lockdown (0) and traffic returned (1)."""
    year, mon = parse_month(month)
    since = (year - 2021) * 12 + mon - 1
    if scenario == "mild":
        return float(np.clip(since / 24, 0, 1))
    if scenario == "traffic-returns":
        return float(np.clip(since / 6, 0, 1))
    if scenario == "none":
        return 0.0
    raise UsageError(f"unknown scenario {scenario!r}", fix=f"use one of: {', '.join(SCENARIOS)}")


@lru_cache(maxsize=8)
def _world(seed: int) -> dict[str, np.ndarray]:
    """What does not change between months: where zones are and how congested each one is."""
    rng = np.random.default_rng([seed, 2021])
    ids = np.arange(1, 266)
    centre = np.array([_BOROUGH_CENTRE[ZONE_BOROUGHS.get(int(i), "Unknown")] for i in ids])
    spread = np.where([ZONE_BOROUGHS.get(int(i)) == "Manhattan" for i in ids], 1.2, 2.5)[:, None]
    xy = centre + rng.normal(0, 1, (265, 2)) * spread
    return {
        "xy": xy,
        "slowness": rng.normal(0, 0.12, 265),  # per-zone log-duration effect: why PU_DO helps
        "background": rng.pareto(1.5, 265) + 0.05,  # popularity of the zones outside the top 30
        "pair_noise_seed": np.array([seed]),
    }


def _popularity(top30: dict[int, float], world: dict[str, np.ndarray]) -> np.ndarray:
    weights = world["background"].copy()
    weights[np.array(list(top30)) - 1] = 0
    weights *= (1 - sum(top30.values())) / weights.sum()
    weights[np.array(list(top30)) - 1] = list(top30.values())
    return weights / weights.sum()


def _mix(a: float | list | np.ndarray, b: float | list | np.ndarray, t: float) -> np.ndarray:
    return (1 - t) * np.asarray(a, dtype=float) + t * np.asarray(b, dtype=float)


def _pickup_times(rng: np.random.Generator, n: int, year: int, mon: int, t: float) -> np.ndarray:
    days = calendar.monthrange(year, mon)[1]
    weekday = np.array([calendar.weekday(year, mon, d + 1) for d in range(days)])
    day_p = _mix(real.LOCKDOWN_WEEKDAYS, real.RETURNED_WEEKDAYS, t)[weekday]
    day = rng.choice(days, n, p=day_p / day_p.sum())
    hour_p = _mix(real.LOCKDOWN_HOURS, real.RETURNED_HOURS, t)
    hour = rng.choice(24, n, p=hour_p / hour_p.sum())
    seconds = day * 86400 + hour * 3600 + rng.integers(0, 3600, n)
    start = np.datetime64(f"{year:04d}-{mon:02d}-01T00:00:00", "us")
    return start + (seconds * 1_000_000).astype("timedelta64[us]")


def _dropoff_zones(rng, pu: np.ndarray, t: float, world) -> np.ndarray:
    """Gravity model: a dropoff zone is likelier the more popular and the nearer it is."""
    pop_do = _popularity(real.LOCKDOWN_DO_TOP30, world) * (1 - t) + _popularity(real.RETURNED_DO_TOP30, world) * t
    reach = 1.5 - 0.4 * t  # miles: trips got shorter as traffic returned
    xy = world["xy"]
    do = np.empty_like(pu)
    same_zone = _mix(real.LOCKDOWN_SAME_ZONE, real.RETURNED_SAME_ZONE, t)
    for zone in np.unique(pu):
        rows = np.flatnonzero(pu == zone)
        dist = np.hypot(*(xy - xy[zone - 1]).T)
        weights = pop_do * np.exp(-dist / reach)
        weights[zone - 1] = 0
        weights *= (1 - same_zone) / weights.sum()
        weights[zone - 1] = same_zone
        do[rows] = rng.choice(265, len(rows), p=weights / weights.sum()) + 1
    return do


def generate_month(month: str, seed: int = 42, scenario: str = "mild", rows: int | None = None) -> pd.DataFrame:
    """One month of green-taxi trips, identical for the same (month, seed, scenario, rows)."""
    t = story_time(month, scenario)
    year, mon = parse_month(month)
    world = _world(seed)
    rng = np.random.default_rng([seed, year, mon, SCENARIOS.index(scenario)])
    days = calendar.monthrange(year, mon)[1]
    n = rows or int(ROWS_PER_MONTH * days / 31 * _mix(1.08, 0.97, t) * rng.uniform(0.97, 1.03))

    pickup = _pickup_times(rng, n, year, mon, t)
    pop_pu = _mix(_popularity(real.LOCKDOWN_PU_TOP30, world), _popularity(real.RETURNED_PU_TOP30, world), t)
    pu = rng.choice(265, n, p=pop_pu / pop_pu.sum()) + 1
    do = _dropoff_zones(rng, pu, t, world)
    in_block = rng.random(n) < _mix(real.LOCKDOWN_NULL_BLOCK, real.RETURNED_NULL_BLOCK, t)

    straight = np.hypot(*(world["xy"][pu - 1] - world["xy"][do - 1]).T)
    distance = np.where(pu == do, rng.lognormal(np.log(0.8), 0.6, n), 1.25 * straight + 0.2)
    distance *= rng.lognormal(0, 0.25, n) * np.where(in_block, 1.6, 1.0)

    congestion = 0.12 * t + (0.25 * t if scenario == "traffic-returns" else 0.0)
    hour = pickup.astype("datetime64[h]").astype(np.int64) % 24
    rush = np.isin(hour, [8, 9, 15, 16, 17, 18]) * 0.08
    log_minutes = (
        1.80
        + 0.66 * np.log(np.maximum(distance, 0.3))
        + world["slowness"][pu - 1]
        + world["slowness"][do - 1] * (1 + 2 * t)
        + rush
        + congestion
        + rng.normal(0, 0.24, n)
    )
    minutes = np.exp(log_minutes)
    distance = np.round(distance, 2)
    distance[rng.random(n) < _mix(real.LOCKDOWN_ZERO_DISTANCE, real.RETURNED_ZERO_DISTANCE, t)] = 0.0
    absurd = rng.random(n) < np.where(in_block, 0.006, 0.0001)
    distance[absurd] = np.round(rng.uniform(1_000, 200_000, absurd.sum()), 2)
    # Meter mistakes: 2.4% under a minute, ~1% over an hour (some left running all day).
    odd = rng.random(n)
    minutes = np.where(odd < 0.024, rng.uniform(0, 1, n), minutes)
    minutes = np.where(odd > 0.99, rng.choice([75.0, 120.0, 1439.0], n) * rng.uniform(0.8, 1.0, n), minutes)
    dropoff = pickup + (minutes * 60e6).astype("timedelta64[us]")
    return _green_frame(rng, pickup, dropoff, pu, do, distance, minutes, in_block)


def _green_frame(rng, pickup, dropoff, pu, do, distance, minutes, in_block) -> pd.DataFrame:
    n = len(pu)
    fare = np.round(3.0 + 2.0 * np.minimum(distance, 60) + 0.5 * np.minimum(minutes, 120), 1)
    tip = np.round(np.where(rng.random(n) < 0.55, fare * rng.uniform(0.1, 0.25, n), 0.0), 2)
    congestion = np.where(rng.random(n) < 0.26, 2.75, 0.0)
    total = np.round(fare + 1.0 + 0.5 + 1.0 + tip + congestion, 2)

    def nullable(values: np.ndarray) -> np.ndarray:
        return np.where(in_block, np.nan, values)

    return pd.DataFrame(
        {
            "VendorID": np.where(in_block | (rng.random(n) < 0.86), 2, 1).astype(np.int64),
            "lpep_pickup_datetime": pickup,
            "lpep_dropoff_datetime": dropoff,
            "store_and_fwd_flag": pd.Series(np.where(rng.random(n) < 0.005, "Y", "N"), dtype=object).where(~in_block),
            "RatecodeID": nullable(np.where(rng.random(n) < 0.97, 1.0, 5.0)),
            "PULocationID": pu.astype(np.int64),
            "DOLocationID": do.astype(np.int64),
            "passenger_count": nullable(
                rng.choice([1.0, 2.0, 3.0, 5.0, 6.0, 0.0], n, p=[0.85, 0.08, 0.015, 0.028, 0.017, 0.01])
            ),
            "trip_distance": distance,
            "fare_amount": fare,
            "extra": np.where(rng.random(n) < 0.5, 1.0, 0.0),
            "mta_tax": np.full(n, 0.5),
            "tip_amount": tip,
            "tolls_amount": np.zeros(n),
            "ehail_fee": np.full(n, np.nan),
            "improvement_surcharge": np.ones(n),
            "total_amount": total,
            "payment_type": nullable(np.where(tip > 0, 1.0, rng.choice([1.0, 2.0, 3.0], n, p=[0.2, 0.75, 0.05]))),
            "trip_type": nullable(np.where(rng.random(n) < 0.98, 1.0, 2.0)),
            "congestion_surcharge": nullable(congestion),
        }
    )


def month_path(folder: Path, month: str, seed: int, scenario: str, rows: int | None) -> Path:
    size = f"-{rows}rows" if rows else ""
    return Path(folder) / "synthetic" / f"{scenario}-seed{seed}{size}" / f"green_tripdata_{month}.parquet"


def ensure_month(folder: Path, month: str, seed: int = 42, scenario: str = "mild", rows: int | None = None) -> Path:
    """The month's parquet file in the workspace cache, generated on first use (atomically)."""
    story_time(month, scenario)  # validates month and scenario before anything is written
    path = month_path(folder, month, seed, scenario, rows)
    if not path.exists():
        frame = generate_month(month, seed, scenario, rows)
        with atomic_path(path) as tmp:
            frame.to_parquet(tmp, index=False)
    return path
