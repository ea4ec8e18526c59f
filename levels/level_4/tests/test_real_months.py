"""Level 4 on real TLC months, from a folder named as the TLC names its files (skipped without the sample)."""

from __future__ import annotations

import pytest
from conftest import real_month, running_platform


@pytest.mark.slow
def test_the_loop_runs_end_to_end_on_real_months_from_a_folder(prefect_api, project, monkeypatch):
    from taxi_duration.automation import run_months

    folder = real_month("green_tripdata_2023-02.parquet").parent
    real_month("green_tripdata_2023-01.parquet")
    monkeypatch.setenv("TAXI_DATA_DIR", str(folder))  # the loop's and the platform's months
    with running_platform(project) as platform:
        monkeypatch.setenv("PLATFORM_URL", platform)
        result = run_months(["2023-01", "2023-02"])
    assert result["data"] == f"real TLC green months from {folder}"
    first, month = result["decisions"]
    assert first["month"] == "2023-01" and month["month"] == "2023-02"
    assert 5.0 < month["rmse"] < 8.0 and month["rides"] > 10_000
    assert "scenario" not in result["log"] and "mild" not in result["log"]
