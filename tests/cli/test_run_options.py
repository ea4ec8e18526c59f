"""`run` checks every option before anything starts: no server, no file, one line, exit 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO, real_file

HEAVY = ["sklearn", "mlflow", "prefect", "evidently", "pandas"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", "0", "--months", "2021-01..2021-03"), "level 0 does not use --months — --months is for level 4 only"),
        (("run", "1", "--sweep"), "level 1 does not use --sweep"),
        (("run", "3", "--months", "2021-01,2021-02"), "level 3 does not use --months"),
        (("run", "4", "--train-data", "2021-01"), "level 4 does not use --train-data"),
        (("run", "4", "--months", "2021-01"), "level 4 needs at least two months"),
        (("run", "4", "--months", "2021-03,2021-01"), "repeats a month or is out of order"),
        (("run", "2", "--features", "pu"), "unknown feature set 'pu'"),
        (("run", "0", "--model", "gradient_boosting"), "level 0 has no model 'gradient_boosting'"),
        (("run", "2", "--data-dir", "/nonexistent/folder"), "is not a folder"),
    ],
)
def test_an_option_the_level_cannot_use_is_refused_before_anything_runs(invoke, workspace, args, message):
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert not workspace.exists()


def test_a_bad_model_name_costs_no_heavy_import_no_server_and_no_file(tmp_path):
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom cli import app\n"
        "r = CliRunner().invoke(app, ['run', '2', '--model', 'nope'])\n"
        "print(r.exit_code, '|', r.output.strip())\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    env = {"MLOPS_LEVELS_WORKSPACE": str(tmp_path / "ws"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env=env)
    first, modules = out.stdout.strip().splitlines()
    assert first.startswith("2 |") and "no model 'nope'" in first
    assert modules == "[]" and not (tmp_path / "ws").exists()


def test_a_month_missing_from_the_data_folder_is_one_line_before_any_server(invoke, workspace, tmp_path):
    folder = tmp_path / "real"
    folder.mkdir()
    (folder / "green_tripdata_2023-01.parquet").write_bytes(b"")
    result = invoke("run", "4", "--data-dir", folder, "--months", "2023-01,2023-02")
    assert result.exit_code == 2 and "green_tripdata_2023-02.parquet: no file for 2023-02" in result.output
    assert not workspace.exists()


@pytest.mark.slow
def test_real_months_with_a_gap_are_accepted_as_a_list(invoke, workspace):
    real_file("green_tripdata_2023-01.parquet")
    from common.months import month_range

    assert month_range("2023-01,2023-02,2023-03,2024-01") == ["2023-01", "2023-02", "2023-03", "2024-01"]
    result = invoke("run", "0", "--data-dir", real_file(), "--train-data", "2023-01", "--val-data", "2023-02", "--json")
    assert result.exit_code == 0, result.output
    assert "mild" not in result.output and "scenario" not in result.output
