"""`mlops-levels data generate|fetch|show`: synthetic months, real TLC downloads, a month's summary."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from common.months import month_range
from teaching.infra.config import Settings


def generate(settings: Settings, months: str) -> list[dict[str, Any]]:
    from common.synthetic import ensure_month

    written = []
    for month in month_range(months):
        path = ensure_month(settings.data_dir, month, settings.seed, settings.scenario, settings.synthetic_rows)
        written.append(
            {
                "month": month,
                "scenario": settings.scenario,
                "seed": settings.seed,
                "file": str(path),
                "MB": round(path.stat().st_size / 1e6, 2),
            }
        )
    return written


def fetch(settings: Settings, months: str, progress_bar: Callable[[str], Any]) -> list[dict[str, Any]]:
    from common.download import download, trip_url
    from common.sources import tlc_month_path

    fetched = []
    for month in month_range(months):
        target = tlc_month_path(settings.data, month)
        with progress_bar(f"{settings.color} {month}") as hook:
            download(trip_url(settings.tlc_base_url, settings.color, month), target, hook)
        fetched.append({"month": month, "file": str(target)})
    return fetched


def show(settings: Settings, data: str) -> dict[str, Any]:
    from common.describe import describe_trips
    from common.sources import resolve_data

    ref = resolve_data(data, settings.data)
    return {"label": ref.label, "path": str(ref.path), "summary": describe_trips(ref.path)}
