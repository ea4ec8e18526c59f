"""Level 2 · packaged_service: the level-1 service, now serving a version from the model registry.

    python -m taxi_duration.serve                   # models:/nyc-taxi-duration@champion on 127.0.0.1:8000
    python -m taxi_duration.serve --version 3       # a version number or an alias
    MODEL_VERSION=3 uvicorn taxi_duration.serve:app_from_env --factory

Every prediction names the registered version that made it, so any answer can be traced back to its
MLflow run: data, parameters, code commit. Deploying a new champion is still a restart by hand.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from common.connections import run
from common.errors import TaxiDurationError
from taxi_duration.config import Config
from taxi_duration.registry import load_version, require_store, resolve_version
from taxi_duration.routes import prediction_app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    config: Config = app.state.config
    version = resolve_version(config, app.state.wanted_version)
    app.state.model = load_version(config, str(version.version))
    app.state.model_version = str(version.version)
    app.state.metrics.model_info.labels(f"models:/{config.model_name}/{version.version}", version.run_id).set(1)
    yield


def create_app(config: Config, version: str | None = None) -> FastAPI:
    app = prediction_app("NYC taxi duration · level 2", _lifespan)
    app.state.config = config
    app.state.wanted_version = version
    return app


def app_from_env() -> FastAPI:
    """For `uvicorn --factory` and the Dockerfile: the stores from config.py, the version from MODEL_VERSION."""
    return create_app(Config.from_env(), os.environ.get("MODEL_VERSION"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a registered version over HTTP until Ctrl-C.")
    parser.add_argument("--version", default=None, help="a version number or an alias (default: champion)")
    parser.add_argument("--host", default="127.0.0.1", help="127.0.0.1 (this machine only) unless you mean it")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    config = Config.from_env()
    fix = "train (python -m taxi_duration.pipeline), then promote: python -m taxi_duration.promote --version N"
    try:  # a clear error now, not a crash at start-up
        require_store(config)
        load_version(config, str(resolve_version(config, args.version, fix=fix).version))
    except TaxiDurationError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    run(create_app(config, args.version), args.host, args.port)  # uvicorn, with limits on what one client may hold
    return 0


if __name__ == "__main__":
    sys.exit(main())
