"""Level 4 · automated_retraining: the monthly loop, as a Prefect flow. No person in it.

    month's rides served by the platform -> ground truth arrives -> monitoring (drift, RMSE)
    -> a rule fires? -> retrain on a recent window -> gate against the champion (same rides)
    -> promote through the platform API (hot reload, no request lost) -> record the decision

No rule fires -> nothing changes, and that is recorded too. A failed retrain or a refused candidate
leaves the champion serving. Decisions are appended to a log; a restarted loop skips finished months.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import asdict
from typing import Any

import httpx
import pandas as pd
from prefect import flow, task
from prefect.cache_policies import NONE

from common import model as ml
from common.config import Settings
from common.data import load_prepared
from common.errors import MlopsLevelsError
from common.months import month_range, parse_month
from common.schemas import servable
from common.sources import resolve_data
from levels.level_4.decisions import DecisionLog
from levels.level_4.gate import quality_gate
from levels.level_4.triggers import Thresholds, fired_rules

REPLAY_BATCH = 500
TRAINING_WINDOW = 2  # months


def decision_log(settings: Settings, first_month: str, model: str) -> DecisionLog:
    """One log per experiment (scenario, seed, start, model): rerunning it resumes, another starts anew."""
    key = f"{settings.source}-{settings.scenario}-seed{settings.seed}-{first_month}-{model}"
    return DecisionLog(settings.level_dir(4) / "decisions" / f"{key}.jsonl")


def _load_model(settings: Settings, version: str) -> Any:
    import mlflow.sklearn

    return mlflow.sklearn.load_model(f"models:/{settings.model_name}/{version}")


def _window_before(month: str, size: int) -> str:
    year, mon = parse_month(month)
    index = year * 12 + mon - 1
    first, last = index - size, index - 1
    return f"{first // 12:04d}-{first % 12 + 1:02d}..{last // 12:04d}-{last % 12 + 1:02d}"


def _api(platform_url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=platform_url, timeout=120, headers={"Authorization": f"Bearer {token}"})


def _check(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        raise MlopsLevelsError(
            f"platform answered {response.status_code}: {response.text[:200]}", where=str(response.url)
        )
    return response.json()


@task(cache_policy=NONE)
def serve_month(settings: Settings, month: str, platform_url: str, token: str) -> pd.DataFrame:
    """Send the month's rides through the platform, as live traffic would arrive."""
    rides = load_prepared(resolve_data(month, settings).path)
    rides = rides[servable(rides)].reset_index(drop=True)
    rides["ride_id"] = [f"{month}-{i}" for i in range(len(rides))]
    records = rides[["ride_id", "PULocationID", "DOLocationID", "trip_distance"]].to_dict("records")
    with _api(platform_url, token) as api:
        _check(api.post("/log/segment", json={"label": month}))
        for start in range(0, len(records), REPLAY_BATCH):
            _check(api.post("/predict/batch", json={"rides": records[start : start + REPLAY_BATCH]}))
    return rides


@task(cache_policy=NONE)
def monitor_month(settings: Settings, month: str, rides: pd.DataFrame, champion: dict[str, Any]) -> dict[str, Any]:
    """Ground truth arrived: join it to the log, run Evidently against the champion's training data."""
    from levels.level_4.monitor import join_ground_truth, run_monitoring
    from levels.level_4.prediction_log import read_log

    served = join_ground_truth(read_log(settings.level_dir(4) / "predictions" / f"{month}.jsonl").records, rides)
    reference = load_prepared_window(settings, champion["train"])
    reference["prediction"] = ml.predict(_load_model(settings, champion["version"]), reference)
    result = run_monitoring(served, reference, settings.level_dir(4) / "reports", month)
    return asdict(result)


def load_prepared_window(settings: Settings, spec: str) -> pd.DataFrame:
    """A month or a window of months ("2021-03..2021-04"), prepared and stacked."""
    return pd.concat([load_prepared(resolve_data(m, settings).path) for m in month_range(spec)], ignore_index=True)


@task(cache_policy=NONE)
def retrain_and_gate(
    settings: Settings, month: str, rides: pd.DataFrame, champion: dict[str, Any], model: str
) -> dict[str, Any]:
    """Train on the recent window, then compare with the champion on the same rides of this month."""
    from levels.level_4.pipeline import training_pipeline

    window = _window_before(month, TRAINING_WINDOW)
    trained = training_pipeline(window, month, model, settings=settings)
    candidate_rmse = ml.evaluate(_load_model(settings, trained["model_version"]), rides)
    champion_rmse = ml.evaluate(_load_model(settings, champion["version"]), rides)
    gate = quality_gate(trained["model_version"], candidate_rmse, champion["version"], champion_rmse)
    return {"window": window, "candidate_version": trained["model_version"], "gate": gate.to_dict()}


# [automated_retraining] [orchestrated_pipeline]
@flow(name="level-4-monthly-cycle")
def monthly_cycle(
    month: str,
    platform_url: str,
    token: str,
    config: dict[str, Any],
    first_month: str,
    model: str = "linear_regression",
) -> dict[str, Any]:
    """One month of the closed loop; returns (and records) the decision."""
    settings = Settings(**config)
    log = decision_log(settings, first_month, model)
    history = log.read()
    champion = history[-1]["champion"]
    frozen = history[0]["champion"]
    rides = serve_month(settings, month, platform_url, token)
    measured = monitor_month(settings, month, rides, champion)
    month_rmse = measured["rmse_by_variant"].get("champion", float("nan"))
    frozen_rmse = ml.evaluate(_load_model(settings, frozen["version"]), rides)
    rules = fired_rules(measured["drift_share"], month_rmse, champion["baseline_rmse"], Thresholds())
    decision: dict[str, Any] = {
        "month": month,
        "rides": len(rides),
        "served_version": champion["version"],
        "drift_share": measured["drift_share"],
        "drifted_columns": measured["drifted_columns"],
        "rmse": month_rmse,
        "frozen_rmse": frozen_rmse,
        "rules_fired": rules,
        "action": "none",
        "champion": champion,
        "reports": measured["reports"],
    }
    if rules:
        decision |= _act(settings, month, rides, champion, model, platform_url, token)
    decision["at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    log.record(decision)
    return decision


def _act(
    settings: Settings,
    month: str,
    rides: pd.DataFrame,
    champion: dict[str, Any],
    model: str,
    platform_url: str,
    token: str,
) -> dict[str, Any]:
    try:
        outcome = retrain_and_gate(settings, month, rides, champion, model)
    except Exception as exc:  # a failed retrain must never stop the champion serving
        return {
            "action": f"retrain failed: {type(exc).__name__}: {exc}"[:300],
            "error": traceback.format_exc(limit=3)[-1000:],
        }
    gate = outcome["gate"]
    if not gate["passed"]:
        return {"action": "retrained; gate refused the candidate", **outcome}
    with _api(platform_url, token) as api:  # hot reload: the platform swaps models between requests
        _check(api.post("/promote", json={"version": outcome["candidate_version"]}))
    new_champion = {
        "version": outcome["candidate_version"],
        "train": outcome["window"],
        "baseline_rmse": gate["candidate_rmse"],
    }
    return {"action": "retrained and promoted", **outcome, "champion": new_champion}


@flow(name="level-4-fast-forward")
def fast_forward(
    months: list[str], platform_url: str, token: str, config: dict[str, Any], model: str = "linear_regression"
) -> list[dict[str, Any]]:
    """months[0] trained the first champion; the rest run in order, skipping months already decided."""
    settings = Settings(**config)
    done = decision_log(settings, months[0], model).finished_months()
    return [
        monthly_cycle(month, platform_url, token, config, months[0], model) for month in months[1:] if month not in done
    ]
