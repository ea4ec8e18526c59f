"""Level 1 · packaged_service: a FastAPI app that answers predictions from the model file.

    mlops-levels serve 1                      # 127.0.0.1:8000, the model trained by `run 1`
    uvicorn levels.level_1.serve:app_from_env --factory

The model is loaded once, in the lifespan; the endpoints (routes.py) read it from the app's state.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from common import model as ml
from levels.level_1.routes import prediction_app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    path = app.state.model_path
    app.state.model = ml.load_model(path)
    app.state.model_version = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    app.state.metrics.model_info.labels(str(path), app.state.model_version).set(1)
    yield


# [packaged_service]
def create_app(model_path: str | Path) -> FastAPI:
    app = prediction_app("NYC taxi duration · level 1", _lifespan)
    app.state.model_path = Path(model_path)
    return app


def app_from_env() -> FastAPI:
    """For `uvicorn --factory` and the Dockerfile: the model path comes from the environment."""
    from common.config import Settings

    default = Settings().level_dir(1) / "model.bin"
    return create_app(Path(os.environ.get("MLOPS_LEVELS_MODEL_PATH", default)))


def serve(settings: Any, host: str, port: int, options: dict[str, Any]) -> None:
    """`mlops-levels serve 1`: serve the last model `run 1` trained, until Ctrl-C."""
    from common.connections import run
    from common.errors import MlopsLevelsError

    path = Path(options.get("model_path") or settings.level_dir(1) / "model.bin")
    if not path.exists():
        raise MlopsLevelsError("no model to serve yet", where=str(path), fix="run: mlops-levels run 1")
    ml.load_model(path)  # a damaged file is one line now, not a traceback from the server's start-up
    run(create_app(path), host, port)  # uvicorn, with limits on what one client may hold
