"""Level 3 · entry point of `mlops-levels run 3`: train two versions, deploy them through the platform API
(whose quality gate decides what may serve), A/B test them on a replayed month, monitor once the truth
arrives, promote the winner. This script holds no rule: every decision is the platform's answer."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from common import model as ml
from common.data import load_prepared
from common.errors import MlopsLevelsError, StoreError
from common.months import is_month, next_month
from common.runs import RunReport, RunRequest
from common.schemas import servable
from common.serving import background_server
from common.sources import describe_source, resolve_data

CHALLENGER_MODEL = "ridge"
REPLAY_BATCH = 1000  # the API's largest batch: half the requests of 500


def _train(request: RunRequest, model: str) -> dict[str, Any]:
    from levels.level_3.pipeline import run_pipeline

    return run_pipeline(
        request.settings,
        request.train_data,
        request.val_data,
        model,
        params=request.params or None,
        features=request.features,
    )


def _call(api: httpx.Client, path: str, body: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    """(accepted, answer): a 409 is the gate's refusal, part of the story; anything else >= 400 is a failure."""
    response = api.post(path, json=body)
    if response.status_code == 409:
        return False, response.json()["detail"]
    if response.status_code == 503:  # the platform could not record what it served: a store is full or broken
        raise StoreError(f"platform answered 503: {response.json().get('detail')}", where=str(response.url))
    if response.status_code >= 400:
        raise MlopsLevelsError(
            f"platform answered {response.status_code}: {response.text[:200]}", where=str(response.url)
        )
    return True, response.json()


def _gate_row(action: str, accepted: bool, answer: dict[str, Any]) -> dict[str, Any]:
    gate = answer.get("gate")
    decisions = gate if isinstance(gate, list) else [gate] if gate else []
    reasons = "; ".join(d["reason"] for d in decisions if d) or answer.get("error", "")
    return {"call": action, "answer": "accepted" if accepted else "409 refused", "gate says": reasons}


def main(request: RunRequest) -> RunReport:
    settings = request.settings
    request.on_step("connect to the workspace's Prefect server")
    from common.services import ensure_prefect_api  # started now, so its ~10 s show as their own step

    ensure_prefect_api(settings)
    challenger_model = request.options.get("challenger_model") or CHALLENGER_MODEL
    request.on_step(f"train v1 ({request.model}) and v2 ({challenger_model}) with the level-2 pipeline")
    v1, v2 = _train(request, request.model), _train(request, challenger_model)
    from levels.level_3.monitor import join_ground_truth, run_monitoring
    from levels.level_3.platform_api import create_app
    from levels.level_3.prediction_log import read_log
    from levels.level_3.registry import load_version

    replay = request.options.get("replay") or next_month(request.val_data if is_month(request.val_data) else "2021-02")
    replay_ref = resolve_data(replay, settings.data)
    month_rides = load_prepared(replay_ref.path)
    valid = servable(month_rides)  # the API refuses impossible rides with a 422
    rides = month_rides[valid].reset_index(drop=True)
    rides["ride_id"] = [f"{replay_ref.label}-{i}" for i in range(len(rides))]
    token = secrets.token_urlsafe(24)  # this run's own: it lives in memory only, never in a file or a parameter
    replay_name = replay_ref.month or replay_ref.path.stem
    log_path = settings.layout.predictions(3) / f"{replay_name}.jsonl"
    log_path.unlink(missing_ok=True)
    gate_calls = []
    with (
        background_server(create_app(settings, admin_token=token, log_path=log_path)) as url,
        httpx.Client(base_url=url, timeout=120, headers={"Authorization": f"Bearer {token}"}) as api,
    ):
        request.on_step("promote v1 through the platform (its gate compares v1 with the champion, if any)")
        earlier = [d["version"] for d in api.get("/deployments").json()["deployed"]]
        accepted, answer = _call(api, "/promote", {"version": v1["model_version"]})
        # A rerun meets the champion an earlier run left in the registry: the refusal must say whose it is.
        against = f" against v{earlier[0]} (an earlier run's champion)" if earlier else ""
        gate_calls.append(_gate_row(f"promote v{v1['model_version']}{against}", accepted, answer))
        champion = api.get("/deployments").json()["deployed"][0]["version"]
        request.on_step(f"deploy v{champion} and v{v2['model_version']} 50/50 (the gate checks the challenger)")
        split = {
            "variants": [
                {"name": "champion", "version": champion, "weight": 0.5},
                {"name": "challenger", "version": v2["model_version"], "weight": 0.5},
            ]
        }
        accepted, answer = _call(api, "/deployments", split)
        gate_calls.append(_gate_row(f"A/B v{champion} + v{v2['model_version']}", accepted, answer))
        request.on_step(f"replay {len(rides):,} rides of {replay_ref.label} through /predict/batch")
        records = rides[["ride_id", "PULocationID", "DOLocationID", "trip_distance"]].to_dict("records")
        for start in range(0, len(records), REPLAY_BATCH):
            _call(api, "/predict/batch", {"rides": records[start : start + REPLAY_BATCH]})

        request.on_step("ground truth arrived: monitoring with Evidently")
        logged = read_log(log_path)
        served = join_ground_truth(logged.records, rides)
        # The reference is the validation month: rides the champion never trained on, as served rides are.
        reference = load_prepared(resolve_data(request.val_data, settings.data).path)
        reference["prediction"] = ml.predict(load_version(settings, champion), reference)
        result = run_monitoring(served, reference, settings.layout.reports(3), replay_name)
        versions = {v["name"]: v["version"] for v in api.get("/deployments").json()["deployed"]}
        winner = min(result.rmse_by_variant, key=lambda name: result.rmse_by_variant[name])
        request.on_step(f"promote the winner ({winner}, v{versions[winner]}) through the API")
        accepted, answer = _call(api, "/promote", {"version": versions[winner]})
        gate_calls.append(_gate_row(f"promote v{versions[winner]} (A/B winner)", accepted, answer))
        deployed = api.get("/deployments").json()["deployed"]

    ab_rows = [
        {
            "variant": name,
            "version": versions[name],
            "rides": result.rows_by_variant[name],
            "RMSE": round(result.rmse_by_variant[name], 4),
        }
        for name in sorted(result.rmse_by_variant)
    ]
    return request.report(
        3,
        metrics={
            "rmse_val": v1["metrics"]["rmse_val"],
            "candidate_rmse_val": v2["metrics"]["rmse_val"],
            "drift_share": result.drift_share,
            **{f"rmse_{k}": v for k, v in result.rmse_by_variant.items()},
        },
        artifacts={
            "prediction log": str(log_path),
            "reports": str(settings.layout.reports(3)),
            "audit log": str(settings.level_dir(3) / "audit.jsonl"),
        },
        details={
            "data": describe_source(settings.data),
            "replayed": replay_ref.label,
            "rides_refused_as_invalid": int((~valid).sum()),
            "quality gate": gate_calls,
            "ab_test": ab_rows,
            "drifted_columns": ", ".join(result.drifted_columns) or "none",
            "serving_after": deployed,
            "report_files": result.reports,
        },
        manual_steps=["decide when to retrain and on which months"],
        serving={"kind": "registry", "version": deployed[0]["version"]},
    )
