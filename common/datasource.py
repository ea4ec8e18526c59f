"""Where months come from is a `DataSource`: the embedded synthetic generator by default (offline), the
TLC's own files (downloaded once into the cache), or a folder of TLC files. A project reads it from its
environment, as it reads MLFLOW_TRACKING_URI:

    TAXI_DATA_CACHE      where generated and downloaded months are kept (default: ./data)
    TAXI_DATA_SOURCE     synthetic (default) or tlc
    TAXI_DATA_DIR        a folder of real months named as the TLC names them (green_tripdata_2023-01.parquet)
    TAXI_COLOR           green (default) or yellow
    TAXI_SCENARIO        the synthetic months' story: mild (default) or traffic-returns
    TAXI_SEED            the synthetic months' seed (default: 42)
    TAXI_SYNTHETIC_ROWS  rows per synthetic month (default: the realistic ~70k; tests use a few thousand)
    TAXI_TLC_BASE_URL    where TLC files are downloaded from
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from common.errors import UsageError

TLC_BASE_URL = "https://d37ci6vzurychx.cloudfront.net"
SOURCES = ("synthetic", "tlc")
COLORS = ("green", "yellow")
ENV_PREFIX = "TAXI_"


@dataclass(frozen=True)
class DataSource:
    """Where the months of a run come from; `DataSource.from_env()` is what a level's commands use."""

    cache: Path = Path("data")
    source: str = "synthetic"
    folder: Path | None = None
    color: str = "green"
    scenario: str = "mild"
    seed: int = 42
    synthetic_rows: int | None = None
    tlc_base_url: str = TLC_BASE_URL

    def __post_init__(self) -> None:
        object.__setattr__(self, "cache", Path(self.cache).expanduser().absolute())
        if self.folder is not None:
            object.__setattr__(self, "folder", Path(self.folder).expanduser().absolute())
        if self.source not in SOURCES:
            raise UsageError(
                f"unknown data source {self.source!r}",
                fix=f"use one of: {', '.join(SOURCES)} (or pass a file path as the data)",
            )
        if self.color not in COLORS:
            raise UsageError(f"unknown taxi color {self.color!r}", fix="use green or yellow")

    @classmethod
    def from_env(cls) -> DataSource:
        def env(name: str) -> str | None:
            return os.environ.get(f"{ENV_PREFIX}{name}") or None

        try:
            seed, rows = int(env("SEED") or "42"), (int(v) if (v := env("SYNTHETIC_ROWS")) else None)
        except ValueError:
            raise UsageError(
                f"{ENV_PREFIX}SEED and {ENV_PREFIX}SYNTHETIC_ROWS must be whole numbers", fix="unset or correct them"
            ) from None
        return cls(
            cache=Path(env("DATA_CACHE") or "data"),
            source=env("DATA_SOURCE") or "synthetic",
            folder=Path(v) if (v := env("DATA_DIR")) else None,
            color=env("COLOR") or "green",
            scenario=env("SCENARIO") or "mild",
            seed=seed,
            synthetic_rows=rows,
            tlc_base_url=env("TLC_BASE_URL") or TLC_BASE_URL,
        )

    def to_env(self) -> dict[str, str]:
        """The environment that makes `from_env()` in another process give this source back."""
        values = {
            "DATA_CACHE": str(self.cache),
            "DATA_SOURCE": self.source,
            "DATA_DIR": str(self.folder) if self.folder else "",
            "COLOR": self.color,
            "SCENARIO": self.scenario,
            "SEED": str(self.seed),
            "SYNTHETIC_ROWS": str(self.synthetic_rows) if self.synthetic_rows else "",
            "TLC_BASE_URL": self.tlc_base_url,
        }
        return {f"{ENV_PREFIX}{name}": value for name, value in values.items()}
