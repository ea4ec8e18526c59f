from __future__ import annotations

import json

import pytest

from common.errors import MlopsLevelsError
from levels.level_4.triggers import Thresholds, fired_rules
from tests.conftest import REPO

MONTHS = "2021-01..2021-05"


@pytest.fixture(autouse=True)
def _level4(prefect_api, monkeypatch):
    # Bigger months than other suites: drift on 265-valued zone columns needs a few thousand rides a month.
    monkeypatch.setenv("MLOPS_LEVELS_SYNTHETIC_ROWS", "12000")


SHORT = "2021-01..2021-03"  # what a fault needs: a first champion and two months to act on


def _run(invoke, *args, months=MONTHS):
    result = invoke("run", "4", "--months", months, "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture
def every_month_retrains(monkeypatch):
    """Faults are about what happens once a retrain starts: make every month start one, on small months."""
    from levels.level_4 import automation

    monkeypatch.setenv("MLOPS_LEVELS_SYNTHETIC_ROWS", "4000")
    monkeypatch.setattr(automation, "fired_rules", lambda *args: ["forced: this test needs a retrain"])


def _decisions(report):
    return [json.loads(line) for line in open(report["artifacts"]["decisions"]) if line.strip()]


def test_triggers_fire_on_drift_or_degradation_and_not_otherwise():
    assert fired_rules(0.75, 7.0, 7.0)[0].startswith("drift")
    assert fired_rules(0.0, 8.0, 7.0)[0].startswith("degradation")
    assert fired_rules(0.25, 7.3, 7.0) == []
    assert len(fired_rules(0.5, 9.0, 7.0, Thresholds(drift_share=0.5, degradation=0.1))) == 2


def test_strong_drift_retrains_and_beats_the_frozen_model_and_mild_retrains_less(invoke):
    strong = _run(invoke, "--scenario", "traffic-returns")
    assert strong["metrics"]["retrains"] >= 1
    assert strong["metrics"]["last_month_rmse"] < strong["metrics"]["last_month_frozen_rmse"]
    mild = _run(invoke, "--scenario", "mild")
    assert mild["metrics"]["retrains"] < strong["metrics"]["retrains"]
    decisions = _decisions(strong)
    assert [d["month"] for d in decisions] == ["2021-01", "2021-02", "2021-03", "2021-04", "2021-05"]
    for decision in decisions[1:]:  # every decision says what was measured and what was done
        assert {"drift_share", "rmse", "frozen_rmse", "rules_fired", "action", "champion"} <= set(decision)
        assert (decision["action"] == "none") == (not decision["rules_fired"])
    assert (REPO / strong["artifacts"]["plot"]).exists()


def test_a_failed_retrain_keeps_the_champion_and_is_recorded(invoke, monkeypatch, every_month_retrains):
    from levels.level_4 import automation

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(automation, "retrain", broken)
    report = _run(invoke, months=SHORT)
    decisions = _decisions(report)
    failed = [d for d in decisions if d["action"].startswith("retrain failed")]
    assert failed and "disk full" in failed[0]["action"]
    assert {d["champion"]["version"] for d in decisions} == {decisions[0]["champion"]["version"]}
    assert report["metrics"]["retrains"] == 0


def test_a_refused_candidate_keeps_the_champion(invoke, monkeypatch, every_month_retrains):
    from levels.level_4 import gate

    original = gate.quality_gate

    def strict(candidate, candidate_rmse, champion, champion_rmse, data=None, tolerance=gate.DEFAULT_TOLERANCE):
        return original(candidate, champion_rmse * 2, champion, champion_rmse, data, tolerance)

    monkeypatch.setattr(gate, "quality_gate", strict)  # the platform's own gate, which the loop only asks
    decisions = _decisions(_run(invoke, months=SHORT))
    refused = [d for d in decisions if d["action"] == "retrained; gate refused the candidate"]
    assert refused and not refused[0]["gate"]["passed"]
    assert {d["champion"]["version"] for d in decisions} == {decisions[0]["champion"]["version"]}


def test_an_interrupted_loop_resumes_from_the_last_finished_month(invoke, monkeypatch):
    monkeypatch.setenv("MLOPS_LEVELS_SYNTHETIC_ROWS", "4000")  # resuming is about the log, not the data
    from levels.level_4 import automation

    original = automation.serve_month

    def crash_in_april(settings, month, *args):
        if month == "2021-04":
            raise MlopsLevelsError("the machine went down")
        return original(settings, month, *args)

    monkeypatch.setattr(automation, "serve_month", crash_in_april)
    crashed = invoke("run", "4", "--months", MONTHS, "--json")
    assert crashed.exit_code == 1 and "the machine went down" in crashed.output
    monkeypatch.setattr(automation, "serve_month", original)
    decisions = _decisions(_run(invoke))
    months = [d["month"] for d in decisions]
    assert months == ["2021-01", "2021-02", "2021-03", "2021-04", "2021-05"]  # none done twice


def test_diff_3_4_shows_the_loop(invoke):
    report = json.loads(invoke("diff", "3", "4", "--json").output)
    assert {p["id"] for p in report["practices_gained"]} == {"automated_retraining"}
    carried = {f["new"]: f["status"] for f in report["files"] if f["new"] in ("gate.py", "deployer.py", "cd.py")}
    assert set(carried.values()) == {"unchanged"}
    added = {f["new"] for f in report["files"] if f["status"] == "added"}
    assert {"automation.py", "triggers.py", "decisions.py"} <= added
