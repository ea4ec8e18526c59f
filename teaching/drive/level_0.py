"""`mlops-levels run 0`: execute level 0's notebook as its author would, top to bottom.

This is how the CLI runs the notebook (a real Jupyter kernel, the parameters
cell overridden), after checking the data files so that a bad file is one clear line rather than a
traceback from cell 5. The executed notebook, outputs included, lands in the workspace.
"""

from __future__ import annotations

from pathlib import Path

from common.data import prepare_trips, read_trips
from common.errors import DataError
from common.sources import resolve_data
from teaching.catalog import get_level
from teaching.infra.runs import RunReport, RunRequest
from teaching.notebook import run_notebook


def notebook() -> Path:
    return get_level(0).folder / "duration_prediction.ipynb"


def _green_parquet(spec: str, request: RunRequest) -> str:
    ref = resolve_data(spec, request.settings.data)
    trips = read_trips(ref.path)  # a clear error for a bad file, before the notebook trips over it
    if "lpep_pickup_datetime" not in trips.columns or ref.path.suffix != ".parquet":
        raise DataError(
            "level 0's notebook reads green-taxi parquet files only",
            where=str(ref.path),
            fix="pass a green_tripdata_*.parquet file or a month",
        )
    prepare_trips(trips, ref.path)  # a month with no trip of 1..60 minutes: one line, not a kernel traceback
    return str(ref.path)


def main(request: RunRequest) -> RunReport:
    settings = request.settings
    request.on_step("check the data files")
    parameters = {
        "TRAIN_DATA": _green_parquet(request.train_data, request),
        "VAL_DATA": _green_parquet(request.val_data, request),
        "MODEL": request.model,
        "FEATURES": request.features,
        "MODEL_PATH": str(settings.level_dir(0) / "lin_reg.bin"),
    }
    request.on_step("run the notebook in a Jupyter kernel")
    executed = settings.level_dir(0) / "duration_prediction.executed.ipynb"
    values, printed = run_notebook(notebook(), parameters, ["rmse_train", "rmse_val"], executed)
    return request.report(
        0,
        metrics=values,
        artifacts={"model": parameters["MODEL_PATH"], "executed notebook": str(executed)},
        details={"notebook_output": printed},
        manual_steps=["run the notebook", "remember which data and parameters made lin_reg.bin"],
        serving={"kind": "pickle", "path": parameters["MODEL_PATH"], "features": request.features},
    )
