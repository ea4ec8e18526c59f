"""Fixtures of level 2's suite: training_fixtures.py (a Prefect API, MLflow stores, versions trained once).

training_fixtures.py is carried unchanged to level 3, whose conftest adds the platform's fixtures.
"""

import training_fixtures as fixtures

# The fixtures and hooks, which pytest finds through this module.
no_network, prefect_api, project = fixtures.no_network, fixtures.prefect_api, fixtures.project
registry, own_registry = fixtures.registry, fixtures.own_registry
pytest_configure, pytest_unconfigure = fixtures.pytest_configure, fixtures.pytest_unconfigure
