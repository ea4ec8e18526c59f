"""How much a month of trips looks like another: the figures that say whether synthetic months pass for real.

Every statistic is measured on the rows a model sees (`common.data.prepare_trips`: trips of 1..60
minutes), except `share_outside`, which is about the raw file. numpy and pandas only: the KS statistic
and Spearman's rho are computed here rather than imported from scipy (a test checks they agree).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from common.data import MAX_MINUTES, MIN_MINUTES, prepare_trips
from common.months import month_range

ZONE_COUNT = 265
PSI_EPSILON = 1e-4  # a zone nobody uses counts as 0.01% of trips, so that PSI stays finite
_PAIR_BASE = 1000


def ks_statistic(a: Any, b: Any) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the two empirical CDFs (0..1)."""
    a, b = np.sort(np.asarray(a, dtype=float)), np.sort(np.asarray(b, dtype=float))
    values = np.concatenate([a, b])
    gap = np.searchsorted(a, values, side="right") / len(a) - np.searchsorted(b, values, side="right") / len(b)
    return float(np.abs(gap).max())


def zone_shares(zones: Any) -> np.ndarray:
    """Share of trips in each of the 265 zones (zone 1 first)."""
    counts = np.bincount(np.asarray(zones, dtype=np.int64), minlength=ZONE_COUNT + 1)[1 : ZONE_COUNT + 1]
    shares: np.ndarray = counts / max(counts.sum(), 1)
    return shares


def psi(a: Any, b: Any, epsilon: float = PSI_EPSILON) -> float:
    """Population stability index of two samples of zone IDs over the 265 zones.

    PSI = sum over zones of (p - q) * ln(p / q), with p and q the zones' shares of trips in each sample,
    each share raised to at least `epsilon`. Symmetric; below 0.1 is usually read as "no real shift".
    """
    p, q = (np.maximum(zone_shares(x), epsilon) for x in (a, b))
    return float(np.sum((p - q) * np.log(p / q)))


def spearman(a: Any, b: Any) -> float:
    """Spearman's rank correlation: Pearson's correlation of the ranks (ties get their average rank)."""
    ranks_a = pd.Series(np.asarray(a, dtype=float)).rank().to_numpy()
    ranks_b = pd.Series(np.asarray(b, dtype=float)).rank().to_numpy()
    return float(np.corrcoef(ranks_a, ranks_b)[0, 1])


def distinct_pairs(trips: pd.DataFrame) -> int:
    """How many different pickup -> drop-off zone pairs occur (the model's PU_DO feature has one column each)."""
    return int(np.unique(trips.PULocationID.to_numpy() * _PAIR_BASE + trips.DOLocationID.to_numpy()).size)


def top_zone_share(zones: Any, top: int = 30) -> float:
    """Share of trips in the `top` busiest zones: how concentrated pickups are (2021-01: 0.62, 2023-01: 0.90)."""
    return float(np.sort(zone_shares(zones))[::-1][:top].sum())


def share_outside(raw: pd.DataFrame) -> float:
    """Share of a raw month's rows whose meter says under 1 or over 60 minutes (what prepare_trips drops)."""
    minutes = (raw.lpep_dropoff_datetime - raw.lpep_pickup_datetime).dt.total_seconds().to_numpy() / 60
    return float(((minutes < MIN_MINUTES) | (minutes > MAX_MINUTES)).mean())


def describe(raw: pd.DataFrame) -> dict[str, float]:
    """One month on its own: medians, the duration-distance link, pairs, concentration, the filter."""
    trips = prepare_trips(raw)
    return {
        "rows": len(raw),
        "median_duration": float(trips.duration.median()),
        "median_distance": float(trips.trip_distance.median()),
        "spearman_duration_distance": spearman(trips.duration, trips.trip_distance),
        "distinct_pairs": distinct_pairs(trips),
        "top30_pickup_share": top_zone_share(trips.PULocationID),
        "share_outside_1_60": share_outside(raw),
    }


def compare_months(synthetic: pd.DataFrame, real: pd.DataFrame) -> dict[str, float]:
    """How far a synthetic raw month is from a real one: KS, PSI, and each side's own figures.

    Keys: ks_duration, ks_distance (KS on kept trips), psi_pu, psi_do (PSI of the zones of kept trips),
    pairs_ratio (synthetic distinct pairs / real), and for every figure of `describe` the two values
    (`<name>_synthetic`, `<name>_real`).
    """
    syn, ref = prepare_trips(synthetic), prepare_trips(real)
    figures = {
        "ks_duration": ks_statistic(syn.duration, ref.duration),
        "ks_distance": ks_statistic(syn.trip_distance, ref.trip_distance),
        "psi_pu": psi(syn.PULocationID, ref.PULocationID),
        "psi_do": psi(syn.DOLocationID, ref.DOLocationID),
        "pairs_ratio": distinct_pairs(syn) / distinct_pairs(ref),
    }
    for side, frame in (("synthetic", synthetic), ("real", real)):
        figures |= {f"{name}_{side}": value for name, value in describe(frame).items()}
    return figures


def month_to_month(months: Mapping[str, pd.DataFrame]) -> list[dict[str, Any]]:
    """For each pair of consecutive raw months (in the mapping's order): KS of duration and distance, PSI of zones."""
    prepared = {month: prepare_trips(raw) for month, raw in months.items()}
    names = list(prepared)
    steps = []
    for before, after in zip(names, names[1:], strict=False):
        a, b = prepared[before], prepared[after]
        steps.append(
            {
                "from": before,
                "to": after,
                "ks_duration": ks_statistic(a.duration, b.duration),
                "ks_distance": ks_statistic(a.trip_distance, b.trip_distance),
                "psi_pu": psi(a.PULocationID, b.PULocationID),
                "psi_do": psi(a.DOLocationID, b.DOLocationID),
                "median_duration": float(b.duration.median()),
            }
        )
    return steps


def frozen_vs_retrained(prepared: Mapping[str, pd.DataFrame], window: int = 2) -> list[dict[str, Any]]:
    """The lesson of levels 3-4 in numbers: RMSE per month of a model frozen on the first month, and of
    one retrained on the `window` months just before (linear regression on PU_DO + distance).

    `prepared` maps consecutive months ("2021-01", ...) to prepared trips; every month after the first
    is evaluated. Imports sklearn (through common.model) only when called.
    """
    from common.model import evaluate, train

    names = list(prepared)
    frozen = train(prepared[names[0]])
    curve = []
    for index, month in enumerate(names[1:], start=1):
        recent = names[max(0, index - window) : index]
        retrained = train(pd.concat([prepared[m] for m in recent], ignore_index=True))
        curve.append(
            {
                "month": month,
                "frozen_rmse": evaluate(frozen, prepared[month]),
                "retrained_rmse": evaluate(retrained, prepared[month]),
                "trained_on": f"{recent[0]}..{recent[-1]}" if len(recent) > 1 else recent[0],
            }
        )
    return curve


def months_between(first: str, last: str) -> list[str]:
    """`2021-01`, `2021-03` -> the three months in order (a convenience for the callers above)."""
    return month_range(f"{first}..{last}")
