"""Level 3 · entry point of `mlops-levels run 3`: train two versions, gate, deploy both through the
platform API with a 50/50 split, replay a month of rides, monitor once the truth arrives, promote."""

from __future__ import annotations

import contextlib
import io
import os
import secrets

import httpx

from common import model as ml
from common.data import load_prepared
from common.months import next_month
from common.runs import RunReport, RunRequest
from common.schemas import servable
from common.serving import background_server
from common.sources import resolve_data

CHALLENGER_MODEL = "ridge"
REPLAY_BATCH = 500


def _train(request: RunRequest, model: str) -> dict:
    from levels.level_3.pipeline import run_pipeline

    with contextlib.redirect_stderr(io.StringIO()) if not request.settings.verbose else contextlib.nullcontext():
        return run_pipeline(
            request.settings, request.train_data, request.val_data, model, params=request.params or None
        )


def main(request: RunRequest) -> RunReport:
    settings = request.settings
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    request.on_step("train v1 (champion) and v2 (candidate) with the level-2 pipeline")
    from common.services import ensure_prefect_api

    ensure_prefect_api(settings)
    challenger_model = request.options.get("challenger_model") or CHALLENGER_MODEL
    v1, v2 = _train(request, request.model), _train(request, challenger_model)

    from levels.level_3.gate import quality_gate
    from levels.level_3.monitor import join_ground_truth, run_monitoring
    from levels.level_3.platform_api import create_app
    from levels.level_3.prediction_log import read_log

    gate = quality_gate(v2["model_version"], v2["metrics"]["rmse_val"], v1["model_version"], v1["metrics"]["rmse_val"])
    replay_month = next_month(request.val_data) if request.options.get("replay") is None else request.options["replay"]
    month_rides = load_prepared(resolve_data(replay_month, settings).path)
    valid = servable(month_rides)  # the API refuses impossible rides with a 422
    rides = month_rides[valid].reset_index(drop=True)
    rides["ride_id"] = [f"{replay_month}-{i}" for i in range(len(rides))]
    token = secrets.token_urlsafe(24)
    log_path = settings.level_dir(3) / "predictions" / f"{replay_month}.jsonl"
    log_path.unlink(missing_ok=True)
    headers = {"Authorization": f"Bearer {token}"}

    request.on_step("deploy v1 as champion and v2 as challenger through the platform API")
    with (
        background_server(create_app(settings, admin_token=token, log_path=log_path)) as url,
        httpx.Client(base_url=url, timeout=120, headers=headers) as api,
    ):
        _check(api.post("/promote", json={"version": v1["model_version"]}))
        if gate.passed:
            _check(
                api.post(
                    "/deployments",
                    json={
                        "variants": [
                            {"name": "champion", "version": v1["model_version"], "weight": 0.5},
                            {"name": "challenger", "version": v2["model_version"], "weight": 0.5},
                        ]
                    },
                )
            )
        request.on_step(f"replay {len(rides):,} rides of {replay_month} through /predict/batch")
        records = rides[["ride_id", "PULocationID", "DOLocationID", "trip_distance"]].to_dict("records")
        for start in range(0, len(records), REPLAY_BATCH):
            _check(api.post("/predict/batch", json={"rides": records[start : start + REPLAY_BATCH]}))

        request.on_step("ground truth arrived: monitoring with Evidently")
        served = join_ground_truth(read_log(log_path).records, rides)
        reference = load_prepared(resolve_data(request.train_data, settings).path)
        reference["prediction"] = ml.predict(_champion_model(settings, v1["model_version"]), reference)
        result = run_monitoring(served, reference, settings.level_dir(3) / "reports", replay_month)

        winner = min(result.rmse_by_variant, key=result.rmse_by_variant.get)
        promoted = v2["model_version"] if winner == "challenger" else v1["model_version"]
        request.on_step(f"promote the winner ({winner}, v{promoted}) through the API")
        _check(api.post("/promote", json={"version": promoted}))
        deployed = api.get("/deployments").json()["deployed"]

    ab_rows = [
        {
            "variant": name,
            "version": v2["model_version"] if name == "challenger" else v1["model_version"],
            "rides": result.rows_by_variant[name],
            "RMSE": round(result.rmse_by_variant[name], 4),
        }
        for name in sorted(result.rmse_by_variant)
    ]
    return RunReport(
        level=3,
        train=request.train_data,
        val=request.val_data,
        model=request.model,
        metrics={
            "rmse_val": v1["metrics"]["rmse_val"],
            "candidate_rmse_val": v2["metrics"]["rmse_val"],
            "drift_share": result.drift_share,
            **{f"rmse_{k}": v for k, v in result.rmse_by_variant.items()},
        },
        artifacts={"prediction log": str(log_path), "reports": str(settings.level_dir(3) / "reports")},
        details={
            "gate": gate.reason,
            "gate_passed": gate.passed,
            "replay_month": replay_month,
            "rides_refused_as_invalid": int((~valid).sum()),
            "ab_test": ab_rows,
            "drifted_columns": ", ".join(result.drifted_columns) or "none",
            "promoted_version": promoted,
            "serving_after": str(deployed),
            "report_files": result.reports,
        },
        manual_steps=["decide when to retrain and on which months"],
    )


def _check(response: httpx.Response) -> None:
    if response.status_code >= 400:
        from common.errors import MlopsLevelsError

        raise MlopsLevelsError(
            f"platform answered {response.status_code}: {response.text[:200]}", where=str(response.url)
        )


def _champion_model(settings, version: str):
    import mlflow.sklearn

    return mlflow.sklearn.load_model(f"models:/{settings.model_name}/{version}")
