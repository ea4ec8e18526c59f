"""Level 2 tests: the session's Prefect server, and an MLflow client on the workspace's store."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _prefect(prefect_api):
    """Every level-2 test talks to the session's Prefect server."""


@pytest.fixture
def store(workspace):
    """An MlflowClient on the workspace's level-2 store."""
    import mlflow
    from mlflow import MlflowClient

    def _client() -> MlflowClient:
        mlflow.set_tracking_uri(f"sqlite:///{workspace / 'level_2' / 'mlflow.db'}")
        return MlflowClient()

    return _client
