"""The contract between the CLI and a level: what a run is asked to do and what it reports back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from teaching.infra.config import Settings

StepHook = Callable[[str], None]


def _silent(step: str) -> None:
    """The default step hook: a level run from Python (or a test) prints no progress."""


@dataclass
class RunRequest:
    """What `mlops-levels run N` asks a level to do. Levels ignore the options they have no use for."""

    settings: Settings
    train_data: str = "2021-01"
    val_data: str = "2021-02"
    model: str = "linear_regression"
    features: str = "pu_do"
    params: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    on_step: StepHook = _silent

    def report(self, level: int, **fields: Any) -> RunReport:
        """The level's report, naming the data and model it was asked to use (fields may override them)."""
        return RunReport(
            **{"level": level, "train": self.train_data, "val": self.val_data, "model": self.model, **fields}
        )


@dataclass
class RunReport:
    """What a level did, for people (Rich) and for scripts (--json)."""

    level: int
    train: str
    val: str
    model: str
    metrics: dict[str, float] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    manual_steps: list[str] = field(default_factory=list)
    # What the level would answer predictions with now: {"kind": "pickle" | "model_file", "path": ...} or
    # {"kind": "registry", "version": ...}. `run all` scores every level's served model on later months.
    serving: dict[str, str] = field(default_factory=dict)
    wall_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
