"""Checks of the level-3 exercises on serving two versions: stable A/B routing and the drift report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from teaching.exercises.checking import SMALL_ROWS, CheckContext, check, expect
from teaching.exercises.checks import fixtures

# stable-ab ------------------------------------------------------------------------------------------

RIDES = [f"2021-03-{i}" for i in range(20_000)]


def _variants(*weights: float) -> list[Any]:
    from taxi_duration.ab import Variant

    return [Variant(f"v{i}", str(i), weight) for i, weight in enumerate(weights)]


@check("stable-ab", "a bucket is a number in [0, 1) that spreads evenly")
def bucket_range(ctx: CheckContext) -> None:
    from taxi_duration.ab import bucket

    points = [bucket(ride) for ride in RIDES]
    expect(all(isinstance(p, float) and 0 <= p < 1 for p in points), "bucket() should return floats in [0, 1)")
    share = sum(p < 0.5 for p in points) / len(points)
    expect(abs(share - 0.5) < 0.02, f"half of the rides should fall below 0.5, {share:.1%} did")


@check("stable-ab", "the same ride gets the same bucket in another process")
def stable_across_processes(ctx: CheckContext) -> None:
    from taxi_duration.ab import bucket

    code = "import json, sys; from taxi_duration.ab import bucket; print(json.dumps([bucket(r) for r in sys.argv[1:]]))"
    here = [bucket(ride) for ride in RIDES[:20]]
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        ran = subprocess.run(
            [sys.executable, "-c", code, *RIDES[:20]], cwd=ctx.copy, env=env, capture_output=True, text=True
        )
        expect(ran.returncode == 0, f"bucket() failed in a fresh process: {ran.stderr.strip()[-200:]}")
        expect(
            json.loads(ran.stdout) == here, "another process gives other buckets for the same rides (Python's hash()?)"
        )


@check("stable-ab", "the split follows the weights")
def split_follows_weights(ctx: CheckContext) -> None:
    from taxi_duration.ab import choose_variant

    for weights in ((0.5, 0.5), (0.9, 0.1)):
        variants = _variants(*weights)
        second = sum(choose_variant(variants, ride) is variants[1] for ride in RIDES) / len(RIDES)
        expect(abs(second - weights[1]) < 0.02, f"with weights {weights}, {second:.1%} of rides reached the second")
    single = _variants(1.0)
    expect(all(choose_variant(single, r) is single[0] for r in RIDES[:500]), "one variant should get every ride")


@check("stable-ab", "weights that add up to 0.999… still route every ride")
def rounding(ctx: CheckContext) -> None:
    from taxi_duration.ab import choose_variant

    variants = _variants(0.4995, 0.4995)
    chosen = [choose_variant(variants, ride) for ride in RIDES]
    expect(all(v in variants for v in chosen), "every ride should reach one of the variants, even in the last 0.1%")
    again = _variants(0.3, 0.7)
    expect(
        [choose_variant(again, r).name for r in RIDES[:300]] == [choose_variant(again, r).name for r in RIDES[:300]],
        "the same ride should reach the same variant every time",
    )


# drift-report ---------------------------------------------------------------------------------------


def _traffic() -> tuple[Any, Any]:
    """Reference and served: two halves of one month, with a prediction column and a variant."""
    trips = fixtures.month("2021-01", rows=2 * SMALL_ROWS).copy()
    trips["prediction"] = 3.0 + 4.0 * trips.trip_distance
    trips["variant"] = "champion"
    half = len(trips) // 2
    return trips.iloc[:half].reset_index(drop=True), trips.iloc[half:].reset_index(drop=True)


def _monitor(ctx: CheckContext, label: str, longer_trips: bool) -> Any:
    from taxi_duration.monitor import run_monitoring

    reference, served = _traffic()
    if longer_trips:
        served["trip_distance"] *= 1.6
        served["prediction"] = 3.0 + 4.0 * served.trip_distance
    return ctx.once(label, lambda: run_monitoring(served, reference, ctx.tmp / "reports", label))


@check("drift-report", "the drift report is saved as HTML and JSON")
def report_saved(ctx: CheckContext) -> None:
    result = _monitor(ctx, "2021-02", longer_trips=True)
    for suffix in ("html", "json"):
        path = ctx.tmp / "reports" / f"drift-2021-02.{suffix}"
        expect(path.is_file(), f"no drift report at reports/drift-2021-02.{suffix}")
        expect(str(path) in result.reports.values(), f"the result's reports should list {path.name}")


@check("drift-report", "longer trips are flagged as drift")
def drift_found(ctx: CheckContext) -> None:
    result = _monitor(ctx, "2021-02", longer_trips=True)
    expect(
        set(result.drift_scores) >= {"trip_distance", "prediction"}, f"scores per column missing: {result.drift_scores}"
    )
    expect("trip_distance" in result.drifted_columns, "trips 60% longer should put trip_distance among drifted columns")
    expect(result.drift_share > 0, "with drifted columns, the share of drifted columns should be above 0")


@check("drift-report", "the same traffic is not called drift")
def no_false_alarm(ctx: CheckContext) -> None:
    result = _monitor(ctx, "2021-03", longer_trips=False)
    flagged = {"trip_distance", "prediction"} & set(result.drifted_columns)
    expect(not flagged, f"two halves of one month should not drift on distance or prediction, got {sorted(flagged)}")
    share = len(result.drifted_columns) / 4
    expect(abs(result.drift_share - share) < 1e-6, f"drift_share {result.drift_share} is not drifted/all ({share})")
