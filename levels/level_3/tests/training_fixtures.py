"""The fixtures of a project that trains with Prefect and tracks with MLflow (level 2, and level 3 after it).

- Months come from the generator, small (4,000 rows), into a cache of the session's; never ./data.
- Every test runs in a project folder of its own (its working directory: MLflow keeps `mlruns/` beside the
  store), with `MLFLOW_TRACKING_URI=sqlite:///<that folder>/mlflow.db`.
- One Prefect API for the whole session (`prefect_test_harness`: a temporary server, ~15-25 s to start).
- The versions most tests need are trained once per session (`registry`); a test that changes a registry
  works on a copy of it (`own_registry`), never on the session's.
- Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SMALL_MONTH_ROWS = 4000
LEVEL_DIR = Path(__file__).resolve().parents[1]
# Real TLC months, for the checks against the course's numbers; skipped where they are not present.
REAL_DATA = Path(os.environ.get("TAXI_REAL_DATA", LEVEL_DIR.parents[2] / "shared" / "data" / "real"))
# Training on the real 2023-01 and validating on 2023-02, without the 36 meter typos the notebook keeps.
VALIDATED_REAL_RMSE = 5.6304
MODEL_NAME = EXPERIMENT = "nyc-taxi-duration"  # config.py's defaults: the tests set neither
RIDE = {"PULocationID": 74, "DOLocationID": 75, "trip_distance": 1.8}
# What the tools read that a test sets itself, or must not inherit from the shell that started pytest.
PROJECT_ENV = ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME", "MODEL_NAME", "MLFLOW_RUN_ID")
DATA_ENV = ("TAXI_DATA_SOURCE", "TAXI_DATA_DIR", "TAXI_SCENARIO", "TAXI_SEED", "TAXI_COLOR", "TAXI_TLC_BASE_URL")
_QUIET = {  # quiet, and no telemetry: a test run never phones home
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "DO_NOT_TRACK": "true",
    "MLFLOW_DISABLE_TELEMETRY": "true",
}


_PREFECT_HOME: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    """Before anything imports Prefect: its home (profiles, local storage) is the session's, not ~/.prefect."""
    os.environ.update(_QUIET)
    _PREFECT_HOME.append(tempfile.mkdtemp(prefix="prefect-home-"))
    os.environ["PREFECT_HOME"] = _PREFECT_HOME[-1]


def pytest_unconfigure(config: pytest.Config) -> None:
    for folder in _PREFECT_HOME:
        shutil.rmtree(folder, ignore_errors=True)


_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: Any) -> None:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and self.family in (socket.AF_INET, socket.AF_INET6):
        if not (host.startswith("127.") or host in ("localhost", "::1")):
            raise RuntimeError(f"tests must not touch the network (tried {address})")
    return _connect(self, address)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


def data_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "data"


def project_env(monkeypatch: pytest.MonkeyPatch, folder: Path, cache: Path) -> None:
    """What a person sets before running the project's commands in `folder`: the store there, small months."""
    folder.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(folder)
    for name in (*PROJECT_ENV, *DATA_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{folder / 'mlflow.db'}")
    monkeypatch.setenv("TAXI_DATA_CACHE", str(cache))
    monkeypatch.setenv("TAXI_SYNTHETIC_ROWS", str(SMALL_MONTH_ROWS))


@pytest.fixture(autouse=True)
def project(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test starts in an empty project folder of its own, its store there (created on first use)."""
    folder = tmp_path / "project"
    project_env(monkeypatch, folder, data_cache(tmp_path_factory))
    return folder


@pytest.fixture(scope="session")
def prefect_api() -> Any:
    """One temporary Prefect API for the session; its URL is exported, so child processes use it too."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    saved = os.environ.get("PREFECT_API_URL")
    with prefect_test_harness(server_startup_timeout=180):
        url = str(PREFECT_API_URL.value())
        os.environ["PREFECT_API_URL"] = url
        try:
            yield url
        finally:
            os.environ.pop("PREFECT_API_URL", None)
            if saved is not None:
                os.environ["PREFECT_API_URL"] = saved


@dataclass(frozen=True)
class Store:
    """A project folder holding an MLflow store (mlflow.db) and its artifacts (mlruns/)."""

    folder: Path

    @property
    def uri(self) -> str:
        return f"sqlite:///{self.folder / 'mlflow.db'}"

    def config(self, **changes: Any) -> Any:
        """The project's Config, as `Config.from_env()` would read it in this folder."""
        from dataclasses import replace

        from common.datasource import DataSource
        from taxi_duration.config import Config

        return replace(Config(tracking_uri=self.uri, data=DataSource.from_env()), **changes)

    def client(self) -> Any:
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)

    def runs(self) -> list[Any]:
        client = self.client()
        experiment = client.get_experiment_by_name(EXPERIMENT)
        if experiment is None:
            return []
        return client.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"])

    def versions(self) -> list[str]:
        return sorted((str(v.version) for v in self.client().search_model_versions(f"name='{MODEL_NAME}'")), key=int)

    def copy_to(self, target: Path) -> Store:
        """A private copy: the store's rows point at the copy's own artifacts, not at this one's."""
        shutil.copytree(self.folder, target, ignore=shutil.ignore_patterns("mlflow.db*"))
        source, copy = sqlite3.connect(self.folder / "mlflow.db"), sqlite3.connect(target / "mlflow.db")
        try:
            source.backup(copy)
            old, new = str(self.folder), str(target)
            tables = [row[0] for row in copy.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for table in tables:  # artifact locations are absolute paths: each row now names the copy's
                for column in copy.execute(f'PRAGMA table_info("{table}")').fetchall():
                    name = column[1]
                    if any(kind in column[2].upper() for kind in ("CHAR", "TEXT")):
                        copy.execute(
                            f'UPDATE "{table}" SET "{name}" = replace("{name}", ?, ?) WHERE "{name}" LIKE ?',
                            (old, new, f"%{old}%"),
                        )
            copy.commit()
        finally:
            source.close()
            copy.close()
        return Store(target)


def train_into(folder: Path, cache: Path, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run the training pipeline (the Prefect flow) in `folder`'s project, once per entry of `runs`."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        project_env(monkeypatch, folder, cache)
        from taxi_duration.pipeline import training_pipeline

        return [training_pipeline(**run) for run in runs]


@pytest.fixture(scope="session")
def registry(prefect_api: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, dict, dict]:
    """The session's store: v1 a linear regression, v2 a ridge, both trained on 2021-01 and validated on
    2021-02 (close to each other). Read it; to change it, take `own_registry`."""
    folder = tmp_path_factory.mktemp("registry")
    v1, v2 = train_into(
        folder,
        data_cache(tmp_path_factory),
        [
            {"train_data": "2021-01", "val_data": "2021-02", "model": "linear_regression"},
            {"train_data": "2021-01", "val_data": "2021-02", "model": "ridge"},
        ],
    )
    assert (v1["model_version"], v2["model_version"]) == ("1", "2")
    return Store(folder), v1, v2


@pytest.fixture
def own_registry(registry: tuple[Store, dict, dict], project: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """A private copy of the session's store, as this test's project (its environment points at it)."""
    store = registry[0]
    shutil.rmtree(project)
    copy = store.copy_to(project)
    monkeypatch.chdir(project)
    return copy


def real_month(name: str) -> Path:
    path = REAL_DATA / name
    if not path.exists():
        pytest.skip(f"real data sample not present ({path})")
    return path
