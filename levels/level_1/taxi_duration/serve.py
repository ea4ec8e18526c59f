"""A FastAPI app that answers predictions from the model file.

    python -m taxi_duration.serve --model-path models/model.bin     # 127.0.0.1:8000
    MODEL_PATH=models/model.bin uvicorn taxi_duration.serve:app_from_env --factory

The model is loaded once, in the lifespan; the endpoints (routes.py) read it from the app's state.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from common import model as ml
from common.connections import run
from common.errors import TaxiDurationError
from taxi_duration.routes import prediction_app
from taxi_duration.train import DEFAULT_OUTPUT


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    path = app.state.model_path
    app.state.model = ml.load_model(path)
    app.state.model_version = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    app.state.metrics.model_info.labels(str(path), app.state.model_version).set(1)
    yield


def create_app(model_path: str | Path) -> FastAPI:
    app = prediction_app("NYC taxi duration · level 1", _lifespan)
    app.state.model_path = Path(model_path)
    return app


def app_from_env() -> FastAPI:
    """For `uvicorn --factory` and the Dockerfile: the model path comes from the environment."""
    return create_app(Path(os.environ.get("MODEL_PATH", DEFAULT_OUTPUT)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the model file over HTTP until Ctrl-C.")
    parser.add_argument("--model-path", type=Path, default=DEFAULT_OUTPUT, help=f"default: {DEFAULT_OUTPUT}")
    parser.add_argument("--host", default="127.0.0.1", help="127.0.0.1 (this machine only) unless you mean it")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    try:
        ml.load_model(args.model_path)  # a missing or damaged file is one line now, not a failed start-up
    except TaxiDurationError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    run(create_app(args.model_path), args.host, args.port)  # uvicorn, with limits on what one client may hold
    return 0


if __name__ == "__main__":
    sys.exit(main())
