"""One synthetic trip from its zones: when it starts, how far and how long it goes, what the meter records.

The physics of `common.synthetic`, kept apart from the story (which months look like what). Durations
follow the real fit of log(minutes) on log(miles) at the story's point `t`, plus what the real fit
leaves unexplained: the pickup hour, how slow the zones and the pair are, and noise, sized so that the
residual spread is the real one.
"""

from __future__ import annotations

import calendar

import numpy as np
import pandas as pd

from common import synthetic_profile as real

ZONE_SD, PAIR_SD = 0.1, 0.07  # spread of the zone and pair slowness drawn by `common.synthetic.world`
# Traffic-returns sharpens the real change so that a frozen model notices: by t=1 congestion has come back
# unevenly, by zone (log-minutes spread between pairs, 4x the real one) and by hour (rush hours slower,
# the rest of the day a little faster), so a model that learnt January's pairs is wrong about many of them.
CONGESTION_SD = 0.35
RUSH_HOURS, RUSH_SLOWDOWN, OFF_PEAK_SLOWDOWN = (7, 8, 9, 16, 17, 18), 0.25, -0.05
SAME_ZONE_MILES = 0.83  # median of a ride that stays in its zone
ODOMETER_FAILED_LONGER = 1.5  # rides recorded with trip_distance 0 run long (2023: median 17 vs 11.5 min)
DAY_LONG = 0.28  # share of the over-an-hour records that are meters left running for most of a day


def mix(a: object, b: object, t: float) -> np.ndarray:
    """Linear interpolation between a lockdown value (t=0) and a traffic-returned value (t=1)."""
    return (1 - t) * np.asarray(a, dtype=float) + t * np.asarray(b, dtype=float)


def pickup_times(rng: np.random.Generator, n: int, year: int, mon: int, t: float) -> np.ndarray:
    """Pickup timestamps with the real weekday and hour-of-day profiles at t."""
    days = calendar.monthrange(year, mon)[1]
    weekday = np.array([calendar.weekday(year, mon, d + 1) for d in range(days)])
    day_p = mix(real.LOCKDOWN_WEEKDAYS, real.RETURNED_WEEKDAYS, t)[weekday]
    day = rng.choice(days, n, p=day_p / day_p.sum())
    hour_p = mix(real.LOCKDOWN_HOURS, real.RETURNED_HOURS, t)
    hour = rng.choice(24, n, p=hour_p / hour_p.sum())
    seconds = day * 86400 + hour * 3600 + rng.integers(0, 3600, n)
    start = np.datetime64(f"{year:04d}-{mon:02d}-01T00:00:00", "us")
    return start + (seconds * 1_000_000).astype("timedelta64[us]")


def _log_minutes(
    rng: np.random.Generator,
    distance: np.ndarray,
    hour: np.ndarray,
    pu: np.ndarray,
    do: np.ndarray,
    t: float,
    world: dict[str, np.ndarray],
) -> np.ndarray:
    x = np.log(np.maximum(distance, 0.05))
    c2, c1, c0 = mix(real.LOCKDOWN_DURATION_FIT, real.RETURNED_DURATION_FIT, t)
    hour_effect = mix(real.LOCKDOWN_HOUR_EFFECT, real.RETURNED_HOUR_EFFECT, t)
    hour_p = mix(real.LOCKDOWN_HOURS, real.RETURNED_HOURS, t)
    explained = 2 * ZONE_SD**2 + PAIR_SD**2 + np.average(hour_effect**2, weights=hour_p)
    noise_sd = np.sqrt(max(float(mix(real.LOCKDOWN_RESIDUAL_SD, real.RETURNED_RESIDUAL_SD, t)) ** 2 - explained, 0.01))
    # Centred on the month's zone mix, so that the level of durations stays the real fit's.
    by_pickup, by_dropoff = world["zone_slowness"]
    by_pickup = by_pickup - by_pickup @ mix(real.LOCKDOWN_PU_SHARES, real.RETURNED_PU_SHARES, t)
    by_dropoff = by_dropoff - by_dropoff @ mix(real.LOCKDOWN_DO_SHARES, real.RETURNED_DO_SHARES, t)
    slowness = by_pickup[pu - 1] + by_dropoff[do - 1] + world["pair_slowness"][pu - 1, do - 1]
    log_minutes: np.ndarray = c2 * x**2 + c1 * x + c0 + hour_effect[hour] + slowness + rng.normal(0, noise_sd, len(x))
    return log_minutes


def drive(
    rng: np.random.Generator,
    pickup: np.ndarray,
    pu: np.ndarray,
    do: np.ndarray,
    in_block: np.ndarray,
    t: float,
    world: dict[str, np.ndarray],
    wobble: float = 0.0,
    uneven_congestion: bool = False,
) -> dict[str, np.ndarray]:
    """Distance, minutes and the null block of each trip; `do` is updated in place for meter glitches."""
    n = len(pu)
    route = np.where(pu == do, rng.lognormal(np.log(SAME_ZONE_MILES), 0.4, n), world["miles"][pu - 1, do - 1])
    distance = route * np.exp(rng.laplace(0, 0.2, n))
    hour = pickup.astype("datetime64[h]").astype(np.int64) % 24
    log_minutes = _log_minutes(rng, distance, hour, pu, do, t, world) + wobble
    if uneven_congestion:
        # Centred on where rides go once traffic is back, so the seed decides which zones, not how much.
        by_pickup, by_dropoff = world["congestion"]
        by_pickup = by_pickup - by_pickup @ np.asarray(real.RETURNED_PU_SHARES)
        by_dropoff = by_dropoff - by_dropoff @ np.asarray(real.RETURNED_DO_SHARES)
        hit = (by_pickup[pu - 1] + by_dropoff[do - 1]) / np.sqrt(2)
        log_minutes += t * (CONGESTION_SD * hit + np.where(np.isin(hour, RUSH_HOURS), RUSH_SLOWDOWN, OFF_PEAK_SLOWDOWN))
    minutes = np.exp(log_minutes)
    distance = np.round(distance, 2)
    no_odometer = rng.random(n) < mix(real.LOCKDOWN_ZERO_DISTANCE, real.RETURNED_ZERO_DISTANCE, t)
    distance[no_odometer] = 0.0
    minutes[no_odometer] *= ODOMETER_FAILED_LONGER
    absurd_in_block = mix(real.LOCKDOWN_ABSURD_IN_BLOCK, real.RETURNED_ABSURD_IN_BLOCK, t)
    absurd = rng.random(n) < np.where(in_block, absurd_in_block, 0.00002)
    distance[absurd] = np.round(rng.uniform(1_000, 200_000, absurd.sum()), 2)
    _meter_glitches(rng, minutes, distance, pu, do)
    return {"distance": distance, "minutes": minutes, "in_block": in_block}


def _meter_glitches(
    rng: np.random.Generator, minutes: np.ndarray, distance: np.ndarray, pu: np.ndarray, do: np.ndarray
) -> None:
    """Records outside 1..60 minutes, as in the real month: mostly zero-length rides under a minute."""
    n = len(pu)
    odd = rng.random(n)
    under = odd < real.UNDER_A_MINUTE
    minutes[under] = rng.random(under.sum()) ** 2
    stayed = under & (rng.random(n) < 0.84)
    do[stayed] = pu[stayed]
    distance[under & (rng.random(n) < 0.67)] = 0.0
    natural = (minutes > 60).mean()
    over = odd > 1 - max(real.OVER_AN_HOUR - natural, 0)
    day_long = rng.random(n) < DAY_LONG
    minutes[over] = np.where(day_long, rng.uniform(1300, 1440, n), rng.uniform(61, 150, n))[over]


def green_frame(
    rng: np.random.Generator, pickup: np.ndarray, pu: np.ndarray, do: np.ndarray, trips: dict[str, np.ndarray]
) -> pd.DataFrame:
    """The TLC green schema around the trips: fares, payment, and the null block."""
    n, distance, minutes, in_block = len(pu), trips["distance"], trips["minutes"], trips["in_block"]
    dropoff = pickup + (minutes * 60e6).astype("timedelta64[us]")
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
