"""Level 2+ · orchestrated_pipeline: training as a Prefect flow, every run tracked and registered.

    python -m taxi_duration.pipeline --train-data 2021-01 --val-data 2021-02 --model linear_regression
    python -m taxi_duration.pipeline --train-data 2021-01..2021-03 --val-data 2021-04
    mlflow run . -P train_data=2021-01 -P val_data=2021-02 --env-manager local

load -> prepare -> train -> evaluate -> log -> register -> sign. Loading retries (a download may fail
once); every step is visible in Prefect, every result in MLflow. Training data may span several months.

Level 3 adds the last step: the platform's gate trusts what a version trained on only when the pipeline
signed it (lineage.py), so the pipeline signs the version it registers with the private key in the file
LINEAGE_SIGNING_KEY_FILE names. Without it the version is registered unsigned, and the gate refuses it.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import sys
import time
from dataclasses import replace
from typing import Any

import mlflow
import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE
from prefect.runtime import flow_run

from common import model as ml
from common.data import fingerprint, prepare_trips_counted, read_trips
from common.datasource import DataSource
from common.errors import DownloadError, TaxiDurationError
from common.features import FEATURE_SETS
from common.months import is_month_list, month_range
from common.sources import resolve_data
from taxi_duration.config import Config
from taxi_duration.lineage import SIGNING_KEY_ENV, Lineage, sign_version, signing_key
from taxi_duration.registry import register_version
from taxi_duration.tracking import log_training, run_tags, start_tracking

# Links a tracked run to the Prefect flow run that made it (either UI leads to the other).
FLOW_RUN_TAG = "prefect_flow_run_id"

# A small grid per model for --sweep: each combination is a nested run; the best one is registered.
SWEEP_GRID: dict[str, dict[str, list[Any]]] = {
    "linear_regression": {"fit_intercept": [True, False]},
    "ridge": {"alpha": [0.1, 1.0, 10.0]},
    "lasso": {"alpha": [0.0001, 0.001, 0.01]},
    "gradient_boosting": {"max_leaf_nodes": [31, 63], "learning_rate": [0.05, 0.1]},
}


def _is_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry a failed download; a bad file stays bad however often it is read."""
    return isinstance(state.result(raise_on_failure=False), DownloadError)


# Tasks pass DataFrames around: hashing them for Prefect's cache would cost more than the step itself.
@task(retries=2, retry_delay_seconds=1, retry_condition_fn=_is_transient, cache_policy=NONE)
def load_data(spec: str, source: DataSource) -> tuple[pd.DataFrame, dict[str, str]]:
    """A file, a month, or several months ("2021-03..2021-05", "2023-03,2024-01"), stacked."""
    refs = [resolve_data(one, source) for one in (month_range(spec) if is_month_list(spec) else [spec])]
    frame = pd.concat([read_trips(ref.path, model_columns_only=True) for ref in refs], ignore_index=True)
    digests = [fingerprint(ref.path) for ref in refs]
    sha256 = digests[0] if len(digests) == 1 else hashlib.sha256("".join(digests).encode()).hexdigest()
    return frame, {"label": spec, "sha256": sha256}


@task(cache_policy=NONE)
def prepare(raw: pd.DataFrame, label: str) -> tuple[pd.DataFrame, dict[str, int]]:
    """The course's 1..60 minute filter, and impossible rows (meter typos) left out and counted."""
    prepared = prepare_trips_counted(raw, label)
    return prepared.trips, {"invalid": prepared.dropped.invalid, "outside_1_60_min": prepared.dropped.duration}


@task(cache_policy=NONE)
def train_model(train_df: pd.DataFrame, model_name: str, params: dict[str, Any], features: str) -> Any:
    return ml.train(train_df, model_name, params, feature_set=features)


@task(cache_policy=NONE)
def evaluate(model: Any, train_df: pd.DataFrame, val_df: pd.DataFrame) -> dict[str, float]:
    return {"rmse_train": ml.evaluate(model, train_df), "rmse_val": ml.evaluate(model, val_df)}


@task(cache_policy=NONE)
def log_and_register(
    model: Any, params: dict[str, Any], metrics: dict[str, float], val_df: pd.DataFrame, config: Config
) -> str:
    info = log_training(model, params, metrics, val_df)
    return register_version(config, info.model_uri, info.run_id, info.model_id)


@task(cache_policy=NONE)
def sign(config: Config, version: str, run_id: str, data: dict[str, dict[str, str]], commit: str) -> bool:
    """Sign what this run knows about the version it registered; the key is read here, never passed around."""
    key = signing_key()
    if key is None:
        get_run_logger().warning(
            "v%s is not signed (%s is not set): the platform's gate will refuse it", version, SIGNING_KEY_ENV
        )
        return False
    train, val = data["train"], data["val"]
    lineage = Lineage(
        model_name=config.model_name,
        version=version,
        run_id=run_id,
        train_data=train["label"],
        train_sha256=train["sha256"],
        val_data=val["label"],
        val_sha256=val["sha256"],
        model_sha256="",  # sign_version digests the registered files
        pipeline="taxi_duration.pipeline",
        git_commit=commit,
    )
    sign_version(config, lineage, key)
    return True


# What a run's parameters may change about the months: the generator's story, never where files are read.
MONTH_CHOICES = ("source", "color", "scenario", "seed", "synthetic_rows")


def chosen_months(source: DataSource, months: dict[str, Any]) -> DataSource:
    unknown = set(months) - set(MONTH_CHOICES)
    if unknown:
        raise TaxiDurationError(
            f"months cannot choose {sorted(unknown)}", fix=f"choose among {', '.join(MONTH_CHOICES)}"
        )
    return replace(source, **months)


def _candidates(model_name: str, params: dict[str, Any], sweep: bool) -> list[dict[str, Any]]:
    if not sweep:
        return [params]
    grid = SWEEP_GRID[model_name]
    return [{**params, **dict(zip(grid, values, strict=True))} for values in itertools.product(*grid.values())]


@flow(name="train-taxi-duration", log_prints=True)
def training_pipeline(
    train_data: str = "2021-01",
    val_data: str = "2021-02",
    model: str = "linear_regression",
    params: dict[str, Any] | None = None,
    sweep: bool = False,
    features: str = "pu_do",
    model_name: str | None = None,
    experiment: str | None = None,
    months: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Stores and months come from the environment (config.py): Prefect keeps parameters in clear, and
    anyone who reaches it can pass them. For a run on a shared worker, `model_name` and `experiment`
    name the person's own, and `months` may choose which generated months (never a path or a store)."""
    config = Config.from_env()
    config = replace(config, model_name=model_name or config.model_name, experiment=experiment or config.experiment)
    config = replace(config, data=chosen_months(config.data, months or {}))
    ml.build_model(model)  # an unknown model name fails here, before any data is loaded
    signing_key()  # so does a signing key file that is unreadable, or readable by others
    # Data first: a bad file fails before the tracking store is even created, so nothing is left behind.
    (train_raw, train_info), (val_raw, val_info) = load_data(train_data, config.data), load_data(val_data, config.data)
    (train_df, train_dropped), (val_df, val_dropped) = (
        prepare(train_raw, train_info["label"]),
        prepare(val_raw, val_info["label"]),
    )
    experiment_id: str | None = start_tracking(config)
    if os.environ.get("MLFLOW_RUN_ID"):  # launched by `mlflow run`: log into the run it created
        experiment_id = None
    tags = {**run_tags({"train": train_info, "val": val_info}), FLOW_RUN_TAG: str(flow_run.get_id() or "")}
    with mlflow.start_run(
        experiment_id=experiment_id, run_name=f"{model} {train_data}->{val_data}", tags=tags
    ) as parent:
        results = []
        for candidate in _candidates(model, params or {}, sweep):
            fitted = train_model(train_df, model, candidate, features)
            metrics = evaluate(fitted, train_df, val_df)
            results.append((metrics["rmse_val"], candidate, fitted, metrics))
            if sweep:  # each combination is a nested run; only the best is registered below
                with mlflow.start_run(experiment_id=experiment_id, nested=True, tags=tags):
                    mlflow.log_params({"model": model, **candidate})
                    mlflow.log_metrics(metrics)
        _, best_params, best_model, best_metrics = min(results, key=lambda r: r[0])
        logged_params = {
            "model": model,
            "features": features,
            "train_data": train_info["label"],
            "val_data": val_info["label"],
            "train_rows": len(train_df),
            "val_rows": len(val_df),
            "train_rows_dropped_invalid": train_dropped["invalid"],
            "val_rows_dropped_invalid": val_dropped["invalid"],
            **best_params,
        }
        version = log_and_register(best_model, logged_params, best_metrics, val_df, config)
        signed = sign(config, version, parent.info.run_id, {"train": train_info, "val": val_info}, tags["git_commit"])
        result = {
            "run_id": parent.info.run_id,
            "experiment_id": experiment_id,
            "model_version": version,
            "metrics": best_metrics,
            "params": best_params,
            "candidates": len(results),
            "lineage_signed": signed,
            "dropped": {"train": train_dropped, "val": val_dropped},
        }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train, evaluate, log and register a model (Prefect + MLflow).")
    parser.add_argument("--train-data", "--train_data", default="2021-01", help="month(s) (YYYY-MM) or file")
    parser.add_argument("--val-data", "--val_data", default="2021-02", help="month (YYYY-MM) or file")
    parser.add_argument("--model", default="linear_regression", choices=ml.model_names())
    parser.add_argument("--features", default="pu_do", choices=FEATURE_SETS)
    parser.add_argument("--sweep", action="store_true", help="small hyperparameter search, nested runs")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        result = training_pipeline(args.train_data, args.val_data, args.model, sweep=args.sweep, features=args.features)
    except TaxiDurationError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"run {result['run_id']} · version {result['model_version']} · "
            f"val RMSE {result['metrics']['rmse_val']:.4f} · {time.perf_counter() - started:.1f}s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
