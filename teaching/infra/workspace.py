"""The workspace's layout, in one place: every file the toolkit writes lives under one folder.

    <workspace>/
        state.json            progress (only the CLI writes it)
        data/                 synthetic months and the TLC download cache
        prefect/              the workspace's Prefect server (PREFECT_HOME)
        stack/                `mlops-levels stack`: PostgreSQL, mlflow server
        secrets/              tokens, mode 0600 from their first byte
        exercises/            students' working copies (`mlops-levels exercise start`)
        check-server/         the warm exercise-check server: its socket (0700), record, log, template store
        report/               the class report page of `run all`
        level_N/              where level N's commands run: models, mlflow.db, mlruns/ (artifacts),
                              platform/ (audit log, predictions/, reports/, decisions/)

No other module spells these names; `clean` refuses a folder holding anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

TOP_LEVEL = (
    "state.json",
    "state.json.lock",
    "data",
    "prefect",
    "stack",
    "secrets",
    "exercises",
    "check-server",
    "report",
)


@dataclass(frozen=True)
class Workspace:
    root: Path

    def level(self, number: int) -> Path:
        return self.root / f"level_{number}"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def check_server(self) -> Path:
        return self.root / "check-server"

    @property
    def prefect_home(self) -> Path:
        return self.root / "prefect"

    @property
    def stack(self) -> Path:
        return self.root / "stack"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    @property
    def exercises(self) -> Path:
        return self.root / "exercises"

    @property
    def report(self) -> Path:
        return self.root / "report"

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    def mlflow_store(self, level: int) -> Path:
        return self.level(level) / "mlflow.db"

    def artifacts(self, level: int) -> Path:
        return self.level(level) / "mlruns"  # where MLflow keeps a local store's artifacts, beside the store

    def platform(self, level: int) -> Path:
        """The platform's state folder (levels 3-4: PLATFORM_STATE_DIR)."""
        return self.level(level) / "platform"

    def reports(self, level: int) -> Path:
        return self.platform(level) / "reports"

    def predictions(self, level: int) -> Path:
        return self.platform(level) / "predictions"

    def decisions(self, level: int) -> Path:
        return self.platform(level) / "decisions"

    def strangers(self) -> list[str]:
        """Entries at the top of the folder the toolkit did not write (so `clean` must not delete it)."""
        known = set(TOP_LEVEL) | {f"level_{n}" for n in range(5)}
        return sorted(p.name for p in self.root.iterdir() if p.name not in known) if self.root.is_dir() else []
