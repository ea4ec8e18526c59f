"""Level 3+ · automated_deployment: the ML platform service. Deploy by one API call, serve, A/B test,
log every prediction.

    POST /deployments   (admin) deploy one registered version, or two with a traffic split
    POST /promote       (admin) make a version `champion` in the registry and send it all traffic
    GET  /deployments   what serves now
    POST /log/segment   (admin) start a new prediction-log file, e.g. one per month
    POST /predict, POST /predict/batch, GET /health, GET /metrics

A new deployment is loaded completely, then swapped in with one assignment: a request already running
keeps the deployment it started with, so switching never fails or drops a request.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest
from pydantic import BaseModel, Field, model_validator

from common import model as ml
from common.config import Settings
from common.errors import MlopsLevelsError
from common.http import install_http_hygiene
from common.schemas import BatchPrediction, Prediction, Ride, RideBatch
from levels.level_4.ab import Variant, choose_variant
from levels.level_4.metrics import MetricsMiddleware, ServiceMetrics
from levels.level_4.prediction_log import PredictionLog

LEVEL = int(__name__.split(".")[1].removeprefix("level_"))  # carried forward unchanged into level 4
TOKEN_ENV = "MLOPS_LEVELS_ADMIN_TOKEN"
_bearer = HTTPBearer(auto_error=False)


class VariantSpec(BaseModel):
    version: str = Field(pattern=r"^\d+$")
    weight: float = Field(gt=0, le=1)
    name: str = Field(default="champion", pattern=r"^[a-z][a-z0-9_-]{0,31}$")


class DeploymentSpec(BaseModel):
    variants: list[VariantSpec] = Field(min_length=1, max_length=2)

    @model_validator(mode="after")
    def weights_add_up(self) -> DeploymentSpec:
        if abs(sum(v.weight for v in self.variants) - 1) > 1e-6:
            raise ValueError("the variants' weights must add up to 1")
        if len({v.name for v in self.variants}) != len(self.variants):
            raise ValueError("variant names must differ")
        return self


class PromoteSpec(BaseModel):
    version: str = Field(pattern=r"^\d+$")


class SegmentSpec(BaseModel):
    label: str = Field(pattern=r"^[0-9A-Za-z_-]{1,40}$")


def require_admin(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    expected = request.app.state.admin_token
    if not expected:
        raise HTTPException(403, f"admin actions are disabled: set {TOKEN_ENV} when starting the platform")
    if credentials is None or not hmac.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise HTTPException(401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"})


AdminDep = Annotated[None, Depends(require_admin)]


class Platform:
    """The current deployment and a cache of loaded versions, so a redeploy of a known version is instant."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.variants: list[Variant] = []
        self._loaded: dict[str, Any] = {}
        self._lock = asyncio.Lock()

    def _load(self, version: str) -> Any:
        import mlflow.sklearn

        if version not in self._loaded:
            self._loaded[version] = mlflow.sklearn.load_model(f"models:/{self.settings.model_name}/{version}")
        return self._loaded[version]

    async def deploy(self, spec: DeploymentSpec) -> list[Variant]:
        from levels.level_4.registry import resolve_version

        async with self._lock:  # one deploy at a time; predictions never wait for this lock
            for item in spec.variants:
                try:
                    await asyncio.to_thread(resolve_version, self.settings.model_name, item.version)
                except MlopsLevelsError as exc:
                    raise HTTPException(404, exc.one_line()) from None
            models = [await asyncio.to_thread(self._load, item.version) for item in spec.variants]
            fresh = [Variant(v.name, v.version, v.weight, m) for v, m in zip(spec.variants, models, strict=True)]
            self.variants = fresh  # the swap: one assignment, atomic for every request that follows
            return fresh

    def describe(self) -> list[dict[str, Any]]:
        return [{"name": v.name, "version": v.version, "weight": v.weight} for v in self.variants]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    import mlflow

    from levels.level_4.registry import CHAMPION
    from levels.level_4.tracking import tracking_uri

    settings: Settings = app.state.settings
    mlflow.set_tracking_uri(tracking_uri(settings))
    client = mlflow.MlflowClient()
    try:  # serve the current champion from the start, if there is one
        champion = client.get_model_version_by_alias(settings.model_name, CHAMPION)
        await app.state.platform.deploy(DeploymentSpec(variants=[VariantSpec(version=str(champion.version), weight=1)]))
    except mlflow.exceptions.MlflowException:
        pass
    yield
    app.state.log.close()


def _predict(app: FastAPI, rides: list[Ride]) -> list[Prediction]:
    variants = app.state.platform.variants  # taken once: this request keeps this deployment to the end
    if not variants:
        raise HTTPException(503, "no model is deployed yet: POST /deployments (admin) first")
    ids = [ride.ride_id or uuid.uuid4().hex for ride in rides]
    chosen = [choose_variant(variants, ride_id) for ride_id in ids]
    minutes = [0.0] * len(rides)
    for variant in variants:
        picks = [i for i, v in enumerate(chosen) if v is variant]
        if picks:
            predicted = ml.predict(variant.model, [rides[i].features() for i in picks])
            for i, value in zip(picks, predicted, strict=True):
                minutes[i] = float(value)
            app.state.variant_predictions.labels(variant.name, variant.version).inc(len(picks))
    app.state.log.append(
        [  # [model_monitoring]
            {
                "ride_id": i,
                **r.features(),
                "pickup_datetime": r.pickup_datetime.isoformat() if r.pickup_datetime else None,
                "prediction": m,
                "version": v.version,
                "variant": v.name,
            }
            for i, r, m, v in zip(ids, rides, minutes, chosen, strict=True)
        ]
    )
    return [
        Prediction(duration_minutes=m, model_version=v.version, ride_id=i, variant=v.name)
        for i, m, v in zip(ids, minutes, chosen, strict=True)
    ]


# [automated_deployment] [packaged_service]
def create_app(
    settings: Settings, admin_token: str | None = None, log_path: Path | None = None, log_dir: Path | None = None
) -> FastAPI:
    app = FastAPI(title=f"NYC taxi duration · ML platform, level {LEVEL}", lifespan=_lifespan)
    app.state.settings = settings
    app.state.admin_token = admin_token if admin_token is not None else os.environ.get(TOKEN_ENV)
    app.state.platform = Platform(settings)
    app.state.log_dir = log_dir or settings.level_dir(LEVEL) / "predictions"
    app.state.log = PredictionLog(log_path or app.state.log_dir / "predictions.jsonl")
    app.state.metrics = ServiceMetrics()
    app.state.variant_predictions = Counter(
        "variant_predictions", "Rides priced per variant", ["variant", "version"], registry=app.state.metrics.registry
    )
    install_http_hygiene(app)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)

    @app.post("/deployments")
    async def deploy(spec: DeploymentSpec, _: AdminDep, request: Request) -> dict[str, Any]:
        """Deploy one version, or two with a traffic split (weights add up to 1)."""
        await request.app.state.platform.deploy(spec)
        return {"deployed": request.app.state.platform.describe()}

    @app.get("/deployments")
    async def current(request: Request) -> dict[str, Any]:
        """What serves now."""
        return {"deployed": request.app.state.platform.describe()}

    @app.post("/promote")
    async def promote(spec: PromoteSpec, _: AdminDep, request: Request) -> dict[str, Any]:
        """Make a version the registry's champion and give it all the traffic."""
        from mlflow import MlflowClient

        from levels.level_4.registry import CHAMPION

        platform = request.app.state.platform
        deployed = await platform.deploy(DeploymentSpec(variants=[VariantSpec(version=spec.version, weight=1)]))
        await asyncio.to_thread(MlflowClient().set_registered_model_alias, settings.model_name, CHAMPION, spec.version)
        return {"champion": deployed[0].version, "deployed": platform.describe()}

    @app.post("/log/segment")
    async def start_log_segment(spec: SegmentSpec, _: AdminDep, request: Request) -> dict[str, str]:
        """Start a new prediction-log file (one per month), so monitoring reads only that month."""
        old, path = request.app.state.log, request.app.state.log_dir / f"{spec.label}.jsonl"
        request.app.state.log = PredictionLog(path)
        old.close()
        return {"log": str(path)}

    @app.post("/predict", response_model=Prediction)
    async def predict(ride: Ride, request: Request) -> Prediction:
        """Predict one ride; the answer names the version and the A/B variant that served it."""
        return _predict(request.app, [ride])[0]

    @app.post("/predict/batch", response_model=BatchPrediction)
    async def predict_batch(batch: RideBatch, request: Request) -> BatchPrediction:
        """Predict up to 1000 rides; each is routed by its own ride_id."""
        return BatchPrediction(predictions=_predict(request.app, batch.rides))

    @app.get("/health")
    async def health(request: Request) -> dict[str, Any]:
        """Liveness and what is deployed."""
        return {"status": "ok", "deployed": request.app.state.platform.describe()}

    @app.get("/metrics")
    async def metrics(request: Request) -> Response:
        """Operational metrics and predictions per variant, Prometheus text format."""
        return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def serve(settings: Settings, host: str, port: int, options: dict[str, Any]) -> None:
    """`mlops-levels serve 3`: the platform, serving the champion, until Ctrl-C."""
    import uvicorn

    if not os.environ.get(TOKEN_ENV):
        print(f"note: {TOKEN_ENV} is not set, so deploy and promote are disabled")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


def app_from_env() -> FastAPI:
    """For `uvicorn --factory` and the Dockerfile: MLOPS_LEVELS_* settings and the admin token."""
    return create_app(Settings())
