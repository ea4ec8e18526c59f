"""The closed loop over months against the platform, started by its own command: a rule fires when traffic
returns and the loop retrains and promotes; nothing fires on mild months; faults keep the champion; a
loop that crashed resumes where it stopped, and never decides a month twice or a past month."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import run_story

from common.errors import TaxiDurationError, UsageError
from taxi_duration.triggers import Thresholds, fired_rules

MONTHS = ["2021-01", "2021-02", "2021-03", "2021-04", "2021-05"]  # traffic-returns drifts by April
SHORT = MONTHS[:3]  # what a fault needs: a first champion and two months to act on
MEASURED = {"drift_share", "rmse", "frozen_rmse", "rules_fired", "action", "champion", "served_version"}


def _log(result: dict[str, Any]) -> list[dict[str, Any]]:
    from taxi_duration.decisions import DecisionLog

    return DecisionLog(Path(result["log"])).read()  # each line checked against its seal, returned without it


@pytest.fixture(scope="session")
def traffic_returns(prefect_api, tmp_path_factory, month_cache) -> dict[str, Any]:
    return run_story(tmp_path_factory.mktemp("traffic-returns"), month_cache, MONTHS, "traffic-returns")


@pytest.fixture(scope="session")
def mild_after_a_crash(prefect_api, tmp_path_factory, month_cache) -> tuple[str, dict[str, Any], Path]:
    """The mild story, whose machine went down while serving April; then run again, as a person would."""
    from taxi_duration import automation

    folder = tmp_path_factory.mktemp("mild")
    original = automation.serve_month

    def crash_in_april(config, month, *args):
        if month == "2021-04":
            raise TaxiDurationError("the machine went down")
        return original(config, month, *args)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(automation, "serve_month", crash_in_april)
        with pytest.raises(TaxiDurationError, match="the machine went down") as crashed:
            run_story(folder, month_cache, MONTHS, "mild")
    return str(crashed.value), run_story(folder, month_cache, MONTHS, "mild"), folder


@pytest.fixture(scope="session")
def faulty_story(prefect_api, tmp_path_factory, month_cache) -> dict[str, Any]:
    """Every month starts a retrain (the rules are forced): February's fails, March's is far worse than the
    champion, so the platform's own gate refuses it."""
    from taxi_duration import automation
    from taxi_duration.pipeline import training_pipeline

    def faulty_retrain(month, window, model, features):
        if month == "2021-02":
            raise RuntimeError("disk full")
        # a ridge so regularised it predicts the mean: a real candidate, really worse
        trained = training_pipeline(",".join(window), month, "ridge", params={"alpha": 1e6}, features=features)
        return {"version": str(trained["model_version"]), "rmse_val": trained["metrics"]["rmse_val"]}

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(automation, "fired_rules", lambda *args: ["forced: this test needs a retrain"])
        mp.setattr(automation, "retrain", faulty_retrain)
        return run_story(tmp_path_factory.mktemp("faults"), month_cache, SHORT)


def test_triggers_fire_on_drift_or_degradation_and_not_otherwise():
    assert fired_rules(0.75, 7.0, 7.0)[0].startswith("drift")
    assert fired_rules(0.0, 8.0, 7.0)[0].startswith("degradation")
    assert fired_rules(0.25, 7.3, 7.0) == []
    assert len(fired_rules(0.5, 9.0, 7.0, Thresholds(drift_share=0.5, degradation=0.1))) == 2


@pytest.mark.slow
def test_when_traffic_returns_a_rule_fires_and_the_loop_retrains_promotes_and_beats_the_frozen_model(
    traffic_returns,
):
    decisions = traffic_returns["decisions"]
    assert [d["month"] for d in decisions] == MONTHS
    assert decisions[0]["action"] == "initial training"
    for decision in decisions[1:]:  # every decision says what was measured and what was done
        assert MEASURED <= set(decision)
        assert (decision["action"] == "none") == (not decision["rules_fired"])
    promoted = [d for d in decisions if d["action"] == "retrained and promoted"]
    assert promoted, [(d["month"], d.get("rules_fired")) for d in decisions]
    for decision in promoted:  # the platform's gate passed it, and the next month it is what serves
        assert decision["gate"]["passed"] and decision["champion"]["version"] == decision["candidate_version"]
        following = decisions[decisions.index(decision) + 1 :]
        assert not following or following[0]["served_version"] == decision["candidate_version"]
    last = decisions[-1]
    assert last["served_version"] != decisions[0]["champion"]["version"]
    assert last["rmse"] < last["frozen_rmse"]
    assert _log(traffic_returns) == decisions  # what the loop answered is what it recorded
    assert traffic_returns["data"] == "synthetic months, traffic-returns scenario, seed 42"


@pytest.mark.slow
def test_on_mild_months_no_rule_fires_and_the_first_champion_serves_throughout(mild_after_a_crash):
    _, resumed, _ = mild_after_a_crash
    monthly = resumed["decisions"][1:]
    assert [d["month"] for d in monthly] == MONTHS[1:]
    assert all(d["rules_fired"] == [] and d["action"] == "none" for d in monthly)
    first = resumed["decisions"][0]["champion"]["version"]
    assert {d["served_version"] for d in monthly} == {first}


@pytest.mark.slow
def test_an_interrupted_loop_resumes_from_the_last_finished_month(mild_after_a_crash):
    crash, resumed, folder = mild_after_a_crash
    assert "the machine went down" in crash
    assert resumed["resumed"] == ["2021-02", "2021-03"]  # decided before the crash, not done again
    assert [d["month"] for d in _log(resumed)] == MONTHS  # none done twice, none missing
    predictions = folder / "platform" / "predictions"
    assert sorted(p.name for p in predictions.glob("2021-*")) == [f"{m}.jsonl" for m in MONTHS[1:]]
    for month in MONTHS[1:]:  # every ride of the month logged once
        ids = [json.loads(line)["ride_id"] for line in (predictions / f"{month}.jsonl").open()]
        assert len(ids) == len(set(ids)) > 1000


@pytest.mark.slow
def test_a_failed_retrain_keeps_the_champion_and_is_recorded(faulty_story):
    decisions = faulty_story["decisions"]
    [failed] = [d for d in decisions if d["action"].startswith("retrain failed")]
    assert failed["month"] == "2021-02" and "disk full" in failed["action"]
    assert {d["champion"]["version"] for d in decisions} == {decisions[0]["champion"]["version"]}


@pytest.mark.slow
def test_a_candidate_the_gate_refuses_keeps_the_champion(faulty_story):
    decisions = faulty_story["decisions"]
    [refused] = [d for d in decisions if d["action"] == "retrained; gate refused the candidate"]
    gate = refused["gate"]
    assert refused["month"] == "2021-03" and not gate["passed"]
    assert gate["candidate_rmse"] > gate["champion_rmse"] and gate["data"] == "2021-03"
    champion = decisions[0]["champion"]["version"]
    assert refused["candidate_version"] != champion
    assert {d["champion"]["version"] for d in decisions} == {champion}


def _decided(months: list[str], champion: str = "1") -> Path:
    """A story whose log has decided these months (as the loop writes them)."""
    from taxi_duration.automation import decision_log
    from taxi_duration.config import Config

    log = decision_log(Config.from_env(), "2021-01", "linear_regression")
    for month in months:
        log.record({"month": month, "action": "none", "champion": {"version": champion, "train": "2021-01"}})
    return log.path


def test_a_month_already_decided_is_not_done_again(prefect_api):
    from taxi_duration.automation import monthly_cycle

    path = _decided(["2021-01", "2021-03"])
    before = path.read_bytes()
    # platform 127.0.0.1:9 answers nothing: a cycle that served, measured or trained would fail on it
    answer = monthly_cycle("2021-01", month="2021-03")
    assert answer == {"month": "2021-03", "action": "already decided", "skipped": True}
    assert path.read_bytes() == before


def test_a_past_month_is_refused_by_the_loop_and_by_the_cycle():
    from taxi_duration.automation import monthly_cycle, start_loop
    from taxi_duration.config import Config

    path = _decided(["2021-01", "2021-03"])
    before = path.read_bytes()
    with pytest.raises(UsageError, match="2021-02 come\\(s\\) before 2021-03"):
        start_loop(Config.from_env(), ["2021-01", "2021-02", "2021-04"], "linear_regression", "pu_do")
    with pytest.raises(TaxiDurationError, match="2021-02 comes before 2021-03"):
        monthly_cycle.fn("2021-01", month="2021-02")
    assert path.read_bytes() == before


def test_the_loop_command_says_a_refusal_in_one_line(capsys):
    from taxi_duration import automation

    _decided(["2021-01", "2021-03"])
    code = automation.main(["--months", "2021-01,2021-02", "--platform-url", "http://127.0.0.1:9", "--json"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert "2021-02 come(s) before 2021-03" in err
    assert automation.main(["--months", "2021-01"]) == 2
    assert "at least two months" in capsys.readouterr().err
