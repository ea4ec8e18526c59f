"""Turn a data argument (a month like 2021-01, or a path) into a file on disk."""

from __future__ import annotations

from pathlib import Path

from common import synthetic
from common.config import Settings
from common.data import DataRef
from common.download import ProgressHook, download, trip_url
from common.errors import DataError, UsageError
from common.months import is_month


def tlc_month_path(settings: Settings, month: str) -> Path:
    return settings.data_dir / "tlc" / f"{settings.color}_tripdata_{month}.parquet"


def folder_month_path(folder: Path, color: str, month: str) -> Path:
    """A month from --data-dir, named as the TLC names its files; a missing month is one clear line."""
    path = folder / f"{color}_tripdata_{month}.parquet"
    if not path.is_file():
        raise DataError(
            f"no file for {month} in the data folder",
            where=str(path),
            fix=f"add {path.name} to {folder}, or choose months that are there",
        )
    return path


def resolve_data(spec: str, settings: Settings, progress: ProgressHook | None = None) -> DataRef:
    """A month comes from the configured source (synthetic by default, offline); a path is used as is."""
    spec = str(spec).strip()
    if is_month(spec):
        if settings.data_folder is not None:
            return DataRef(path=folder_month_path(settings.data_folder, settings.color, spec), label=spec, month=spec)
        if settings.source == "synthetic":
            path = synthetic.ensure_month(
                settings.data_dir, spec, settings.seed, settings.scenario, settings.synthetic_rows
            )
        else:
            url = trip_url(settings.tlc_base_url, settings.color, spec)
            path = download(url, tlc_month_path(settings, spec), progress)
        return DataRef(path=path, label=spec, month=spec)
    path = Path(spec).expanduser()
    if path.suffix.lower() not in (".parquet", ".csv", ".gz") and not path.exists():
        raise UsageError(
            f"{spec!r} is neither a month nor a data file",
            fix="write a month as YYYY-MM (e.g. 2021-01) or give a .parquet/.csv path",
        )
    return DataRef(path=path.absolute(), label=path.name)


def describe_source(settings: Settings) -> str:
    """Where this run's months come from, in words a report can print (never "mild scenario" for real data)."""
    if settings.data_folder is not None:
        return f"real TLC {settings.color} months from {settings.data_folder}"
    if settings.source == "tlc":
        return f"real TLC {settings.color} months (downloaded from the TLC)"
    return f"synthetic months, {settings.scenario} scenario, seed {settings.seed}"
