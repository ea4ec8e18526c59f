"""Level 3 tests: registered versions in a level-3 store, trained once per session, and private copies."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import SMALL_MONTH_ROWS


@pytest.fixture(scope="session")
def registered(prefect_api, tmp_path_factory):
    """A workspace whose level-3 registry holds v1 (linear regression) and v2 (ridge), close to each other."""
    from levels.level_3.pipeline import run_pipeline

    from common.config import Settings

    settings = Settings(workspace=tmp_path_factory.mktemp("level3"), synthetic_rows=SMALL_MONTH_ROWS)
    v1 = run_pipeline(settings, "2021-01", "2021-02", "linear_regression")
    v2 = run_pipeline(settings, "2021-01", "2021-02", "ridge")
    return settings, v1, v2


@pytest.fixture(scope="session")
def worse(registered):
    """v3: a ridge so regularised it predicts the mean, far worse than v1 and v2."""
    from levels.level_3.pipeline import run_pipeline

    settings, v1, _ = registered
    v3 = run_pipeline(settings, "2021-01", "2021-02", "ridge", params={"alpha": 1e6})
    assert v3["metrics"]["rmse_val"] > 1.1 * v1["metrics"]["rmse_val"]
    return v3


@pytest.fixture
def own_registry(registered, worse, tmp_path):
    """A private copy of the session's workspace, for tests that promote, delete or move things."""
    from common.config import Settings

    settings, v1, v2 = registered
    copy = tmp_path / "ws"
    shutil.copytree(settings.workspace, copy, ignore=shutil.ignore_patterns("prefect"))
    return Settings(workspace=copy, synthetic_rows=SMALL_MONTH_ROWS), v1, v2, worse


@pytest.fixture
def platform(registered):
    """A TestClient on the platform with admin token 'secret' (its lifespan runs)."""
    from fastapi.testclient import TestClient
    from levels.level_3.platform_api import create_app

    settings, _, _ = registered
    with TestClient(create_app(settings, admin_token="secret"), raise_server_exceptions=False) as client:
        yield client


ADMIN = {"Authorization": "Bearer secret"}
