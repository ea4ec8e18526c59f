from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys

import pytest

from common.data import load_prepared, read_trips
from common.model import evaluate, train
from common.schemas import servable
from levels.catalog import get_level
from tests.conftest import REPO, real_file


def test_run_0_reports_rmse_and_pickles_the_model(invoke, workspace):
    result = invoke("run", "0", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert 3 < report["metrics"]["rmse_val"] < 12
    with open(report["artifacts"]["model"], "rb") as handle:
        dv, model = pickle.load(handle)
    assert hasattr(dv, "transform") and hasattr(model, "predict")


def test_notebook_gives_the_same_rmse_as_common(invoke, month_files, tmp_path):
    """Level 0 spells the course's code out inline; it must agree with the shared model code.

    On trips that could be real: common.data also drops the impossible ones (100,000-mile typos, which
    the synthetic months carry as real months do), and the course's notebook keeps them.
    """
    months = {}
    for month, path in month_files.items():
        trips = read_trips(path)
        months[month] = tmp_path / path.name
        trips[servable(trips)].to_parquet(months[month], index=False)
    result = invoke("run", "0", "--train-data", months["2021-01"], "--val-data", months["2021-02"], "--json")
    notebook_rmse = json.loads(result.output)["metrics"]["rmse_val"]
    shared = evaluate(train(load_prepared(months["2021-01"])), load_prepared(months["2021-02"]))
    assert notebook_rmse == pytest.approx(shared, abs=0.01)


@pytest.mark.parametrize(
    ("train_file", "val_file", "expected"),
    [
        (("green_tripdata_2023-01.parquet",), ("green_tripdata_2023-02.parquet",), 6.0385),
        (
            ("course_filtered_2021", "green_tripdata_2021-01.parquet"),
            ("course_filtered_2021", "green_tripdata_2021-02.parquet"),
            7.7587,
        ),
    ],
)
def test_real_sample_reproduces_the_course_rmse(invoke, train_file, val_file, expected):
    result = invoke("run", "0", "--train-data", real_file(*train_file), "--val-data", real_file(*val_file), "--json")
    assert json.loads(result.output)["metrics"]["rmse_val"] == pytest.approx(expected, abs=0.02)


def test_notebook_runs_as_a_plain_script(tmp_path):
    env = {
        **os.environ,
        "MLOPS_LEVELS_WORKSPACE": str(tmp_path),
        "MLOPS_LEVELS_SYNTHETIC_ROWS": "2000",
        "PYTHONPATH": str(REPO),
    }
    script = get_level(0).folder / "duration_prediction.py"
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "RMSE val:" in out.stdout and (tmp_path / "level_0" / "lin_reg.bin").exists()


def test_notebook_cells_are_percent_format():
    text = (get_level(0).folder / "duration_prediction.py").read_text()
    assert text.count("# %%") >= 6 and 'tags=["parameters"]' in text
