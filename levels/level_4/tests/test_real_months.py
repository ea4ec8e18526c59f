"""Level 4 on real TLC months, from a folder named as the TLC names its files (skipped without the sample)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import real_file


@pytest.mark.slow
def test_run_4_runs_end_to_end_on_real_months_from_a_folder(invoke, prefect_api):
    folder = real_file("green_tripdata_2023-02.parquet").parent
    result = invoke("run", "4", "--data-dir", folder, "--months", "2023-01,2023-02", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["details"]["data"] == f"real TLC green months from {folder}"
    assert report["details"]["months"] == "2023-01, 2023-02"
    [month] = report["details"]["month_by_month"]
    assert month["month"] == "2023-02" and 5.0 < month["level 4"] < 8.0
    assert "scenario" not in result.output and "mild" not in result.output
