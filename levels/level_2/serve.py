"""Level 2 · packaged_service: the level-1 service, now serving a version from the model registry.

    mlops-levels serve 2                      # models:/nyc-taxi-duration@champion on 127.0.0.1:8000
    mlops-levels serve 2 --version 3          # a version number or an alias
    uvicorn levels.level_2.serve:app_from_env --factory

Every prediction names the registered version that made it, so any answer can be traced back to its
MLflow run: data, parameters, code commit. Deploying a new champion is still a restart by hand.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from common.config import Settings
from levels.level_2.routes import prediction_app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    from levels.level_2.registry import load_version, resolve_version

    settings: Settings = app.state.settings
    version = resolve_version(settings, app.state.wanted_version)  # [model_registry]
    app.state.model = load_version(settings, str(version.version))
    app.state.model_version = str(version.version)
    app.state.metrics.model_info.labels(f"models:/{settings.model_name}/{version.version}", version.run_id).set(1)
    yield


# [packaged_service]
def create_app(settings: Settings, version: str | None = None) -> FastAPI:
    app = prediction_app("NYC taxi duration · level 2", _lifespan)
    app.state.settings = settings
    app.state.wanted_version = version
    return app


def app_from_env() -> FastAPI:
    """For `uvicorn --factory` and the Dockerfile: MLOPS_LEVELS_* settings, MLOPS_LEVELS_MODEL_VERSION."""
    return create_app(Settings(), os.environ.get("MLOPS_LEVELS_MODEL_VERSION"))


def serve(settings: Settings, host: str, port: int, options: dict[str, Any]) -> None:
    """`mlops-levels serve 2`: serve the champion (or --version) until Ctrl-C."""
    from common.connections import run
    from levels.level_2.registry import load_version, resolve_version

    # a clear error now, not a crash at start-up
    fix = "train (mlops-levels run 2), then promote: python levels/level_2/promote.py --version N"
    load_version(settings, str(resolve_version(settings, options.get("version"), fix=fix).version))
    run(create_app(settings, options.get("version")), host, port)  # uvicorn, with limits on what one client may hold
