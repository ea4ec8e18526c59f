"""Prepare + fit at 1M (and 3M) synthetic rows: the course's to_dict + DictVectorizer path (the
baseline, kept here) against common/ (TripEncoder), same RMSE, with peak RSS. Each path runs in a fresh
interpreter so its peak memory is its own. Targets: >= 5x faster at 1M; 3M rows under 2 GB peak RSS."""

from __future__ import annotations

import argparse

from common_bench import RESULTS, run_isolated, save

# Both paths start from the same raw month read from parquet, with their libraries already imported,
# so the clock measures preparing features and fitting, nothing else.
SETUP = """
import json, resource, sys, time
import pandas as pd
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LinearRegression
from sklearn.metrics import root_mean_squared_error
from common.data import prepare_trips, read_trips
from common.model import evaluate, train
raw = read_trips(sys.argv[1], model_columns_only=sys.argv[2] == "toolkit")
started = time.perf_counter()
"""

COURSE = (
    SETUP
    + """
df = raw
df["duration"] = (df.lpep_dropoff_datetime - df.lpep_pickup_datetime).dt.total_seconds() / 60
df = df[(df.duration >= 1) & (df.duration <= 60)].copy()
y = df.duration.to_numpy()
df[["PULocationID", "DOLocationID"]] = df[["PULocationID", "DOLocationID"]].astype(str)
df["PU_DO"] = df["PULocationID"] + "_" + df["DOLocationID"]
dicts = df[["PU_DO", "trip_distance"]].to_dict(orient="records")
X = DictVectorizer().fit_transform(dicts)
model = LinearRegression().fit(X, y)
seconds = time.perf_counter() - started
rmse = root_mean_squared_error(y, model.predict(X))
"""
)

TOOLKIT = (
    SETUP
    + """
df = prepare_trips(raw)
model = train(df)
seconds = time.perf_counter() - started
rmse = evaluate(model, df)
"""
)

REPORT = """
print(json.dumps({"seconds": seconds, "rmse": rmse, "rows": len(df),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def month_file(rows: int) -> str:
    """One synthetic month of `rows` rows, written once and reused by later runs."""
    from common.synthetic import ensure_month

    return str(ensure_month(RESULTS / "data", "2021-03", rows=rows))


def _median_run(code: str, data: str, path: str, repeats: int) -> dict:
    """The run with the median time of `repeats` fresh interpreters: one busy moment is not a result."""
    runs = sorted((run_isolated(code, data, path) for _ in range(repeats)), key=lambda r: r["seconds"])
    return runs[len(runs) // 2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 3_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    result = {}
    for rows in args.rows:
        data = month_file(rows)
        toolkit = _median_run(TOOLKIT + REPORT, data, "toolkit", args.repeats)
        label = f"{rows / 1e6:g}M"
        result[f"{label} toolkit prepare+fit (s)"] = round(toolkit["seconds"], 2)
        result[f"{label} toolkit peak RSS (MB)"] = round(toolkit["peak_rss_mb"])
        result[f"{label} toolkit train RMSE"] = round(toolkit["rmse"], 4)
        if rows <= 1_000_000:
            course = _median_run(COURSE + REPORT, data, "course", args.repeats)
            result[f"{label} course to_dict+DictVectorizer (s)"] = round(course["seconds"], 2)
            result[f"{label} course peak RSS (MB)"] = round(course["peak_rss_mb"])
            result[f"{label} course train RMSE"] = round(course["rmse"], 4)
            result[f"{label} speed-up (course / toolkit)"] = round(course["seconds"] / toolkit["seconds"], 1)
    result["targets"] = ">= 5x faster at 1M with the same RMSE; 3M under 2048 MB peak RSS"
    save("train_throughput", result)


if __name__ == "__main__":
    main()
