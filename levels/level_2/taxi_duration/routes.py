"""Level 1+ · packaged_service: the prediction app and its endpoints, on whatever model it has loaded.

    GET /health · POST /predict · POST /predict/batch · GET /metrics

The caller's lifespan puts the model in `app.state.model` and its name in `app.state.model_version`; the
routes only read them, so level 2 (a model from the registry) serves through these same routes.
Rides go to the model as plain dicts: building a DataFrame per request would cost more than predicting.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from common import model as ml
from common.http import install_http_hygiene
from common.schemas import BatchPrediction, Prediction, Ride, RideBatch
from taxi_duration.metrics import MetricsMiddleware, ServiceMetrics


async def get_model(request: Request) -> Any:
    return request.app.state.model


ModelDep = Annotated[Any, Depends(get_model)]


def prediction_app(title: str, lifespan: Any) -> FastAPI:
    """The service around the model: validated requests, bounded bodies, operational metrics, the routes."""
    app = FastAPI(title=title, lifespan=lifespan)
    app.state.metrics = ServiceMetrics()
    install_http_hygiene(app)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    add_routes(app)
    return app


def add_routes(app: FastAPI) -> None:
    @app.get("/health")
    def health(request: Request) -> dict[str, str]:
        """Liveness and which model is loaded."""
        return {"status": "ok", "model_version": request.app.state.model_version}

    # `async def` on purpose: a prediction is ~0.2 ms of CPU, cheaper on the event loop than a hop to
    # the thread pool (measured with bench/serving.py: 2.3k vs 1.1k rides/s on one worker).
    # A field this level does not fill (ride_id not sent, variant before A/B tests) is left out, not null.
    @app.post("/predict", response_model=Prediction, response_model_exclude_none=True)
    async def predict(ride: Ride, model: ModelDep, request: Request) -> Prediction:
        """Predict the duration of one ride, in minutes."""
        minutes = float(ml.predict(model, [ride.features()])[0])
        request.app.state.metrics.predictions.inc()
        return Prediction(duration_minutes=minutes, model_version=request.app.state.model_version, ride_id=ride.ride_id)

    @app.post("/predict/batch", response_model=BatchPrediction, response_model_exclude_none=True)
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
