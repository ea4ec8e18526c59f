"""Level 4 · automated_retraining: the monthly loop, as a Prefect flow. No person in it.

    month's rides served by the platform -> ground truth arrives -> monitoring (drift, RMSE)
    -> a rule fires? -> retrain on a recent window -> the platform's gate compares challenger and
    champion on the same data -> promote (hot reload, no request lost) -> record the decision

No rule fires -> nothing changes, and that is recorded too. A failed retrain or a refused candidate
leaves the champion serving. A month already decided is not done again (one decision per month,
predictions logged once), so a schedule that fires twice, or a loop restarted after a crash, is safe.

The flow's parameters hold nothing secret: the admin token comes from the environment or a token file
only its owner can read (platform_api.read_admin_token), because Prefect keeps parameters in clear. The
stores and months come from the environment too (config.py), and the loop keeps its decisions beside
the platform's files, in PLATFORM_STATE_DIR. Where the platform lives is not a parameter either: it is
PLATFORM_URL in the environment of the process that runs the flow (platform_url_from_env()), because the admin
token is sent there and anyone who can reach the Prefect API can choose a run's parameters.

    PLATFORM_URL=http://127.0.0.1:8000 python -m taxi_duration.automation --months 2021-01..2021-06
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import pandas as pd
from prefect import flow, task
from prefect.cache_policies import NONE
from prefect.runtime import deployment, flow_run

from common import model as ml
from common.data import load_prepared
from common.errors import TaxiDurationError, UsageError
from common.months import is_month, month_range, months_apart, months_before, previous_month
from common.schemas import servable
from common.sources import describe_source, resolve_data
from taxi_duration.config import Config
from taxi_duration.decisions import DecisionLog
from taxi_duration.monitor import join_ground_truth, run_monitoring
from taxi_duration.pipeline import training_pipeline
from taxi_duration.platform_api import TOKEN_ENV, TOKEN_FILE_ENV, read_admin_token, state_dir_from_env
from taxi_duration.prediction_log import read_log
from taxi_duration.registry import load_version
from taxi_duration.triggers import Thresholds, fired_rules

REPLAY_BATCH = 1000  # the API's largest batch: half the requests of 500
TRAINING_WINDOW = 2  # months
PLATFORM_URL_ENV = "PLATFORM_URL"
ALLOW_REMOTE_ENV = "PLATFORM_URL_ALLOW_REMOTE"  # "1": the platform may live on another host
DEFAULT_PLATFORM_URL = "http://127.0.0.1:8000"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def platform_url_from_env() -> str:
    """Where the platform lives: PLATFORM_URL from this process's environment, never from a run's parameters.

    The loop sends the platform's admin token (Authorization: Bearer ...) to this address, and anyone who
    can reach the Prefect API can create a run with parameters of their choosing; so the address is bound
    by whoever starts the process that runs the flows (schedule.py, automation.main, a pool's worker), and
    it must be an http(s) URL on this machine (127.0.0.1/localhost) unless PLATFORM_URL_ALLOW_REMOTE=1
    says, in that same environment, that another host is meant.
    """
    url = os.environ.get(PLATFORM_URL_ENV) or DEFAULT_PLATFORM_URL
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise UsageError(f"{PLATFORM_URL_ENV}={url!r} is not an http(s) URL", fix="e.g. http://127.0.0.1:8000")
    if host not in LOOPBACK and os.environ.get(ALLOW_REMOTE_ENV) != "1":
        raise UsageError(
            f"{PLATFORM_URL_ENV}={url!r} is not on this machine, and the admin token would be sent there",
            fix=f"use http://127.0.0.1:PORT, or set {ALLOW_REMOTE_ENV}=1 where the platform is on another host",
        )
    return url.rstrip("/")


def month_to_decide(month: str | None) -> str:
    """The month this run may decide. A run of a deployment (created by its schedule, or by anyone who can
    reach the Prefect API) decides the month its scheduled time implies, and only once that month has
    ended: a `month` parameter that says otherwise is refused before anything is read or decided."""
    scheduled = flow_run.scheduled_start_time
    implied = month_of_schedule(scheduled)
    if not deployment.id:  # this process's own call (fast_forward, a test): its months are its own
        return month or implied
    ended = month_of_schedule(datetime.now(UTC))
    if month is not None and month != implied:
        raise UsageError(
            f"month {month} is not the month this run's scheduled time ({scheduled}) implies, {implied}",
            fix="leave `month` out of a deployment's run: its scheduled time says which month it decides",
        )
    if implied > ended:
        raise UsageError(
            f"{implied} has not ended yet (the month that has just ended is {ended})",
            fix="a run decides a month once it has ended: schedule it for the 1st of the next month",
        )
    return implied


def decision_log(config: Config, first_month: str, model: str) -> DecisionLog:
    """One log per story (data, seed, start, model): rerunning it resumes, another starts anew."""
    data = config.data
    source = f"dir-{data.folder.name}" if data.folder else f"{data.source}-{data.scenario}"
    key = f"{source}-seed{data.seed}-{first_month}-{model}"
    return DecisionLog(state_dir_from_env() / "decisions" / f"{key}.jsonl")


def month_of_schedule(scheduled: datetime) -> str:
    """A run scheduled at 06:00 on the 1st serves the month that has just ended."""
    return previous_month(f"{scheduled.year:04d}-{scheduled.month:02d}")


def _api(platform_url: str) -> httpx.Client:  # platform_url comes from platform_url_from_env(), never a parameter
    token = read_admin_token()
    if not token:
        raise TaxiDurationError("no admin token", fix=f"set {TOKEN_ENV}, or {TOKEN_FILE_ENV} to a file holding it")
    return httpx.Client(base_url=platform_url, timeout=120, headers={"Authorization": f"Bearer {token}"})


def _check(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        raise TaxiDurationError(
            f"platform answered {response.status_code}: {response.text[:200]}", where=str(response.url)
        )
    answer: dict[str, Any] = response.json()
    return answer


@task(cache_policy=NONE)
def serve_month(config: Config, month: str, platform_url: str) -> pd.DataFrame:
    """Send the month's rides through the platform, as live traffic would arrive."""
    rides = load_prepared(resolve_data(month, config.data).path)
    rides = rides[servable(rides)].reset_index(drop=True)
    rides["ride_id"] = [f"{month}-{i}" for i in range(len(rides))]
    records = rides[["ride_id", "PULocationID", "DOLocationID", "trip_distance"]].to_dict("records")
    with _api(platform_url) as api:
        _check(api.post("/log/segment", json={"label": month}))
        for start in range(0, len(records), REPLAY_BATCH):
            _check(api.post("/predict/batch", json={"rides": records[start : start + REPLAY_BATCH]}))
    return rides


def load_prepared_window(config: Config, months: list[str]) -> pd.DataFrame:
    return pd.concat([load_prepared(resolve_data(m, config.data).path) for m in months], ignore_index=True)


@task(cache_policy=NONE)
def monitor_month(config: Config, month: str, rides: pd.DataFrame, champion: dict[str, Any]) -> dict[str, Any]:
    """Ground truth arrived: join it to the log, run Evidently against the champion's training data."""
    state = state_dir_from_env()
    logged = read_log(state / "predictions" / f"{month}.jsonl")
    served = join_ground_truth(logged.records, rides)
    # The reference is the month the champion was validated on: rides it never trained on, as served ones are.
    reference = load_prepared_window(config, str(champion.get("val", champion["train"])).split(","))
    reference["prediction"] = ml.predict(load_version(config, champion["version"]), reference)
    measured = asdict(run_monitoring(served, reference, state / "reports", month))
    return measured | {"torn_log_line": logged.torn_last_line}


@task(cache_policy=NONE)
def retrain(month: str, window: list[str], model: str, features: str) -> dict[str, Any]:
    """Train on the recent window, validated on this month: the gate then measures both on the same rides."""
    trained = training_pipeline(",".join(window), month, model, features=features)
    return {"version": str(trained["model_version"]), "rmse_val": trained["metrics"]["rmse_val"]}


def _act(
    month: str,
    champion: dict[str, Any],
    window: list[str],
    model: str,
    features: str,
    platform_url: str,
) -> dict[str, Any]:
    try:
        candidate = retrain(month, window, model, features)
    except Exception as exc:  # a failed retrain must never stop the champion serving
        return {
            "action": f"retrain failed: {type(exc).__name__}: {exc}"[:300],
            "error": traceback.format_exc(limit=3)[-1000:],
        }
    outcome: dict[str, Any] = {"window": ",".join(window), "candidate_version": candidate["version"]}
    age = months_apart(window[-1], month)
    if age > 1:  # months were missing from the list: the newest data the loop could train on is stale
        outcome["stale_window"] = (
            f"the newest training month, {window[-1]}, is {age} months before {month}: "
            "no month in between was given, so the candidate learned from older traffic"
        )
    with _api(platform_url) as api:  # the platform's gate decides; the loop only asks
        answer = api.post("/promote", json={"version": candidate["version"]})
    if answer.status_code == 409:  # refused: by the gate, or because the platform cannot load the candidate
        detail = answer.json().get("detail", {})
        if "gate" in detail:
            return {"action": "retrained; gate refused the candidate", **outcome, "gate": detail["gate"]}
        return {"action": f"retrained; the platform cannot serve the candidate: {detail.get('error')}", **outcome}
    gate = _check(answer)["gate"]
    baseline = gate["candidate_rmse"] if gate["candidate_rmse"] is not None else candidate["rmse_val"]
    new_champion = {"version": candidate["version"], "train": ",".join(window), "val": month, "baseline_rmse": baseline}
    return {"action": "retrained and promoted", **outcome, "gate": gate, "champion": new_champion}


@flow(name="level-4-monthly-cycle")
def monthly_cycle(
    first_month: str,
    model: str = "linear_regression",
    features: str = "pu_do",
    month: str | None = None,
    window: list[str] | None = None,
) -> dict[str, Any]:
    """One month of the closed loop: the given month, or the one that ended before the scheduled time."""
    month = month_to_decide(month)
    if window and not all(is_month(m) and m < month for m in window):
        # whoever reaches Prefect could pass a window: months not yet lived would train a model on the
        # future, and the gate would judge it on a month of the caller's choosing
        raise TaxiDurationError(
            f"a training window must hold only months before {month}, not {','.join(map(str, window))}",
            fix="leave window out: a scheduled run trains on the months just before the one it decides",
        )
    platform_url = platform_url_from_env()
    config = Config.from_env()
    log = decision_log(config, first_month, model)
    with log.exclusive():
        history = log.history()
        if month in {d["month"] for d in history}:
            return {"month": month, "action": "already decided", "skipped": True}
        if history and month < history[-1]["month"]:  # a past month decided with a later model: a false story
            raise TaxiDurationError(
                f"{month} comes before {history[-1]['month']}, which this loop has already decided",
                where=str(log.path),
                fix="decide later months only, or start a new story (another seed, or a new decisions folder)",
            )
        if not history:
            raise TaxiDurationError(
                "the loop has no first champion yet",
                where=str(log.path),
                fix="start it: python -m taxi_duration.automation (or python -m taxi_duration.schedule)",
            )
        champion, frozen = history[-1]["champion"], history[0]["champion"]
        # pandas is untyped here, so Prefect's Task overloads would take the DataFrame for a coroutine
        rides: pd.DataFrame = serve_month(config, month, platform_url)
        measured = monitor_month(config, month, rides, champion)
        month_rmse = measured["rmse_by_variant"].get("champion", float("nan"))
        rules = fired_rules(measured["drift_share"], month_rmse, champion["baseline_rmse"], Thresholds())
        decision: dict[str, Any] = {
            "month": month,
            "data": describe_source(config.data),
            "rides": len(rides),
            "served_version": champion["version"],
            "drift_share": measured["drift_share"],
            "drifted_columns": measured["drifted_columns"],
            "rmse": month_rmse,
            "frozen_rmse": ml.evaluate(load_version(config, frozen["version"]), rides),
            "rules_fired": rules,
            "action": "none",
            "champion": champion,
            "reports": measured["reports"],
        }
        if rules:
            window = window or months_before(month, TRAINING_WINDOW)
            decision |= _act(month, champion, window, model, features, platform_url)
        decision["at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
        log.record(decision)
        return decision


@flow(name="level-4-fast-forward")
def fast_forward(
    months: list[str],
    model: str = "linear_regression",
    features: str = "pu_do",
) -> list[dict[str, Any]]:
    """months[0] trained the first champion; the rest run in order (a month already decided is skipped)."""
    return [
        monthly_cycle(
            months[0],
            model,
            features,
            month=month,
            window=months[max(0, index - TRAINING_WINDOW) : index],
        )
        for index, month in enumerate(months)
        if index > 0
    ]


def first_champion(months: list[str], model: str, features: str, log: DecisionLog) -> None:
    """Before the loop can watch a model, one must exist: trained on the first month, validated on the next."""
    trained = training_pipeline(months[0], months[1], model, features=features)
    champion = {
        "version": trained["model_version"],
        "train": months[0],
        "val": months[1],
        "baseline_rmse": trained["metrics"]["rmse_val"],
    }
    log.record(
        {
            "month": months[0],
            "action": "initial training",
            "champion": champion,
            "at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
    )


def start_loop(config: Config, months: list[str], model: str, features: str) -> DecisionLog:
    """The decision log, with a first champion in it (trained now if the story is new)."""
    log = decision_log(config, months[0], model)
    if not log.history():
        first_champion(months, model, features, log)
    history = log.history()
    past = [m for m in months[1:] if m < history[-1]["month"] and m not in {d["month"] for d in history}]
    if past:  # said before anything is served; the cycle itself refuses too (monthly_cycle)
        raise UsageError(
            f"{', '.join(past)} come(s) before {history[-1]['month']}, which this story has already decided",
            where=str(log.path),
            fix="ask for later months only, or start a new story (another seed, or a new decisions folder)",
        )
    return log


def promote_champion(platform_url: str, version: str) -> None:
    """A freshly started platform serves the registry's champion; make sure that is the loop's."""
    with _api(platform_url) as api:
        response = api.post("/promote", json={"version": version})
        if response.status_code == 409 and "gate" in response.json().get("detail", {}):
            # the loop's own champion, which a human replaced: the loop resumes with the one it recorded
            reason = "the loop resumes with the champion it recorded"
            response = api.post("/promote", json={"version": version, "force": True, "reason": reason})
    if response.status_code != 200:
        raise TaxiDurationError(f"the platform would not serve v{version}: {response.text[:300]}", where=platform_url)


def run_months(months: list[str], model: str = "linear_regression", features: str = "pu_do") -> dict[str, Any]:
    """Start (or resume) the story of these months and run every month not yet decided, in order, against
    the platform at PLATFORM_URL (platform_url_from_env())."""
    config = Config.from_env()
    url = platform_url_from_env()
    log = start_loop(config, months, model, features)
    promote_champion(url, log.history()[-1]["champion"]["version"])
    decided = {d["month"] for d in log.history() if "rmse" in d}
    resumed = [month for month in months[1:] if month in decided]
    fast_forward(months, model, features)
    return {
        "decisions": [d for d in log.history() if d["month"] in months],
        "log": str(log.path),
        "resumed": resumed,
        "data": describe_source(config.data),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the closed loop over months, in fast-forward.")
    parser.add_argument("--months", default="2021-01..2021-06", help="the first trains the first champion")
    parser.add_argument(
        "--platform-url", help=f"sets {PLATFORM_URL_ENV} in this process (default: it, or {DEFAULT_PLATFORM_URL})"
    )
    parser.add_argument("--model", default="linear_regression", choices=ml.model_names())
    parser.add_argument("--features", default="pu_do")
    parser.add_argument("--json", action="store_true", help="print every decision as JSON")
    args = parser.parse_args(argv)
    if args.platform_url:
        os.environ[PLATFORM_URL_ENV] = args.platform_url
    try:
        months = month_range(args.months)
        if len(months) < 2:
            raise UsageError("the loop needs at least two months", fix="e.g. --months 2021-01..2021-06")
        result = run_months(months, args.model, args.features)
    except TaxiDurationError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    if args.json:
        print(json.dumps(result, default=str))
    else:
        for decision in result["decisions"]:
            print(f"{decision['month']}: {decision['action']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
