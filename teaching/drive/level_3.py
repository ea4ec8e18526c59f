"""`mlops-levels run 3` and `serve 3`: train two versions with the level's pipeline, start its platform,
deploy them through the platform's API (whose quality gate decides what may serve), A/B test them on a
replayed month, run the level's monitoring job once the truth arrives, promote the winner.

Nothing here decides: every decision is the platform's answer, and the toolkit only plays the traffic
and the calendar (a month's rides, then their actual durations).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

from common.data import load_prepared
from common.errors import MlopsLevelsError, StoreError
from common.months import is_month, next_month
from common.schemas import servable
from common.sources import describe_source, resolve_data
from teaching.drive.training import prefect_env, train
from teaching.infra.config import Settings
from teaching.infra.runs import RunReport, RunRequest
from teaching.infra.secrets import lineage_env
from teaching.levelproc import level_server, platform_token_env, require_store, run_json, serve_command

LEVEL = 3
CHALLENGER_MODEL = "ridge"
REPLAY_BATCH = 1000  # the API's largest batch: half the requests of 500
PLATFORM = "taxi_duration.platform_api"


def call(api: httpx.Client, path: str, body: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
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


def _month_rides(settings: Settings, replay: str) -> tuple[pd.DataFrame, int, str, str]:
    """The replayed month's servable rides with their ids, how many were refused, its label and name."""
    ref = resolve_data(replay, settings.data)
    month_rides = load_prepared(ref.path)
    valid = servable(month_rides)  # the API refuses impossible rides with a 422
    rides = month_rides[valid].reset_index(drop=True)
    rides["ride_id"] = [f"{ref.label}-{i}" for i in range(len(rides))]
    return rides, int((~valid).sum()), ref.label, ref.month or ref.path.stem


def _truth_file(settings: Settings, rides: pd.DataFrame, name: str) -> Path:
    """The month's actual durations, as they arrive after it: what the monitoring job joins on."""
    path = settings.layout.platform(LEVEL) / "truth" / f"{name}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    rides[["ride_id", "duration"]].to_parquet(path)
    return path


def main(request: RunRequest) -> RunReport:
    settings = request.settings
    request.on_step("connect to the workspace's Prefect server")
    prefect_env(settings)
    challenger_model = request.options.get("challenger_model") or CHALLENGER_MODEL
    request.on_step(f"train v1 ({request.model}) and v2 ({challenger_model}) with the level's pipeline")
    v1, v2 = (
        train(LEVEL, settings, request.train_data, request.val_data, model, request.features, False, request.on_step)
        for model in (request.model, challenger_model)
    )
    replay = request.options.get("replay") or next_month(request.val_data if is_month(request.val_data) else "2021-02")
    rides, refused, label, name = _month_rides(settings, replay)
    token = secrets.token_urlsafe(24)  # this run's own: in memory and in the platform's environment only
    verifies = lineage_env(settings, signs=False)  # the platform checks the pipeline's signatures, makes none
    gate_calls = []
    with (
        level_server(LEVEL, PLATFORM, [], settings, {"PLATFORM_ADMIN_TOKEN": token, **verifies}) as url,
        httpx.Client(base_url=url, timeout=120, headers={"Authorization": f"Bearer {token}"}) as api,
    ):
        request.on_step("promote v1 through the platform (its gate compares v1 with the champion, if any)")
        earlier = [d["version"] for d in api.get("/deployments").json()["deployed"]]
        accepted, answer = call(api, "/promote", {"version": v1["model_version"]})
        # A rerun meets the champion an earlier run left in the registry: the refusal must say whose it is.
        against = f" against v{earlier[0]} (an earlier run's champion)" if earlier else ""
        gate_calls.append(_gate_row(f"promote v{v1['model_version']}{against}", accepted, answer))
        serving = api.get("/deployments").json()["deployed"]
        if not serving:  # no champion, and v1 refused: its lineage could not be verified (e.g. trained unsigned)
            raise MlopsLevelsError(
                f"the platform refused v{v1['model_version']}: {answer.get('error')}", fix=answer.get("fix")
            )
        champion = serving[0]["version"]
        request.on_step(f"deploy v{champion} and v{v2['model_version']} 50/50 (the gate checks the challenger)")
        split = {
            "variants": [
                {"name": "champion", "version": champion, "weight": 0.5},
                {"name": "challenger", "version": v2["model_version"], "weight": 0.5},
            ]
        }
        accepted, answer = call(api, "/deployments", split)
        gate_calls.append(_gate_row(f"A/B v{champion} + v{v2['model_version']}", accepted, answer))
        request.on_step(f"replay {len(rides):,} rides of {label} through /predict/batch")
        _, segment = call(api, "/log/segment", {"label": name})
        records = rides[["ride_id", "PULocationID", "DOLocationID", "trip_distance"]].to_dict("records")
        for start in range(0, len(records), REPLAY_BATCH):
            call(api, "/predict/batch", {"rides": records[start : start + REPLAY_BATCH]})

        request.on_step("ground truth arrived: the monitoring job (python -m taxi_duration.monitor)")
        # The reference is the validation month: rides the champion never trained on, as served rides are.
        result = run_json(
            LEVEL,
            "taxi_duration.monitor",
            ["--predictions", segment["log"], "--truth", str(_truth_file(settings, rides, name))]
            + ["--reference-month", request.val_data, "--version", champion, "--label", name]
            + ["--reports", str(settings.layout.reports(LEVEL))],
            settings,
        )
        versions = {v["name"]: v["version"] for v in api.get("/deployments").json()["deployed"]}
        winner = min(result["rmse_by_variant"], key=lambda variant: result["rmse_by_variant"][variant])
        request.on_step(f"promote the winner ({winner}, v{versions[winner]}) through the API")
        accepted, answer = call(api, "/promote", {"version": versions[winner]})
        # With the challenger refused, only the champion served: it "wins" alone, and the row says so.
        why = "A/B winner" if len(result["rmse_by_variant"]) > 1 else "the champion, served alone: no challenger"
        gate_calls.append(_gate_row(f"promote v{versions[winner]} ({why})", accepted, answer))
        deployed = api.get("/deployments").json()["deployed"]

    models = {v1["model_version"]: request.model, v2["model_version"]: challenger_model}
    by_version = {v1["model_version"]: v1, v2["model_version"]: v2}
    ab_rows = [
        {
            "variant": variant,
            "version": versions[variant],
            "model": models.get(versions[variant], "an earlier run's"),
            "rides": result["rows_by_variant"][variant],
            "RMSE": round(result["rmse_by_variant"][variant], 4),
        }
        for variant in sorted(result["rmse_by_variant"])
    ]
    return request.report(
        LEVEL,
        metrics={
            # the served version's validation RMSE (the A/B winner's), as every other level reports its own
            "rmse_val": by_version.get(deployed[0]["version"], v1)["metrics"]["rmse_val"],
            f"rmse_val_v{v1['model_version']}": v1["metrics"]["rmse_val"],
            f"rmse_val_v{v2['model_version']}": v2["metrics"]["rmse_val"],
            "drift_share": result["drift_share"],
            **{f"rmse_{k}": v for k, v in result["rmse_by_variant"].items()},
        },
        artifacts={
            "prediction log": segment["log"],
            "reports": str(settings.layout.reports(LEVEL)),
            "audit log": str(settings.layout.platform(LEVEL) / "audit.jsonl"),
        },
        details={
            "data": describe_source(settings.data),
            "replayed": label,
            "rides_refused_as_invalid": refused,
            "quality gate": gate_calls,
            "ab_test": ab_rows,
            "drifted_columns": ", ".join(result["drifted_columns"]) or "none",
            "serving_after": deployed,
            "report_files": result["reports"],
        },
        manual_steps=["decide when to retrain and on which months"],
        serving={"kind": "registry", "version": deployed[0]["version"]},
    )


def serve(settings: Settings, host: str, port: int, options: dict[str, Any]) -> None:
    """`mlops-levels serve 3`: the level's platform, serving the champion, until Ctrl-C. Its admin token is
    the person's, or the workspace's (a 0600 file the platform reads: never in a command line)."""
    require_store(LEVEL, settings)
    tools = {**platform_token_env(settings), **lineage_env(settings, signs=False)}
    serve_command(LEVEL, settings, PLATFORM, host, port, [], tools)
