"""Level 1 · entry point of `mlops-levels run 1`: train, serve on a real uvicorn, send rides, read metrics."""

from __future__ import annotations

import httpx

from common.data import load_prepared
from common.runs import RunReport, RunRequest
from common.serving import background_server
from common.sources import resolve_data
from levels.level_1.serve import create_app
from levels.level_1.train import train

SAMPLE_RIDES = 25


def main(request: RunRequest) -> RunReport:
    settings = request.settings
    request.on_step("train")
    result = train(settings, request.train_data, request.val_data, request.model, features=request.features)

    request.on_step("start the service on 127.0.0.1")
    val_df = load_prepared(resolve_data(request.val_data, settings).path).head(SAMPLE_RIDES)
    rides = val_df[["PULocationID", "DOLocationID", "trip_distance"]].to_dict("records")
    with background_server(create_app(result.model_path)) as url, httpx.Client(base_url=url, timeout=10) as client:
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
        1,
        metrics={
            "rmse_train": result.rmse_train,
            "rmse_val": result.rmse_val,
            "requests_served": _sum_metric(metrics_text, "http_requests_total"),
            "errors_served": _sum_metric(metrics_text, "http_errors_total"),
            "rows_dropped_invalid": result.rows_dropped_invalid,
        },
        artifacts={
            "model": result.model_path,
            "metadata": result.metadata_path,
            "service": f"{url} (stopped with the run; to keep one up: mlops-levels serve 1)",
        },
        details={"sample_predictions": samples[:8]},
        manual_steps=[
            "deploy: copy model.bin to the server and restart it",
            "remember which data and parameters made model.bin",
        ],
        serving={"kind": "model_file", "path": result.model_path},
    )


def _sum_metric(prometheus_text: str, name: str) -> float:
    """Add up every labelled sample of one metric, read with Prometheus's own parser."""
    from prometheus_client.parser import text_string_to_metric_families

    return sum(
        sample.value
        for family in text_string_to_metric_families(prometheus_text)
        for sample in family.samples
        if sample.name == name
    )
