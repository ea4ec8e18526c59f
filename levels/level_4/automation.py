"""Level 4 · automated_retraining: the monthly loop, as a Prefect flow. No person in it.

    month's rides served by the platform -> ground truth arrives -> monitoring (drift, RMSE)
    -> a rule fires? -> retrain on a recent window -> the platform's gate compares challenger and
    champion on the same data -> promote (hot reload, no request lost) -> record the decision

No rule fires -> nothing changes, and that is recorded too. A failed retrain or a refused candidate
leaves the champion serving. A month already decided is not done again (one decision per month,
predictions logged once), so a schedule that fires twice, or a loop restarted after a crash, is safe.

The flow's parameters hold nothing secret: the admin token comes from the environment or the
workspace's 0600 token file (common/secrets.py), because Prefect keeps parameters in clear.
"""

from __future__ import annotations

import time
import traceback
from datetime import datetime
from typing import Any

import httpx
import pandas as pd
from prefect import flow, task
from prefect.cache_policies import NONE

from common import model as ml
from common.config import Settings
from common.data import load_prepared
from common.errors import MlopsLevelsError
from common.months import months_before, previous_month
from common.schemas import servable
from common.secrets import read_admin_token
from common.sources import describe_source, resolve_data
from levels.level_4.decisions import DecisionLog
from levels.level_4.registry import load_version
from levels.level_4.triggers import Thresholds, fired_rules

REPLAY_BATCH = 1000  # the API's largest batch: half the requests of 500
TRAINING_WINDOW = 2  # months


def decision_log(settings: Settings, first_month: str, model: str) -> DecisionLog:
    """One log per story (data, seed, start, model): rerunning it resumes, another starts anew."""
    source = f"dir-{settings.data_folder.name}" if settings.data_folder else f"{settings.source}-{settings.scenario}"
    key = f"{source}-seed{settings.seed}-{first_month}-{model}"
    return DecisionLog(settings.layout.decisions(4) / f"{key}.jsonl")


def month_of_schedule(scheduled: datetime) -> str:  # [exercise: schedule-month]
    """A run scheduled at 06:00 on the 1st serves the month that has just ended."""
    return previous_month(f"{scheduled.year:04d}-{scheduled.month:02d}")


def _api(settings: Settings, platform_url: str) -> httpx.Client:
    token = read_admin_token(settings)
    if not token:
        raise MlopsLevelsError(
            "no admin token", fix="set MLOPS_LEVELS_ADMIN_TOKEN, or start it with mlops-levels serve 4"
        )
    return httpx.Client(base_url=platform_url, timeout=120, headers={"Authorization": f"Bearer {token}"})


def _check(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        raise MlopsLevelsError(
            f"platform answered {response.status_code}: {response.text[:200]}", where=str(response.url)
        )
    answer: dict[str, Any] = response.json()
    return answer


@task(cache_policy=NONE)
def serve_month(settings: Settings, month: str, platform_url: str) -> pd.DataFrame:
    """Send the month's rides through the platform, as live traffic would arrive."""
    rides = load_prepared(resolve_data(month, settings.data).path)
    rides = rides[servable(rides)].reset_index(drop=True)
    rides["ride_id"] = [f"{month}-{i}" for i in range(len(rides))]
    records = rides[["ride_id", "PULocationID", "DOLocationID", "trip_distance"]].to_dict("records")
    with _api(settings, platform_url) as api:
        _check(api.post("/log/segment", json={"label": month}))
        for start in range(0, len(records), REPLAY_BATCH):
            _check(api.post("/predict/batch", json={"rides": records[start : start + REPLAY_BATCH]}))
    return rides


def load_prepared_window(settings: Settings, months: list[str]) -> pd.DataFrame:
    return pd.concat([load_prepared(resolve_data(m, settings.data).path) for m in months], ignore_index=True)


@task(cache_policy=NONE)
def monitor_month(settings: Settings, month: str, rides: pd.DataFrame, champion: dict[str, Any]) -> dict[str, Any]:
    """Ground truth arrived: join it to the log, run Evidently against the champion's training data."""
    from dataclasses import asdict

    from levels.level_4.monitor import join_ground_truth, run_monitoring
    from levels.level_4.prediction_log import read_log

    logged = read_log(settings.layout.predictions(4) / f"{month}.jsonl")
    served = join_ground_truth(logged.records, rides)
    # The reference is the month the champion was validated on: rides it never trained on, as served ones are.
    reference = load_prepared_window(settings, str(champion.get("val", champion["train"])).split(","))
    reference["prediction"] = ml.predict(load_version(settings, champion["version"]), reference)
    measured = asdict(run_monitoring(served, reference, settings.layout.reports(4), month))
    return measured | {"torn_log_line": logged.torn_last_line}


@task(cache_policy=NONE)
def retrain(settings: Settings, month: str, window: list[str], model: str, features: str) -> dict[str, Any]:
    """Train on the recent window, validated on this month: the gate then measures both on the same rides."""
    from levels.level_4.pipeline import training_pipeline

    trained = training_pipeline(",".join(window), month, model, settings=settings, features=features)
    return {"version": str(trained["model_version"]), "rmse_val": trained["metrics"]["rmse_val"]}


def _act(
    settings: Settings,
    month: str,
    champion: dict[str, Any],
    window: list[str],
    model: str,
    features: str,
    platform_url: str,
) -> dict[str, Any]:
    try:
        candidate = retrain(settings, month, window, model, features)
    except Exception as exc:  # a failed retrain must never stop the champion serving
        return {
            "action": f"retrain failed: {type(exc).__name__}: {exc}"[:300],
            "error": traceback.format_exc(limit=3)[-1000:],
        }
    outcome = {"window": ",".join(window), "candidate_version": candidate["version"]}
    with _api(settings, platform_url) as api:  # the platform's gate decides; the loop only asks
        answer = api.post("/promote", json={"version": candidate["version"]})
    if answer.status_code == 409:
        return {"action": "retrained; gate refused the candidate", **outcome, "gate": answer.json()["detail"]["gate"]}
    gate = _check(answer)["gate"]
    baseline = gate["candidate_rmse"] if gate["candidate_rmse"] is not None else candidate["rmse_val"]
    new_champion = {"version": candidate["version"], "train": ",".join(window), "val": month, "baseline_rmse": baseline}
    return {"action": "retrained and promoted", **outcome, "gate": gate, "champion": new_champion}


# [automated_retraining] [orchestrated_pipeline]
@flow(name="level-4-monthly-cycle")
def monthly_cycle(
    platform_url: str,
    config: dict[str, Any],
    first_month: str,
    model: str = "linear_regression",
    features: str = "pu_do",
    month: str | None = None,
    window: list[str] | None = None,
) -> dict[str, Any]:
    """One month of the closed loop: the given month, or the one that ended before the scheduled time."""
    from prefect.runtime import flow_run

    settings = Settings(**config)
    month = month or month_of_schedule(flow_run.scheduled_start_time)
    log = decision_log(settings, first_month, model)
    with log.exclusive():
        history = log.history()
        if month in {d["month"] for d in history}:
            return {"month": month, "action": "already decided", "skipped": True}
        if history and month < history[-1]["month"]:  # a past month decided with a later model: a false story
            raise MlopsLevelsError(
                f"{month} comes before {history[-1]['month']}, which this loop has already decided",
                where=str(log.path),
                fix="decide later months only, or start a new story (another --seed, or mlops-levels clean)",
            )
        if not history:
            raise MlopsLevelsError(
                "the loop has no first champion yet",
                where=str(log.path),
                fix="start it with mlops-levels serve 4 or mlops-levels run 4",
            )
        champion, frozen = history[-1]["champion"], history[0]["champion"]
        # pandas is untyped here, so Prefect's Task overloads would take the DataFrame for a coroutine
        rides: pd.DataFrame = serve_month(settings, month, platform_url)
        measured = monitor_month(settings, month, rides, champion)
        month_rmse = measured["rmse_by_variant"].get("champion", float("nan"))
        rules = fired_rules(measured["drift_share"], month_rmse, champion["baseline_rmse"], Thresholds())
        decision: dict[str, Any] = {
            "month": month,
            "data": describe_source(settings.data),
            "rides": len(rides),
            "served_version": champion["version"],
            "drift_share": measured["drift_share"],
            "drifted_columns": measured["drifted_columns"],
            "rmse": month_rmse,
            "frozen_rmse": ml.evaluate(load_version(settings, frozen["version"]), rides),
            "rules_fired": rules,
            "action": "none",
            "champion": champion,
            "reports": measured["reports"],
        }
        if rules:
            window = window or months_before(month, TRAINING_WINDOW)
            decision |= _act(settings, month, champion, window, model, features, platform_url)
        decision["at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        log.record(decision)
        return decision


@flow(name="level-4-fast-forward")
def fast_forward(
    months: list[str],
    platform_url: str,
    config: dict[str, Any],
    model: str = "linear_regression",
    features: str = "pu_do",
) -> list[dict[str, Any]]:
    """months[0] trained the first champion; the rest run in order (a month already decided is skipped)."""
    return [
        monthly_cycle(
            platform_url,
            config,
            months[0],
            model,
            features,
            month=month,
            window=months[max(0, index - TRAINING_WINDOW) : index],
        )
        for index, month in enumerate(months)
        if index > 0
    ]
