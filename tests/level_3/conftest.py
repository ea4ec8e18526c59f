"""Level 3 tests: registered versions in a level-3 store, trained once per session."""

from __future__ import annotations

import pytest

from tests.conftest import SMALL_MONTH_ROWS


@pytest.fixture(scope="session")
def registered(prefect_api, tmp_path_factory):
    """A workspace whose level-3 registry holds v1 (linear regression) and v2 (ridge)."""
    from common.config import Settings
    from levels.level_3.pipeline import run_pipeline

    settings = Settings(workspace=tmp_path_factory.mktemp("level3"), synthetic_rows=SMALL_MONTH_ROWS)
    v1 = run_pipeline(settings, "2021-01", "2021-02", "linear_regression")
    v2 = run_pipeline(settings, "2021-01", "2021-02", "ridge")
    return settings, v1, v2


@pytest.fixture
def platform(registered):
    """A TestClient on the platform with admin token 'secret' (its lifespan runs)."""
    from fastapi.testclient import TestClient

    from levels.level_3.platform_api import create_app

    settings, _, _ = registered
    with TestClient(create_app(settings, admin_token="secret"), raise_server_exceptions=False) as client:
        yield client


ADMIN = {"Authorization": "Bearer secret"}
