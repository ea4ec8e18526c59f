"""Train the model from the command line; the model is a file.

    python -m taxi_duration.train --train-data 2021-01 --val-data 2021-02 --model linear_regression

Compared with the level-0 notebook, the code is modules with a CLI, and the ML itself comes from
`common/`, where it is tested once. Still no experiment tracking: a small JSON file beside the model is
all anyone will know about how it was made. Months come from the data source in the environment
(synthetic by default, offline: see common/datasource.py); a path to a parquet or csv file works too.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from common import model as ml
from common.data import prepare_trips_counted, read_trips
from common.datasource import DataSource
from common.errors import TaxiDurationError
from common.features import FEATURE_SETS
from common.sources import resolve_data

MODEL_FILE = "model.bin"
DEFAULT_OUTPUT = Path("models") / MODEL_FILE


@dataclass
class TrainResult:
    model_path: str
    metadata_path: str
    rmse_train: float
    rmse_val: float
    train_rows: int
    val_rows: int
    rows_dropped_invalid: int  # impossible trips left out (unknown zones, absurd distances)


def train(
    train_data: str,
    val_data: str,
    model_name: str = "linear_regression",
    output: Path = DEFAULT_OUTPUT,
    features: str = "pu_do",
    source: DataSource | None = None,
) -> TrainResult:
    """Load both months, fit, evaluate, and write the model file plus a metadata file beside it."""
    source = source or DataSource.from_env()
    train, val = (
        prepare_trips_counted(read_trips(path, model_columns_only=True), path)
        for path in (resolve_data(train_data, source).path, resolve_data(val_data, source).path)
    )
    train_df, val_df = train.trips, val.trips
    model = ml.train(train_df, model_name, feature_set=features)
    rmse_train, rmse_val = ml.evaluate(model, train_df), ml.evaluate(model, val_df)

    output = Path(output)
    ml.save_model(model, output)
    metadata = output.with_suffix(".json")
    # The only record of how the model was made: a file a person may or may not keep next to it.
    metadata.write_text(
        json.dumps(
            {
                "trained_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "train_data": train_data,
                "val_data": val_data,
                "model": model_name,
                "features": features,
                "rmse_train": rmse_train,
                "rmse_val": rmse_val,
            },
            indent=2,
        )
    )
    dropped = train.dropped.invalid + val.dropped.invalid
    return TrainResult(str(output), str(metadata), rmse_train, rmse_val, len(train_df), len(val_df), dropped)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-data", default="2021-01", help="month (YYYY-MM) or parquet/csv file")
    parser.add_argument("--val-data", default="2021-02", help="month (YYYY-MM) or parquet/csv file")
    parser.add_argument("--model", default="linear_regression", choices=ml.model_names())
    parser.add_argument(
        "--features", default="pu_do", choices=FEATURE_SETS, help="pu_do, or pu_and_do (the course's first try)"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"model file (default: {DEFAULT_OUTPUT})")
    args = parser.parse_args(argv)
    try:
        result = train(args.train_data, args.val_data, args.model, args.output, args.features)
    except TaxiDurationError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps(asdict(result), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
