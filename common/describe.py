"""A short, printable summary of a trips file: what `mlops-levels data show` reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from common.data import MAX_MINUTES, MIN_MINUTES, prepare_trips, read_trips
from common.zones import zone_name


def describe_trips(path: Path) -> dict[str, Any]:
    raw = read_trips(path)
    kept = prepare_trips(raw, path)
    top = kept.PULocationID.value_counts(normalize=True).head(3)
    return {
        "rows": len(raw),
        f"kept {MIN_MINUTES}..{MAX_MINUTES} min": len(kept),
        "filtered share": round(1 - len(kept) / len(raw), 4),
        "median duration (min)": round(float(kept.duration.median()), 2),
        "median distance (mi)": round(float(kept.trip_distance.median()), 2),
        "distinct PU_DO pairs": int(kept.groupby(["PULocationID", "DOLocationID"]).ngroups),
        "top pickup zones": ", ".join(f"{zone_name(z)} {s:.1%}" for z, s in top.items()),
    }
