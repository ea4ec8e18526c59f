from __future__ import annotations

import json
import pickle

import pytest

from common.data import load_prepared, read_trips
from common.model import evaluate, train
from common.schemas import servable
from teaching.catalog import get_level
from tests.conftest import real_file


def test_run_0_reports_rmse_and_pickles_the_model(invoke, workspace):
    result = invoke("run", "0", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert 3 < report["metrics"]["rmse_val"] < 12
    with open(report["artifacts"]["model"], "rb") as handle:
        dv, model = pickle.load(handle)
    assert hasattr(dv, "transform") and hasattr(model, "predict")


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_run_0_executes_the_ipynb_in_a_kernel_and_keeps_the_executed_copy(invoke, workspace):
    import nbformat

    result = invoke("run", "0", "--model", "lasso", "--features", "pu_and_do", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    executed = nbformat.read(report["artifacts"]["executed notebook"], as_version=4)
    injected = next(c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert "MODEL = 'lasso'" in injected.source and "FEATURES = 'pu_and_do'" in injected.source
    outputs = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert "RMSE val:" in outputs and f"{report['metrics']['rmse_val']:.4f}" in outputs


def test_the_notebook_is_a_real_notebook_with_a_parameters_cell():
    import nbformat

    notebook = nbformat.read(str(get_level(0).folder / "duration_prediction.ipynb"), as_version=4)
    nbformat.validate(notebook)
    tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and "TRAIN_DATA =" in tagged[0].source
    assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code")  # committed clean
