"""Turn a data argument (a month like 2021-01, or a path) into a file on disk, from a DataSource."""

from __future__ import annotations

from pathlib import Path

from common import synthetic
from common.data import DataRef
from common.datasource import DataSource
from common.download import ProgressHook, download, trip_url
from common.errors import DataError, UsageError
from common.months import is_month


def tlc_month_path(source: DataSource, month: str) -> Path:
    return source.cache / "tlc" / f"{source.color}_tripdata_{month}.parquet"


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


def resolve_data(spec: str, source: DataSource, progress: ProgressHook | None = None) -> DataRef:
    """A month comes from the configured source (synthetic by default, offline); a path is used as is."""
    spec = str(spec).strip()
    if is_month(spec):
        if source.folder is not None:
            return DataRef(path=folder_month_path(source.folder, source.color, spec), label=spec, month=spec)
        if source.source == "synthetic":
            path = synthetic.ensure_month(source.cache, spec, source.seed, source.scenario, source.synthetic_rows)
        else:
            url = trip_url(source.tlc_base_url, source.color, spec)
            path = download(url, tlc_month_path(source, spec), progress)
        return DataRef(path=path, label=spec, month=spec)
    path = Path(spec).expanduser()
    if path.suffix.lower() not in (".parquet", ".csv", ".gz") and not path.exists():
        raise UsageError(
            f"{spec!r} is neither a month nor a data file",
            fix="write a month as YYYY-MM (e.g. 2021-01) or give a .parquet/.csv path",
        )
    return DataRef(path=path.absolute(), label=path.name)


def describe_source(source: DataSource) -> str:
    """Where this run's months come from, in words a report can print (never "mild scenario" for real data)."""
    if source.folder is not None:
        return f"real TLC {source.color} months from {source.folder}"
    if source.source == "tlc":
        return f"real TLC {source.color} months (downloaded from the TLC)"
    return f"synthetic months, {source.scenario} scenario, seed {source.seed}"
