"""Level 2 needs a Prefect API: one real local Prefect server for the whole session (started ~10 s)."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def prefect_api(tmp_path_factory):
    from common.config import Settings
    from common.services import ensure_prefect_api, stop_prefect_server

    settings = Settings(workspace=tmp_path_factory.mktemp("prefect-workspace"))
    saved = os.environ.get("PREFECT_API_URL")
    os.environ.pop("PREFECT_API_URL", None)
    url = ensure_prefect_api(settings)  # sets PREFECT_API_URL for this process and its children
    yield url
    stop_prefect_server(settings)
    if saved is None:
        os.environ.pop("PREFECT_API_URL", None)
    else:
        os.environ["PREFECT_API_URL"] = saved


@pytest.fixture
def store(workspace):
    """An MlflowClient on the workspace's level-2 store."""
    import mlflow
    from mlflow import MlflowClient

    def _client() -> MlflowClient:
        mlflow.set_tracking_uri(f"sqlite:///{workspace / 'level_2' / 'mlflow.db'}")
        return MlflowClient()

    return _client
