"""Level 3+ · model_monitoring: once the month's ground truth arrives, join it to the prediction log and
let Evidently say whether the inputs drifted and how well each variant predicted.

Drift compares the served rides with the champion's validation month (the reference: data it was not
trained on, so its predictions there are what serving looks like). Methods are chosen so as not to cry
wolf: Jensen-Shannon distance for the 265-valued zone columns (a chi-square test flags two samples of
one distribution once samples are large) and a normed Wasserstein distance for numbers.

The monitoring job (`python -m taxi_duration.monitor`, below) runs once a month's ground truth has
arrived: its prediction log, a file of the rides' actual durations, and the champion's validation month.

RMSE per variant is computed on every joined ride; Evidently draws its reports from a sample of at
most 20,000 rides per side (the regression preset costs ~11 s on 100k rows, and the drift scores of a
20k sample are within noise of the whole month's). Results are read through Evidently's typed API
(`snapshot.context.get_metric_result(metric)`), never by matching metric names. Evidently takes 4-9 s
to import, so only this module imports it, and only when monitoring runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from common import model as ml
from common.atomic import atomic_path
from common.data import load_prepared
from common.errors import DataError, TaxiDurationError
from common.sources import resolve_data
from taxi_duration.config import Config
from taxi_duration.prediction_log import read_log
from taxi_duration.registry import load_version

FEATURES = ["PULocationID", "DOLocationID", "trip_distance"]
DRIFT_THRESHOLDS = {"PULocationID": 0.15, "DOLocationID": 0.15, "trip_distance": 0.1, "prediction": 0.1}
DRIFT_METHODS = {
    "PULocationID": "jensenshannon",
    "DOLocationID": "jensenshannon",
    "trip_distance": "wasserstein",
    "prediction": "wasserstein",
}


@dataclass
class MonitorResult:
    rows: int
    drift_share: float
    drifted_columns: list[str]
    drift_scores: dict[str, float]
    rmse_by_variant: dict[str, float]
    rows_by_variant: dict[str, int]
    reports: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def join_ground_truth(log: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Predictions that have an actual duration now; the rest wait for their ground truth."""
    joined = log.merge(truth[["ride_id", "duration"]], on="ride_id", how="inner")
    return joined.drop_duplicates("ride_id", keep="last")


def _definition(with_target: bool):
    from evidently import DataDefinition, Regression

    return DataDefinition(
        numerical_columns=["trip_distance", "prediction"] + (["duration"] if with_target else []),
        categorical_columns=["PULocationID", "DOLocationID"],
        regression=[Regression(target="duration", prediction="prediction")] if with_target else None,
    )


def _save(snapshot: Any, folder: Path, stem: str) -> dict[str, str]:
    paths = {}
    for suffix, writer in (("html", snapshot.save_html), ("json", snapshot.save_json)):
        target = folder / f"{stem}.{suffix}"
        with atomic_path(target) as tmp:
            writer(str(tmp))
        paths[f"{stem}.{suffix}"] = str(target)
    return paths


REPORT_SAMPLE = 20_000


def _sample(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sample(REPORT_SAMPLE, random_state=0) if len(frame) > REPORT_SAMPLE else frame


def run_monitoring(served: pd.DataFrame, reference: pd.DataFrame, folder: Path, label: str) -> MonitorResult:
    """served: logged predictions joined with `duration`; reference: held-out rows with `prediction`."""
    from evidently import Dataset, Report
    from evidently.metrics import ValueDrift
    from evidently.presets import RegressionPreset

    folder.mkdir(parents=True, exist_ok=True)
    columns = [*FEATURES, "prediction"]
    checks = {c: ValueDrift(column=c, method=DRIFT_METHODS[c], threshold=DRIFT_THRESHOLDS[c]) for c in columns}
    drift = Report(list(checks.values())).run(
        Dataset.from_pandas(_sample(served)[columns], data_definition=_definition(False)),
        Dataset.from_pandas(_sample(reference)[columns], data_definition=_definition(False)),
    )
    reports = _save(drift, folder, f"drift-{label}")
    scores = {c: float(drift.context.get_metric_result(check).value) for c, check in checks.items()}
    drifted = [c for c, score in scores.items() if score >= DRIFT_THRESHOLDS[c]]

    rmse_by_variant, rows = {}, {}
    for variant, part in served.groupby("variant"):
        quality = Report([RegressionPreset()]).run(
            Dataset.from_pandas(_sample(part)[[*columns, "duration"]], data_definition=_definition(True)), None
        )
        reports |= _save(quality, folder, f"regression-{variant}-{label}")
        rmse_by_variant[str(variant)] = ml.rmse(part["duration"].to_numpy(), part["prediction"].to_numpy())
        rows[str(variant)] = len(part)
    return MonitorResult(len(served), len(drifted) / len(columns), drifted, scores, rmse_by_variant, rows, reports)


def read_truth(path: Path) -> pd.DataFrame:
    """The rides' actual durations (ride_id, duration), as they arrive after the month."""
    try:
        truth = pd.read_parquet(path, columns=["ride_id", "duration"])
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(
            f"not a ground-truth file ({type(exc).__name__})",
            where=str(path),
            fix="give a parquet file with the columns ride_id and duration",
        ) from None
    return truth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The monitoring job: drift and RMSE of what the platform served.")
    parser.add_argument("--predictions", type=Path, required=True, help="the month's prediction log (JSON lines)")
    parser.add_argument("--truth", type=Path, required=True, help="parquet: ride_id, duration")
    parser.add_argument("--reference-month", required=True, help="the champion's validation month")
    parser.add_argument("--version", required=True, help="the champion, which predicts the reference month")
    parser.add_argument("--reports", type=Path, default=Path("platform") / "reports")
    parser.add_argument("--label", default=None, help="names the reports (default: the log's name)")
    args = parser.parse_args(argv)
    config = Config.from_env()
    try:
        logged = read_log(args.predictions).records
        if logged.empty:
            raise DataError("the prediction log holds no prediction", where=str(args.predictions))
        served = join_ground_truth(logged, read_truth(args.truth))
        if served.empty:
            raise DataError("no logged prediction has its ground truth yet", where=str(args.predictions))
        reference = load_prepared(resolve_data(args.reference_month, config.data).path)
        reference["prediction"] = ml.predict(load_version(config, args.version), reference)
        result = run_monitoring(served, reference, args.reports, args.label or args.predictions.stem)
    except TaxiDurationError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps(result.to_dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
