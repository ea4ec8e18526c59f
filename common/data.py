"""Read, validate and prepare a month of TLC trips; every bad file becomes one clear DataError.

Rows that cannot be real trips (a NaN or infinite distance, a zone ID outside the TLC zones, a negative
or 100,000-mile distance) are dropped before training and counted (`Dropped`), so that a report can say
so; a file with no valid row left is refused. Real months hold a few dozen 100,000-mile typos.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from common import schema
from common.errors import DataError
from common.schemas import MAX_DISTANCE_MILES
from common.zones import MAX_LOCATION_ID, MIN_LOCATION_ID

MIN_MINUTES, MAX_MINUTES = 1, 60


@dataclass(frozen=True)
class DataRef:
    """A resolved data argument: where the file is and how to name it in reports."""

    path: Path
    label: str  # the month ("2021-01") or the file name
    month: str | None = None


def read_trips(path: Path, model_columns_only: bool = False) -> pd.DataFrame:
    """Read one parquet or csv file of TLC trips and cast it to the toolkit's schema.

    With `model_columns_only`, only the five columns a model needs are read: a 3M-row month then
    fits in a fraction of the memory.
    """
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", where=str(path), fix="check the path, or pass a month like 2021-01")
    if path.is_dir():
        raise DataError("is a folder, not a data file", where=str(path), fix="pass a .parquet or .csv file")
    available = _read_any(path, header_only=True).columns.tolist()
    color = schema.detect_color(available)
    if color is None:
        raise DataError(
            "missing column lpep_pickup_datetime (or tpep_pickup_datetime)",
            where=str(path),
            fix="pass a green or yellow TLC trip file",
        )
    missing = [c for c in schema.required_columns(color) if c not in available]
    if missing:
        raise DataError(f"missing column {', '.join(missing)}", where=str(path), fix="pass a TLC trip file")
    frame = _read_any(path, columns=list(schema.required_columns(color)) if model_columns_only else None)
    if frame.empty:
        raise DataError("the file has no rows", where=str(path), fix="pass a month that has trips")
    return _cast(frame, schema.SCHEMAS[color], path)


def _read_any(path: Path, columns: list[str] | None = None, header_only: bool = False) -> pd.DataFrame:
    suffixes = "".join(path.suffixes[-2:]).lower()
    try:
        if suffixes.endswith((".csv", ".csv.gz")):
            return pd.read_csv(path, low_memory=False, usecols=columns, nrows=0 if header_only else None)
        # Through a Python file object: pyarrow cannot encode a file name that is not UTF-8 (a name from
        # another system), and would call a good file "not a valid parquet".
        with open(path, "rb") as handle:
            if header_only:
                import pyarrow.parquet as pq

                return pq.read_schema(handle).empty_table().to_pandas()
            return pd.read_parquet(handle, columns=columns)
    except pd.errors.EmptyDataError:
        raise DataError("the file is empty", where=str(path), fix="download or generate it again") from None
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        reason = "is empty" if path.stat().st_size == 0 else "is truncated or not a valid parquet/csv file"
        raise DataError(
            f"the file {reason} ({type(exc).__name__})",
            where=str(path),
            fix="delete it and download or generate it again",
        ) from None


def _cast(frame: pd.DataFrame, dtypes: dict[str, str], path: Path) -> pd.DataFrame:
    for column, dtype in dtypes.items():
        if column not in frame.columns or str(frame[column].dtype) == dtype:
            continue
        frame[column] = _cast_column(frame[column], column, dtype, path)
    return frame


def _cast_column(series: pd.Series, column: str, dtype: str, path: Path) -> pd.Series:
    try:
        if dtype.startswith("datetime64"):
            if pd.api.types.is_numeric_dtype(series):
                raise TypeError("numbers are not timestamps")
            return pd.to_datetime(series).astype(dtype)
        if dtype == "object":
            return series.astype("object")
        numeric = pd.to_numeric(series) if series.dtype == object else series
        if dtype == "int64" and numeric.isna().any():
            raise ValueError("null IDs")
        return numeric.astype(dtype)
    except (TypeError, ValueError):
        sample = series.dropna().astype(str).head(1).tolist()
        raise DataError(
            f"column {column} has dtype {series.dtype}, expected {dtype}"
            + (f" (e.g. {sample[0]!r})" if sample else ""),
            where=str(path),
            fix="pass an unmodified TLC file",
        ) from None


@dataclass(frozen=True)
class Dropped:
    """Rows left out before training, by reason. A row is counted once, under its first reason."""

    non_finite_distance: int = 0  # NaN or infinite
    unknown_zone: int = 0  # a pickup or dropoff ID outside the TLC zones
    absurd_distance: int = 0  # negative, or longer than MAX_DISTANCE_MILES
    duration: int = 0  # the course's filter: outside MIN_MINUTES..MAX_MINUTES

    @property
    def invalid(self) -> int:
        """Rows that cannot be real trips (the duration filter aside)."""
        return self.non_finite_distance + self.unknown_zone + self.absurd_distance

    def describe(self) -> str:
        labels = {
            "non_finite_distance": "with a NaN or infinite distance",
            "unknown_zone": f"with a zone ID outside {MIN_LOCATION_ID}-{MAX_LOCATION_ID}",
            "absurd_distance": f"with a distance below 0 or above {MAX_DISTANCE_MILES:g} miles",
            "duration": f"outside {MIN_MINUTES}..{MAX_MINUTES} minutes",
        }
        parts = [f"{count:,} {labels[name]}" for name, count in asdict(self).items() if count]
        return ", ".join(parts) or "none"


@dataclass(frozen=True)
class PreparedTrips:
    trips: pd.DataFrame
    dropped: Dropped


def prepare_trips(frame: pd.DataFrame, source: str | Path = "data") -> pd.DataFrame:
    """Add `duration` in minutes, drop impossible rows, keep trips of 1 to 60 minutes, as the course does."""
    return prepare_trips_counted(frame, source).trips


def prepare_trips_counted(frame: pd.DataFrame, source: str | Path = "data") -> PreparedTrips:
    """`prepare_trips`, and how many rows were dropped and why, for a report to show."""
    color = schema.detect_color(list(frame.columns)) or "green"
    minutes = (frame[schema.DROPOFF[color]] - frame[schema.PICKUP[color]]).dt.total_seconds().to_numpy() / 60
    distance = frame[schema.DISTANCE].to_numpy(dtype="float64")
    finite = np.isfinite(distance)
    known_zones = np.logical_and.reduce(
        [frame[c].between(MIN_LOCATION_ID, MAX_LOCATION_ID).to_numpy() for c in schema.LOCATION_COLUMNS]
    )
    with np.errstate(invalid="ignore"):
        plausible = (distance >= 0) & (distance <= MAX_DISTANCE_MILES)
    valid = finite & known_zones & plausible
    keep = valid & (minutes >= MIN_MINUTES) & (minutes <= MAX_MINUTES)
    dropped = Dropped(
        non_finite_distance=int((~finite).sum()),
        unknown_zone=int((finite & ~known_zones).sum()),
        absurd_distance=int((finite & known_zones & ~plausible).sum()),
        duration=int((valid & ~keep).sum()),
    )
    if not valid.any():
        raise DataError(
            f"no valid trip in {len(frame):,} rows: {dropped.describe()}",
            where=str(source),
            fix=f"pass TLC trips (zones {MIN_LOCATION_ID}-{MAX_LOCATION_ID}, distances 0-{MAX_DISTANCE_MILES:g} miles)",
        )
    if not keep.any():
        raise DataError(
            f"no trip of {MIN_MINUTES}..{MAX_MINUTES} minutes is left after filtering",
            where=str(source),
            fix="pass a month with real trips",
        )
    # One copy of the kept rows, no more: a 3M-row month must train in well under 2 GB.
    kept = frame.loc[keep]
    kept.index = pd.RangeIndex(len(kept))
    with pd.option_context("mode.chained_assignment", None):  # `kept` is already a copy, not a view
        kept["duration"] = minutes[keep]
    return PreparedTrips(kept, dropped)


def load_prepared(path: Path) -> pd.DataFrame:
    """A file's trips, ready for a model: the model's columns, `duration` added, 1..60 minutes kept."""
    return prepare_trips(read_trips(path, model_columns_only=True), path)


def fingerprint(path: Path) -> str:
    """sha256 of the file's bytes: names the exact data a model was trained on."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
