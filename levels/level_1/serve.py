"""Level 1 · packaged_service: a FastAPI app that answers predictions from the model file.

    mlops-levels serve 1                      # 127.0.0.1:8000, the model trained by `run 1`
    uvicorn levels.level_1.serve:app_from_env --factory

The model is loaded once, in the lifespan, and handed to routes by a dependency, so tests can swap it.
Rides go to the model as plain dicts: building a DataFrame per request would cost more than predicting.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from common import model as ml
from common.http import install_http_hygiene
from common.schemas import BatchPrediction, Prediction, Ride, RideBatch
from levels.level_1.metrics import MetricsMiddleware, ServiceMetrics


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    path = app.state.model_path
    app.state.model = ml.load_model(path)
    app.state.model_version = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    app.state.metrics.model_info.labels(str(path), app.state.model_version).set(1)
    yield


async def get_model(request: Request) -> Any:
    return request.app.state.model


ModelDep = Annotated[Any, Depends(get_model)]


# [packaged_service]
def create_app(model_path: Path) -> FastAPI:
    app = FastAPI(title="NYC taxi duration · level 1", version="1", lifespan=_lifespan)
    app.state.model_path = Path(model_path)
    app.state.metrics = ServiceMetrics()
    install_http_hygiene(app)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)  # [ops_metrics]

    @app.get("/health")
    def health(request: Request) -> dict[str, str]:
        """Liveness and which model is loaded."""
        return {"status": "ok", "model_version": request.app.state.model_version}

    # `async def` on purpose: a prediction is ~0.2 ms of CPU, cheaper on the event loop than a hop to
    # the thread pool (measured with bench/serving.py: 2.3k vs 1.1k rides/s on one worker).
    @app.post("/predict", response_model=Prediction)
    async def predict(ride: Ride, model: ModelDep, request: Request) -> Prediction:  # [exercise: predict-endpoint]
        """Predict the duration of one ride, in minutes."""
        minutes = float(ml.predict(model, [ride.features()])[0])
        request.app.state.metrics.predictions.inc()
        return Prediction(duration_minutes=minutes, model_version=request.app.state.model_version, ride_id=ride.ride_id)

    @app.post("/predict/batch", response_model=BatchPrediction)
    async def predict_batch(batch: RideBatch, model: ModelDep, request: Request) -> BatchPrediction:
        """Predict many rides in one request (at most 1000)."""
        minutes = ml.predict(model, [ride.features() for ride in batch.rides])
        request.app.state.metrics.predictions.inc(len(batch.rides))
        version = request.app.state.model_version
        return BatchPrediction(
            predictions=[
                Prediction(duration_minutes=float(m), model_version=version, ride_id=r.ride_id)
                for m, r in zip(minutes, batch.rides, strict=True)
            ]
        )

    @app.get("/metrics")
    def metrics(request: Request) -> Response:
        """Operational metrics in Prometheus text format."""
        return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def app_from_env() -> FastAPI:
    """For `uvicorn --factory` and the Dockerfile: the model path comes from the environment."""
    from common.config import Settings

    default = Settings().level_dir(1) / "model.bin"
    return create_app(Path(os.environ.get("MLOPS_LEVELS_MODEL_PATH", default)))


def serve(settings: Any, host: str, port: int, options: dict[str, Any]) -> None:
    """`mlops-levels serve 1`: serve the last model `run 1` trained, until Ctrl-C."""
    import uvicorn

    from common.errors import MlopsLevelsError

    path = Path(options.get("model_path") or settings.level_dir(1) / "model.bin")
    if not path.exists():
        raise MlopsLevelsError("no model to serve yet", where=str(path), fix="run: mlops-levels run 1")
    uvicorn.run(create_app(path), host=host, port=port, log_level="info")
