"""Fixtures of level 2's suite: training_fixtures.py (a Prefect API, MLflow stores, versions trained once).

training_fixtures.py is carried unchanged to level 3, whose conftest adds the platform's fixtures.
"""

import os

# One thread of OpenMP and BLAS per process: the suites run two at a time on two cores, and each starts
# servers and level commands beside it. With a thread per core, OpenMP's workers spin-wait for a core the
# neighbours hold: scikit-learn's HistGradientBoosting on 4,000 rows took 247 s instead of 5 s at load ~9.
# Set before numpy is imported, and inherited by every command a test starts.
for _threads in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")

import training_fixtures as fixtures  # noqa: E402

# The fixtures and hooks, which pytest finds through this module.
no_network, prefect_api, project = fixtures.no_network, fixtures.prefect_api, fixtures.project
registry, own_registry = fixtures.registry, fixtures.own_registry
pytest_configure, pytest_unconfigure = fixtures.pytest_configure, fixtures.pytest_unconfigure
