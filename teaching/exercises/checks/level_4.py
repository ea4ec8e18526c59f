"""Checks of the level-4 exercises: the retraining rules, resuming from the decision log, the schedule's month."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from teaching.exercises.checking import CheckContext, CheckFailed, check, expect

# degradation-trigger --------------------------------------------------------------------------------


def _rules(share: float, rmse: float, champion: float, **thresholds: float) -> list[str]:
    from taxi_duration.triggers import Thresholds, fired_rules

    fired: list[str] = fired_rules(share, rmse, champion, Thresholds(**thresholds))
    expect(isinstance(fired, list), f"fired_rules should return a list of lines, not {type(fired).__name__}")
    return fired


def _names(fired: list[str]) -> set[str]:
    return {str(line).split(":")[0].strip() for line in fired}


@check("degradation-trigger", "a steady month fires nothing")
def steady_month(ctx: CheckContext) -> None:
    fired = _rules(0.1, 5.05, 5.0)
    expect(fired == [], f"drift share 10% and RMSE 1% worse should fire no rule, got {fired}")


@check("degradation-trigger", "drift fires from the threshold on")
def drift_fires(ctx: CheckContext) -> None:
    expect(_names(_rules(0.5, 5.0, 5.0)) == {"drift"}, "a drift share of 50% (the threshold) should fire 'drift' alone")
    expect(_rules(0.49, 5.0, 5.0) == [], "a drift share of 49% is under the 50% threshold: nothing should fire")


@check("degradation-trigger", "degradation fires beyond the tolerance only")
def degradation_fires(ctx: CheckContext) -> None:
    expect(
        _names(_rules(0.0, 5.6, 5.0)) == {"degradation"},
        "RMSE 5.6 against a champion's 5.0 (12% worse) should fire 'degradation' alone",
    )
    at_limit = _rules(0.0, 5.0, 4.0, degradation=0.25)  # 4.0 * 1.25 is exactly 5.0 in floating point
    expect(at_limit == [], "RMSE 5.0 against 4.0 with degradation=0.25 is exactly at the limit: not beyond it")


@check("degradation-trigger", "both rules, and the thresholds given")
def thresholds_respected(ctx: CheckContext) -> None:
    expect(_names(_rules(0.8, 9.0, 5.0)) == {"drift", "degradation"}, "drift 80% and RMSE +80% should fire both rules")
    stricter = _rules(0.3, 5.2, 5.0, drift_share=0.25, degradation=0.02)
    expect(
        _names(stricter) == {"drift", "degradation"},
        f"with Thresholds(drift_share=0.25, degradation=0.02), drift 30% and RMSE +4% should fire both, got {stricter}",
    )


# resume-from-log ------------------------------------------------------------------------------------


def _decision(month: str) -> dict[str, object]:
    return {"month": month, "action": "none", "champion": {"version": "1", "train": "2021-01", "baseline_rmse": 5.0}}


@check("resume-from-log", "no log yet means no decision")
def empty_log(ctx: CheckContext) -> None:
    from taxi_duration.decisions import DecisionLog

    log = DecisionLog(ctx.tmp / "never-written.jsonl")
    expect(log.read() == [], "a log that does not exist yet should read as no decisions ([])")
    expect(log.finished_months() == set(), "with no log, no month is finished")


@check("resume-from-log", "a restarted loop sees the months already decided")
def restart_resumes(ctx: CheckContext) -> None:
    from taxi_duration.decisions import DecisionLog

    path = ctx.tmp / "story.jsonl"
    first = DecisionLog(path)
    for month in ("2021-02", "2021-03"):
        first.record(_decision(month))
    restarted = DecisionLog(path)  # a new process after a crash: only the file is left
    decisions = restarted.read()
    expect(len(decisions) == 2, f"two decisions were recorded, read() gave {len(decisions)}")
    expect(decisions[-1] == _decision("2021-03"), "read() should give the decisions back as they were recorded")
    finished = restarted.finished_months()
    expect(finished == {"2021-02", "2021-03"}, f"finished_months() should be {{'2021-02', '2021-03'}}, got {finished}")


@check("resume-from-log", "a damaged line stops the loop, naming file and line")
def damaged_line(ctx: CheckContext) -> None:
    from common.errors import StoreError
    from taxi_duration.decisions import DecisionLog

    for label, bad in (("not JSON", "{half a line"), ("a decision without a month", '{"action": "none"}')):
        path = ctx.tmp / f"damaged-{len(bad)}.jsonl"
        log = DecisionLog(path)
        log.record(_decision("2021-02"))
        with path.open("a", encoding="utf-8") as handle:
            handle.write(bad + "\n")
        try:
            log.read()
        except StoreError as exc:
            expect(f"{path}:2" in exc.one_line(), f"the error should name the file and line 2 ({path}:2)")
            continue
        raise CheckFailed(f"a line that is {label} should raise StoreError, never be skipped")


@check("resume-from-log", "a sealed decision of the wrong shape stops the loop, naming file and line")
def wrong_shape(ctx: CheckContext) -> None:
    from common.errors import StoreError
    from taxi_duration.decisions import DecisionLog

    path = ctx.tmp / "wrong-shape.jsonl"
    log = DecisionLog(path)
    log.record(_decision("2021-02"))
    log.sealed.append({"month": 202103, "action": "none", "champion": "1"})  # as a bug in the loop would write it
    try:
        log.read()
    except StoreError as exc:
        expect(f"{path}:2" in exc.one_line(), f"the error should name the file and line 2 ({path}:2)")
        return
    raise CheckFailed("a decision whose month is not text like 2021-03 should raise StoreError, never be used")


# schedule-month -------------------------------------------------------------------------------------


@check("schedule-month", "06:00 on the 1st serves the month that just ended")
def previous_month(ctx: CheckContext) -> None:
    from taxi_duration.automation import month_of_schedule

    got = month_of_schedule(datetime(2021, 3, 1, 6, 0))
    expect(got == "2021-02", f"a run scheduled 2021-03-01 06:00 should serve 2021-02, got {got!r}")


@check("schedule-month", "January serves the December before")
def across_the_year(ctx: CheckContext) -> None:
    from taxi_duration.automation import month_of_schedule

    got = month_of_schedule(datetime(2022, 1, 1, 6, 0))
    expect(got == "2021-12", f"a run scheduled 2022-01-01 should serve 2021-12, got {got!r}")


@check("schedule-month", "Prefect's scheduled time, with a time zone, works too")
def prefect_time(ctx: CheckContext) -> None:
    from prefect.types._datetime import DateTime

    from taxi_duration.automation import month_of_schedule

    scheduled = DateTime(2021, 7, 1, 6, 0, tzinfo=timezone(timedelta(hours=-4)))
    got = month_of_schedule(scheduled)
    expect(got == "2021-06", f"Prefect's scheduled_start_time 2021-07-01T06:00-04:00 should serve 2021-06, got {got!r}")
