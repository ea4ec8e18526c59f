"""Runtime settings: one object, read from MLOPS_LEVELS_* environment variables, no side effects."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from common.errors import UsageError

TLC_BASE_URL = "https://d37ci6vzurychx.cloudfront.net"
SOURCES = ("synthetic", "tlc")
COLORS = ("green", "yellow")
MODEL_NAME = "nyc-taxi-duration"
# A student name becomes part of MLflow experiment and model names and of a login: keep it plain.
STUDENT_NAME = re.compile(r"[a-z][a-z0-9-]{0,31}")


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"MLOPS_LEVELS_{name}")
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    """Everything a run may vary without touching code. Teaching metadata lives in level.toml instead."""

    workspace: Path = field(default_factory=lambda: Path(_env("WORKSPACE", "mlops-workspace")))
    source: str = field(default_factory=lambda: _env("SOURCE", "synthetic"))
    color: str = field(default_factory=lambda: _env("COLOR", "green"))
    scenario: str = field(default_factory=lambda: _env("SCENARIO", "mild"))
    seed: int = field(default_factory=lambda: int(_env("SEED", "42")))
    # Rows per synthetic month; None means the realistic size (~70k). Tests use a few thousand.
    synthetic_rows: int | None = field(default_factory=lambda: int(v) if (v := _env("SYNTHETIC_ROWS")) else None)
    tlc_base_url: str = field(default_factory=lambda: _env("TLC_BASE_URL", TLC_BASE_URL))
    tracking_uri: str | None = field(
        default_factory=lambda: _env("TRACKING_URI") or os.environ.get("MLFLOW_TRACKING_URI") or None
    )
    model_name: str = MODEL_NAME
    verbose: bool = False
    # The class server (`stack up --class`): whose experiments and model this is, where to submit flows.
    student: str | None = field(default_factory=lambda: _env("STUDENT"))
    stack_url: str | None = field(default_factory=lambda: _env("STACK_URL"))
    work_pool: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "workspace", Path(self.workspace).expanduser().absolute())
        if self.source not in SOURCES:
            raise UsageError(
                f"unknown data source {self.source!r}",
                fix=f"use one of: {', '.join(SOURCES)} (or pass a file path as the data)",
            )
        if self.color not in COLORS:
            raise UsageError(f"unknown taxi color {self.color!r}", fix="use green or yellow")
        if self.student is not None:
            if not STUDENT_NAME.fullmatch(self.student):
                raise UsageError(
                    f"{self.student!r} is not a student name", fix="use lower-case letters, digits and -, e.g. alice"
                )
            if self.model_name == MODEL_NAME:  # each student registers versions of a model of their own
                object.__setattr__(self, "model_name", f"{MODEL_NAME}-{self.student}")

    def level_dir(self, level: int) -> Path:
        """Where a level writes everything it produces (models, stores, reports, logs)."""
        return self.workspace / f"level_{level}"

    @property
    def data_dir(self) -> Path:
        return self.workspace / "data"

    def as_plain(self) -> dict[str, object]:
        """JSON-ready values (Prefect records flow parameters as JSON); Settings(**plain) rebuilds it."""
        return {name: str(value) if isinstance(value, Path) else value for name, value in self.__dict__.items()}

    def with_(self, **changes: object) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})
