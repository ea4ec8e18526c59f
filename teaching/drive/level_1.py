"""`mlops-levels run 1` and `serve 1`: train with the level's command, serve with its command, send rides.

The level holds the practice (a training CLI, a service with operational metrics); this module does what
a person would do with it: train, start the service on 127.0.0.1, send some rides, read /metrics, stop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from common.data import load_prepared
from common.errors import MlopsLevelsError
from common.sources import resolve_data
from teaching.infra.config import Settings
from teaching.infra.runs import RunReport, RunRequest
from teaching.levelproc import level_server, run_json, serve_command

LEVEL = 1
SAMPLE_RIDES = 25


def model_path(settings: Settings) -> str:
    return str(settings.level_dir(LEVEL) / "model.bin")


def main(request: RunRequest) -> RunReport:
    settings = request.settings
    request.on_step("train: python -m taxi_duration.train")
    result = run_json(
        LEVEL,
        "taxi_duration.train",
        ["--train-data", request.train_data, "--val-data", request.val_data, "--model", request.model]
        + ["--features", request.features, "--output", model_path(settings)],
        settings,
    )
    request.on_step("start the service on 127.0.0.1: python -m taxi_duration.serve")
    val_df = load_prepared(resolve_data(request.val_data, settings.data).path).head(SAMPLE_RIDES)
    rides = val_df[["PULocationID", "DOLocationID", "trip_distance"]].to_dict("records")
    service = level_server(LEVEL, "taxi_duration.serve", ["--model-path", result["model_path"]], settings)
    with service as url, httpx.Client(base_url=url, timeout=10) as client:
        request.on_step("send sample rides")
        answers = [client.post("/predict", json={**ride, "ride_id": f"r{i}"}).json() for i, ride in enumerate(rides)]
        client.post("/predict", json={"PULocationID": 999, "DOLocationID": 1, "trip_distance": -1})
        metrics_text = client.get("/metrics").text

    samples = [
        {
            "ride": a["ride_id"],
            "PU→DO": f"{r['PULocationID']}→{r['DOLocationID']}",
            "miles": r["trip_distance"],
            "predicted min": round(a["duration_minutes"], 1),
            "actual min": round(float(actual), 1),
        }
        for a, r, actual in zip(answers, rides, val_df.duration, strict=True)
    ]
    return request.report(
        LEVEL,
        metrics={
            "rmse_train": result["rmse_train"],
            "rmse_val": result["rmse_val"],
            "requests_served": _sum_metric(metrics_text, "http_requests_total"),
            "errors_served": _sum_metric(metrics_text, "http_errors_total"),
            "rows_dropped_invalid": result["rows_dropped_invalid"],
        },
        artifacts={
            "model": result["model_path"],
            "metadata": result["metadata_path"],
            "service": f"{url} (stopped with the run; to keep one up: {request.settings.command('serve', 1)})",
        },
        details={"sample_predictions": samples[:8]},
        manual_steps=[
            "deploy: copy model.bin to the server and restart it",
            "remember which data and parameters made model.bin",
        ],
        serving={"kind": "model_file", "path": result["model_path"]},
    )


def serve(settings: Settings, host: str, port: int, options: dict[str, Any]) -> None:
    """`mlops-levels serve 1`: the level's own serve command on the model `run 1` trained, until Ctrl-C."""
    path = str(options.get("model_path") or model_path(settings))
    if not Path(path).is_file():
        fix = (
            "pass the model file --model-path names"
            if options.get("model_path")
            else f"run: {settings.command('run', 1)}"
        )
        raise MlopsLevelsError("no model to serve yet", where=path, fix=fix)
    serve_command(LEVEL, settings, "taxi_duration.serve", host, port, ["--model-path", path])


def _sum_metric(prometheus_text: str, name: str) -> float:
    """Add up every labelled sample of one metric, read with Prometheus's own parser."""
    from prometheus_client.parser import text_string_to_metric_families

    return sum(
        sample.value
        for family in text_string_to_metric_families(prometheus_text)
        for sample in family.samples
        if sample.name == name
    )
