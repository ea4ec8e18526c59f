"""Fault tests: a workspace whose level-2, level-3 and level-4 registries each hold one trained version."""

from __future__ import annotations

import importlib

import pytest

from tests.conftest import SMALL_MONTH_ROWS


@pytest.fixture(scope="session")
def registries(prefect_api, tmp_path_factory):
    """Settings of a workspace where levels 2, 3 and 4 each registered v1 (linear regression)."""
    from common.config import Settings

    settings = Settings(workspace=tmp_path_factory.mktemp("faults"), synthetic_rows=SMALL_MONTH_ROWS)
    for level in (2, 3, 4):
        pipeline = importlib.import_module(f"levels.level_{level}.pipeline")
        pipeline.run_pipeline(settings, "2021-01", "2021-02", "linear_regression")
    return settings
