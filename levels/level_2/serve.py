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
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from common import model as ml
from common.config import Settings
from common.http import install_http_hygiene
from common.schemas import BatchPrediction, Prediction, Ride, RideBatch
from levels.level_2.metrics import MetricsMiddleware, ServiceMetrics


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    from levels.level_2.registry import load_version, resolve_version

    settings: Settings = app.state.settings
    version = resolve_version(settings, app.state.wanted_version)  # [model_registry]
    app.state.model = load_version(settings, str(version.version))
    app.state.model_version = str(version.version)
    app.state.metrics.model_info.labels(f"models:/{settings.model_name}/{version.version}", version.run_id).set(1)
    yield


async def get_model(request: Request) -> Any:
    return request.app.state.model


ModelDep = Annotated[Any, Depends(get_model)]


# [packaged_service]
def create_app(settings: Settings, version: str | None = None) -> FastAPI:
    app = FastAPI(title="NYC taxi duration · level 2", version="2", lifespan=_lifespan)
    app.state.settings = settings
    app.state.wanted_version = version
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
    async def predict(ride: Ride, model: ModelDep, request: Request) -> Prediction:
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
    """For `uvicorn --factory` and the Dockerfile: MLOPS_LEVELS_* settings, MLOPS_LEVELS_MODEL_VERSION."""
    return create_app(Settings(), os.environ.get("MLOPS_LEVELS_MODEL_VERSION"))


def serve(settings: Settings, host: str, port: int, options: dict[str, Any]) -> None:
    """`mlops-levels serve 2`: serve the champion (or --version) until Ctrl-C."""
    import uvicorn

    from levels.level_2.registry import load_version, resolve_version

    # a clear error now, not a crash at start-up
    fix = "train (mlops-levels run 2), then promote: python levels/level_2/promote.py --version N"
    load_version(settings, str(resolve_version(settings, options.get("version"), fix=fix).version))
    uvicorn.run(create_app(settings, options.get("version")), host=host, port=port, log_level="info")
