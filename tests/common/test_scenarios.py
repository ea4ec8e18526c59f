"""The drift each page attributes to a scenario (teaching/scenarios.py) is the drift measured: the
generator's months and the real 2021 months, measured again here the way the figures were made."""

from __future__ import annotations

import statistics

import pandas as pd
import pytest

from common import realism
from common.data import prepare_trips, read_trips
from common.datasource import DataSource
from common.synthetic import generate_month
from teaching.scenarios import REAL_2021, SCENARIO_DRIFT, Drift, drift_note, factor
from tests.conftest import real_file

MONTHS = realism.months_between("2021-01", "2021-06")


def _measured(raw: dict[str, pd.DataFrame]) -> Drift:
    steps = realism.month_to_month(raw)
    curve = realism.frozen_vs_retrained({m: prepare_trips(r) for m, r in raw.items()}, window=1)
    return Drift(
        psi_pickup=statistics.median(step["psi_pu"] for step in steps),
        frozen_loss=curve[-1]["frozen_rmse"] / curve[0]["frozen_rmse"] - 1,
        frozen_vs_retrained=curve[-1]["frozen_rmse"] / curve[-1]["retrained_rmse"] - 1,
    )


def _close(measured: Drift, stated: Drift) -> None:
    assert measured.psi_pickup == pytest.approx(stated.psi_pickup, abs=0.002)
    assert measured.frozen_loss == pytest.approx(stated.frozen_loss, abs=0.015)
    assert measured.frozen_vs_retrained == pytest.approx(stated.frozen_vs_retrained, abs=0.015)


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["traffic-returns", "mild"])
def test_each_scenario_drifts_as_its_pages_say(scenario):
    _close(_measured({m: generate_month(m, scenario=scenario) for m in MONTHS}), SCENARIO_DRIFT[scenario])


@pytest.mark.slow
def test_real_2021_months_drift_as_the_pages_say():
    _close(_measured({m: read_trips(real_file(f"green_tripdata_{m}.parquet")) for m in MONTHS}), REAL_2021)


def test_the_story_scenario_says_it_is_stylised_and_by_how_much():
    note = drift_note(DataSource(scenario="traffic-returns"))
    assert note is not None and note.startswith("Stylised") and f"{factor('traffic-returns'):.1f}×" in note
    assert 2 < factor("traffic-returns") < 2.6  # the factor the README and bench/README.md quote
    assert drift_note(DataSource(folder=real_file())) is None  # real months are the world itself


def test_every_note_a_page_can_print_carries_its_measured_figures_and_where_they_come_from():
    mild = drift_note(DataSource(scenario="mild"))
    assert mild is not None and "0.008 vs 0.014" in mild and "-6% here, +14% on the real months" in mild
    assert all("seed 42" in (drift_note(DataSource(scenario=s)) or "") for s in ("mild", "traffic-returns"))
    assert "do not drift at all" in (drift_note(DataSource(scenario="none")) or "")
