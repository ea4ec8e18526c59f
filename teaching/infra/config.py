"""Runtime settings: one object, read from MLOPS_LEVELS_* environment variables, no side effects."""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from common.datasource import COLORS, SOURCES, TLC_BASE_URL, DataSource
from common.errors import UsageError
from teaching.infra.workspace import Workspace

# Names the CLI validates before importing sklearn; common/model.py builds exactly these (a test checks).
MODEL_NAMES = ("linear_regression", "lasso", "ridge", "gradient_boosting")
FEATURE_SETS = ("pu_do", "pu_and_do")
MODEL_NAME = "nyc-taxi-duration"
# A student name becomes part of MLflow experiment and model names and of a login: keep it plain.
STUDENT_NAME = re.compile(r"[a-z][a-z0-9-]{0,31}")
# Query parameters that carry a credential (SQLAlchemy hands `password` to the database driver).
CREDENTIAL_KEYS = {"password", "passwd", "pwd", "pw", "pass", "token", "access_token", "api_key", "apikey", "secret"}


def experiment_name(level: int, student: str | None = None) -> str:
    """One MLflow experiment per level; on a class server, one per level and student."""
    return f"nyc-taxi-duration-level-{level}" + (f"-{student}" if student else "")


def _env(name: str) -> str | None:
    value = os.environ.get(f"MLOPS_LEVELS_{name}")
    return value or None


def _env_or(name: str, default: str) -> str:
    return _env(name) or default


def url_holds_credential(value: str) -> bool:
    """True for a URL with a password in its user information, or a credential in its query or fragment.

    Read on the text, decoded and with backslashes as slashes, not through urlsplit: urlsplit gives up
    (ValueError) on a malformed host such as "[::1", and clients read "http:\\u:p@h" or "u%3Ap@h" as
    user information all the same. Any ':' before the last '@' counts: a tracking URI needs neither.
    """
    text = unquote(value.strip()).replace("\\", "/")
    if "://" not in text:
        return False
    after_scheme = text.split("://", 1)[1]
    if "@" in after_scheme and ":" in after_scheme.rsplit("@", 1)[0]:
        return True
    before_fragment, _, fragment = text.partition("#")
    query = before_fragment.partition("?")[2]
    keys = {key.strip().lower() for part in (query, fragment) for key, _ in parse_qsl(part, keep_blank_values=True)}
    return bool(keys & CREDENTIAL_KEYS)


def refuse_password_in(uri: str | None, name: str = "a URL in the settings") -> None:
    """A URL the settings hold travels as a flow parameter, into logs and reports: it must carry no password.

    The message never repeats the URL (that would print the password it refuses).
    """
    if uri and url_holds_credential(uri):
        raise UsageError(
            f"{name} holds a password, which would be stored in clear with every run",
            fix="drop it from the URL and give the credentials in the environment instead "
            "(MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD for MLflow)",
        )


def default_workspace() -> Path:
    return Path(_env_or("WORKSPACE", "mlops-workspace")).expanduser().absolute()


def command_for(workspace: Path, *words: object) -> str:
    """An `mlops-levels` command to suggest, with `-w` when the person chose a workspace a bare command
    would not find: a hint pasted as printed must reach the same runs and stores."""
    prefix = ["mlops-levels"]
    where = Path(workspace).absolute()
    if where != default_workspace():
        shown = where.relative_to(Path.cwd()) if where.is_relative_to(Path.cwd()) else where
        prefix += ["-w", shlex.quote(str(shown))]
    return " ".join([*prefix, *(str(word) for word in words)])


@dataclass(frozen=True)
class Settings:
    """Everything a run may vary without touching code. Teaching metadata lives in level.toml instead."""

    workspace: Path = field(default_factory=default_workspace)
    source: str = field(default_factory=lambda: _env_or("SOURCE", "synthetic"))
    color: str = field(default_factory=lambda: _env_or("COLOR", "green"))
    scenario: str = field(default_factory=lambda: _env_or("SCENARIO", "mild"))
    seed: int = field(default_factory=lambda: int(_env_or("SEED", "42")))
    # Rows per synthetic month; None means the realistic size (~70k). Tests use a few thousand.
    synthetic_rows: int | None = field(default_factory=lambda: int(v) if (v := _env("SYNTHETIC_ROWS")) else None)
    # A folder of real months named as the TLC names them (green_tripdata_2023-01.parquet): months come
    # from there instead of the generator or the download cache.
    data_folder: Path | None = field(default_factory=lambda: Path(v) if (v := _env("DATA_DIR")) else None)
    tlc_base_url: str = field(default_factory=lambda: _env_or("TLC_BASE_URL", TLC_BASE_URL))
    # Only our own variable: mlflow.set_tracking_uri() writes MLFLOW_TRACKING_URI into the environment, so
    # reading that back would hand every later Settings the store of whichever level ran last. The CLI
    # passes a student's MLFLOW_TRACKING_URI explicitly (--tracking-uri reads it).
    tracking_uri: str | None = field(default_factory=lambda: _env("TRACKING_URI"))
    model_name: str = MODEL_NAME
    # The Prefect UI of the workspace's server, where students see flow runs, tasks and retries. Tests
    # switch it off (nobody looks; the server starts faster without it).
    prefect_ui: bool = field(default_factory=lambda: _env_or("PREFECT_UI", "true").lower() not in ("0", "false", "no"))
    verbose: bool = False
    # The class server (`stack up --class`): whose experiments and model this is, where to submit flows.
    student: str | None = field(default_factory=lambda: _env("STUDENT"))
    stack_url: str | None = field(default_factory=lambda: _env("STACK_URL"))
    work_pool: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "workspace", Path(self.workspace).expanduser().absolute())
        if self.data_folder is not None:
            object.__setattr__(self, "data_folder", Path(self.data_folder).expanduser().absolute())
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
        self._refuse_credentials()

    def _refuse_credentials(self) -> None:
        refuse_password_in(self.tracking_uri, "the tracking URI")
        refuse_password_in(self.stack_url, "the class server URL (MLOPS_LEVELS_STACK_URL)")
        refuse_password_in(self.tlc_base_url, "the TLC download URL")

    def command(self, *words: object) -> str:
        """A command to suggest to the person, for this workspace (`command_for`)."""
        return command_for(self.workspace, *words)

    @property
    def layout(self) -> Workspace:
        """Where each kind of file lives under the workspace (teaching/infra/workspace.py)."""
        return Workspace(self.workspace)

    def level_dir(self, level: int) -> Path:
        """Where a level writes everything it produces (models, stores, reports, logs)."""
        return self.layout.level(level)

    @property
    def data_dir(self) -> Path:
        return self.layout.data

    @property
    def data(self) -> DataSource:
        """Where this run's months come from, as a level reads it (common/sources.py)."""
        return DataSource(
            cache=self.data_dir,
            source=self.source,
            folder=self.data_folder,
            color=self.color,
            scenario=self.scenario,
            seed=self.seed,
            synthetic_rows=self.synthetic_rows,
            tlc_base_url=self.tlc_base_url,
        )

    def as_plain(self) -> dict[str, object]:
        """JSON-ready values (Prefect records flow parameters as JSON); Settings(**plain) rebuilds it."""
        self._refuse_credentials()  # a flow parameter is stored and served in clear
        return {name: str(value) if isinstance(value, Path) else value for name, value in self.__dict__.items()}

    def with_(self, **changes: Any) -> Settings:
        """A copy with the given fields changed; a None leaves the field as it is (an option not given)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})
