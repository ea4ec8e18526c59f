"""Run a level by its level.toml entry point, importing the level only now (never for `list`)."""

from __future__ import annotations

import importlib
import time

from common.data import prepare_trips, read_trips
from common.errors import DataError
from common.runs import RunReport, RunRequest
from common.sources import resolve_data
from levels.catalog import get_level
from levels.notebook import run_notebook


def run_level(number: int, request: RunRequest) -> RunReport:
    level = get_level(number)
    started = time.perf_counter()
    kind, _, target = level.entrypoint.partition(":")
    if kind == "notebook":
        report = _run_notebook_level(number, target, request)
    else:
        module = importlib.import_module(f"levels.level_{number}.{kind}")
        report = getattr(module, target)(request)
    report.wall_seconds = round(time.perf_counter() - started, 2)
    return report


def _run_notebook_level(number: int, filename: str, request: RunRequest) -> RunReport:
    settings = request.settings
    request.on_step("load data")
    paths = {}
    for role, spec in (("train", request.train_data), ("val", request.val_data)):
        ref = resolve_data(spec, settings)
        trips = read_trips(ref.path)  # a clear error for a bad file, before the notebook trips over it
        if "lpep_pickup_datetime" not in trips.columns or ref.path.suffix != ".parquet":
            raise DataError(
                "level 0's notebook reads green-taxi parquet files only",
                where=str(ref.path),
                fix="pass a green_tripdata_*.parquet file or a month",
            )
        prepare_trips(trips, ref.path)
        paths[role] = str(ref.path)
    request.on_step("run the notebook")
    model_path = settings.level_dir(number) / "lin_reg.bin"
    namespace, printed = run_notebook(
        get_level(number).folder / filename,
        {"TRAIN_DATA": paths["train"], "VAL_DATA": paths["val"], "MODEL": request.model, "MODEL_PATH": str(model_path)},
    )
    return RunReport(
        level=number,
        train=request.train_data,
        val=request.val_data,
        model=request.model,
        metrics={"rmse_train": float(namespace["rmse_train"]), "rmse_val": float(namespace["rmse_val"])},
        artifacts={"model": str(namespace["MODEL_PATH"])},
        details={"notebook_output": printed.strip().splitlines()},
        manual_steps=["run the notebook", "remember which data and parameters made lin_reg.bin"],
    )
