"""Fixtures of level 2's suite: training_fixtures.py (a Prefect API, MLflow stores, versions trained once)."""

from training_fixtures import (  # noqa: F401 (fixtures and hooks, found by pytest through this module)
    no_network,
    own_registry,
    prefect_api,
    project,
    pytest_configure,
    pytest_unconfigure,
    registry,
)
