"""The 265 TLC taxi zones, from the lookup table shipped with the package (no download needed)."""

from __future__ import annotations

import csv
from importlib import resources

_LOOKUP = "taxi_zone_lookup.csv"


def _read() -> list[dict[str, str]]:
    # keep_default_na matters in pandas; with csv the zone "NA" and service zone "N/A" stay strings anyway
    text = resources.files("common").joinpath("resources", _LOOKUP).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


ZONES: dict[int, dict[str, str]] = {int(row["LocationID"]): row for row in _read()}
ZONE_BOROUGHS: dict[int, str] = {zone_id: row["Borough"] for zone_id, row in ZONES.items()}
MIN_LOCATION_ID, MAX_LOCATION_ID = min(ZONES), max(ZONES)


def zone_name(location_id: int) -> str:
    row = ZONES.get(int(location_id))
    return f"{row['Borough']}/{row['Zone']}" if row else f"zone {location_id}"
