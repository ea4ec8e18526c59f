"""Level 3+ · automated_deployment: the ML platform service. Deploy by one API call, serve, A/B test,
log every prediction; the quality gate guards every change (deployer.py).

    POST /deployments   (admin) deploy one registered version, or two with a traffic split
    POST /promote       (admin) make a version `champion` in the registry and send it all traffic
    POST /evaluations   (admin) the gate's verdict on a version, without deploying it (the CD workflow)
    POST /log/segment   (admin) start a new prediction-log file, e.g. one per month
    GET  /deployments   what serves now
    POST /predict, POST /predict/batch, GET /health (503 while nothing can be served), GET /metrics

A refused deploy or promote is 409 with the gate's reason and what to do; `"force": true` with a
`"reason"` overrides it, and the override is recorded in the registry and in the audit log.

    python -m taxi_duration.platform_api --state-dir platform     # 127.0.0.1:8000
    PLATFORM_ADMIN_TOKEN_FILE=secrets/admin-token uvicorn taxi_duration.platform_api:app_from_env --factory

The admin token comes from PLATFORM_ADMIN_TOKEN, or from the file PLATFORM_ADMIN_TOKEN_FILE names (only
its owner may read it): never from an argument, which any local user can read in the process list.
The gate verifies each candidate's signed lineage with the public key in the file LINEAGE_PUBLIC_KEY_FILE
names (lineage.py): the platform can check the training pipeline's signatures, never make one.
The platform keeps its audit log and prediction logs in its state folder (PLATFORM_STATE_DIR). An audit
log that is not the platform's own (edited, cut short, readable by others) stops it with the file and
line: exit 3 at start, 503 on /health and on every admin call while it runs.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import os
import stat
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest
from pydantic import BaseModel, Field

from common import model as ml
from common.connections import run
from common.errors import ArtifactError, StoreError, TaxiDurationError
from common.http import install_http_hygiene
from common.schemas import BatchPrediction, Prediction, Ride, RideBatch
from taxi_duration.ab import choose_variant
from taxi_duration.config import Config
from taxi_duration.deployer import STRICT, DeploymentSpec, GateRefused, Platform, PromoteSpec
from taxi_duration.gate import check_candidate
from taxi_duration.lineage import PUBLIC_KEY_ENV, public_key
from taxi_duration.metrics import MetricsMiddleware, ServiceMetrics
from taxi_duration.prediction_log import PredictionLog
from taxi_duration.registry import VERSION_PATTERN, UnknownVersion, resolve_version

_bearer = HTTPBearer(auto_error=False)
TOKEN_ENV = "PLATFORM_ADMIN_TOKEN"
TOKEN_FILE_ENV = "PLATFORM_ADMIN_TOKEN_FILE"
STATE_ENV = "PLATFORM_STATE_DIR"
DEFAULT_STATE_DIR = "platform"


def read_admin_token() -> str | None:
    """The token admin calls must bear: the environment's, else the token file's, else none (admin off)."""
    if os.environ.get(TOKEN_ENV):
        return os.environ[TOKEN_ENV]
    path = os.environ.get(TOKEN_FILE_ENV)
    if not path:
        return None
    try:
        if stat.S_IMODE(os.stat(path).st_mode) & 0o077:
            raise StoreError(
                "the admin token file can be read by others", where=path, fix=f"chmod 600 {path}, or make a new one"
            )
        return Path(path).read_text(encoding="utf-8").strip() or None
    except OSError as exc:
        raise StoreError(f"cannot read the admin token ({exc.strerror})", where=path) from None


def state_dir_from_env() -> Path:
    return Path(os.environ.get(STATE_ENV) or DEFAULT_STATE_DIR)


class SegmentSpec(BaseModel):
    model_config = STRICT
    label: str = Field(pattern=r"^[0-9A-Za-z_-]{1,40}$")


class EvaluationSpec(BaseModel):
    model_config = STRICT
    version: str = Field(pattern=VERSION_PATTERN)


def require_admin(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> None:
    expected = request.app.state.admin_token
    if not expected:
        raise HTTPException(403, f"admin actions are disabled: set {TOKEN_ENV} when starting the platform")
    if credentials is None or not hmac.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise HTTPException(401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"})


AdminDep = Annotated[None, Depends(require_admin)]


async def _refused(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GateRefused)
    body = {"error": exc.what, "fix": exc.fix, "gate": exc.decision.to_dict()}
    return JSONResponse({"detail": body}, status_code=409)


async def _unservable(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ArtifactError)
    return JSONResponse({"detail": {"error": exc.what, "path": exc.where, "fix": exc.fix}}, status_code=409)


async def _unknown_version(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UnknownVersion)
    return JSONResponse({"detail": {"error": exc.what, "fix": exc.fix}}, status_code=404)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    await app.state.platform.serve_champion()
    yield
    app.state.log.close()


def _predict(app: FastAPI, rides: list[Ride]) -> list[Prediction]:
    variants = app.state.platform.variants  # taken once: this request keeps this deployment to the end
    if not variants:
        raise HTTPException(503, app.state.platform.unready)
    ids = [ride.ride_id or uuid.uuid4().hex for ride in rides]
    chosen = [choose_variant(variants, ride_id) for ride_id in ids]
    minutes = [0.0] * len(rides)
    for variant in variants:
        picks = [i for i, v in enumerate(chosen) if v is variant]
        if picks:
            predicted = ml.predict(variant.model, [rides[i].features() for i in picks])
            for i, value in zip(picks, predicted, strict=True):
                minutes[i] = float(value)
    app.state.log.append(  # [model_monitoring] a record that cannot be written fails the request (503)
        [
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
    for variant in variants:  # counted once recorded: a refused request was not served
        served = sum(1 for v in chosen if v is variant)
        if served:
            app.state.variant_predictions.labels(variant.name, variant.version).inc(served)
    return [
        Prediction(duration_minutes=m, model_version=v.version, ride_id=i, variant=v.name)
        for i, m, v in zip(ids, minutes, chosen, strict=True)
    ]


def create_app(
    config: Config, state_dir: Path, admin_token: str | None = None, log_path: Path | None = None
) -> FastAPI:
    app = FastAPI(title="NYC taxi duration · ML platform", lifespan=_lifespan)
    app.state.config = config
    app.state.admin_token = admin_token
    app.state.platform = Platform(config, state_dir)
    app.state.log_dir = Path(state_dir) / "predictions"
    app.state.log = PredictionLog(log_path or app.state.log_dir / "predictions.jsonl")
    app.state.metrics = ServiceMetrics()
    app.state.variant_predictions = Counter(
        "variant_predictions", "Rides priced per variant", ["variant", "version"], registry=app.state.metrics.registry
    )
    install_http_hygiene(app)
    app.add_exception_handler(GateRefused, _refused)
    app.add_exception_handler(ArtifactError, _unservable)
    app.add_exception_handler(UnknownVersion, _unknown_version)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)

    @app.post("/deployments")
    async def deploy(spec: DeploymentSpec, _: AdminDep, request: Request) -> dict[str, Any]:
        """Deploy one version, or two with a traffic split (weights add up to 1); the gate checks each."""
        decisions = await request.app.state.platform.deploy(spec)
        return {"deployed": request.app.state.platform.describe(), "gate": [d.to_dict() for d in decisions]}

    @app.get("/deployments")
    async def current(request: Request) -> dict[str, Any]:
        """What serves now."""
        return {"deployed": request.app.state.platform.describe()}

    @app.post("/promote")
    async def promote(spec: PromoteSpec, _: AdminDep, request: Request) -> dict[str, Any]:
        """Make a version the registry's champion and give it all the traffic, if the gate lets it."""
        decision = await request.app.state.platform.promote(spec)
        return {"champion": spec.version, "deployed": request.app.state.platform.describe(), "gate": decision.to_dict()}

    @app.post("/evaluations")
    async def evaluate(spec: EvaluationSpec, _: AdminDep, request: Request) -> dict[str, Any]:
        """The gate's verdict on a version against the champion, measured now, deploying nothing."""
        platform = request.app.state.platform
        await asyncio.to_thread(resolve_version, config, spec.version)  # an unknown version is 404, as on /promote
        async with platform.lock:  # the same champion and numbers a promote would see
            champion = await asyncio.to_thread(platform.champion)
            decision = await asyncio.to_thread(
                check_candidate, config, spec.version, champion, platform.measured, platform.loaded
            )
        return decision.to_dict()

    @app.post("/log/segment")
    async def start_log_segment(spec: SegmentSpec, _: AdminDep, request: Request) -> dict[str, str | None]:
        """Start a new prediction-log file (one per month), so monitoring reads only that month.

        A segment left by an attempt that never finished (a crash before the month was decided) is moved
        aside, not appended to: the month's predictions are then logged once, and nothing is deleted.
        """
        old, path = request.app.state.log, request.app.state.log_dir / f"{spec.label}.jsonl"
        if old.path == path:  # asked twice for the live segment: its acknowledged predictions stay in it
            return {"log": str(path), "superseded": None}
        moved = None
        if path.exists() and path.stat().st_size:
            moved = path.with_name(f"{spec.label}.superseded-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}")
            path.rename(moved)
        request.app.state.log = PredictionLog(path)
        old.close()
        return {"log": str(path), "superseded": str(moved) if moved else None}

    @app.post("/predict", response_model=Prediction)
    async def predict(ride: Ride, request: Request) -> Prediction:
        """Predict one ride; the answer names the version and the A/B variant that served it."""
        return _predict(request.app, [ride])[0]

    @app.post("/predict/batch", response_model=BatchPrediction)
    async def predict_batch(batch: RideBatch, request: Request) -> BatchPrediction:
        """Predict up to 1000 rides; each is routed by its own ride_id."""
        return BatchPrediction(predictions=_predict(request.app, batch.rides))

    @app.get("/health", response_model=None)
    async def health(request: Request) -> dict[str, Any] | JSONResponse:
        """Ready to predict (200) or not, and why (503): a load balancer sends traffic only on 200."""
        platform = request.app.state.platform
        if not platform.variants:
            return JSONResponse({"status": "unavailable", "reason": platform.unready}, status_code=503)
        return {"status": "ok", "deployed": platform.describe()}

    @app.get("/metrics")
    async def metrics(request: Request) -> Response:
        """Operational metrics and predictions per variant, Prometheus text format."""
        return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def app_from_env() -> FastAPI:
    """For `uvicorn --factory` and the Dockerfile: stores from config.py, state and token from the environment."""
    return create_app(Config.from_env(), state_dir_from_env(), read_admin_token())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The ML platform: deploy, A/B test, serve, until Ctrl-C.")
    parser.add_argument("--state-dir", type=Path, default=None, help=f"default: ${STATE_ENV} or ./{DEFAULT_STATE_DIR}")
    parser.add_argument("--host", default="127.0.0.1", help="127.0.0.1 (this machine only) unless you mean it")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    try:
        token = read_admin_token()
        app = create_app(Config.from_env(), args.state_dir or state_dir_from_env(), token)
        app.state.platform.audit.sealed.records()  # a log that is not the platform's own: stop here (exit 3)
        verifies = public_key() is not None  # a key file others could replace: stop here too
    except TaxiDurationError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    if not token:
        print(f"note: neither {TOKEN_ENV} nor {TOKEN_FILE_ENV} is set, so deploy and promote are disabled")
    if not verifies:
        print(f"note: {PUBLIC_KEY_ENV} is not set, so the gate refuses every candidate (it cannot verify lineage)")
    run(app, args.host, args.port)  # uvicorn, with limits on what one client may hold
    return 0


if __name__ == "__main__":
    sys.exit(main())
