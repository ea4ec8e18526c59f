"""Checks of the level-3 exercises: the gate's rule, the platform enforcing it, A/B routing, drift."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any

from teaching.exercises.checking import CheckContext, CheckFailed, check, expect
from teaching.exercises.checks import fixtures

# gate-rule ------------------------------------------------------------------------------------------


def _gate(candidate: float, champion: float | None, **options: Any) -> Any:
    from levels.level_3.gate import quality_gate

    return quality_gate("7", candidate, None if champion is None else "3", champion, "2021-02", **options)


@check("gate-rule", "with no champion yet, a candidate passes")
def no_champion(ctx: CheckContext) -> None:
    decision = _gate(6.0, None)
    expect(decision.passed is True, "with no champion to compare with, the first candidate should pass")
    expect(decision.champion_version is None, "with no champion, the decision's champion_version should be None")


@check("gate-rule", "better, or worse within the tolerance, passes")
def better_passes(ctx: CheckContext) -> None:
    expect(_gate(4.0, 5.0).passed is True, "RMSE 4.0 against a champion's 5.0 is better: it should pass")
    expect(_gate(5.05, 5.0).passed is True, "RMSE 5.05 against 5.0 is 1% worse, within the 2% tolerance: pass")
    limit = _gate(5.0, 4.0, tolerance=0.25)  # 4.0 * 1.25 is exactly 5.0 in floating point
    expect(limit.passed is True, "RMSE 5.0 against 4.0 with tolerance 0.25 is exactly the limit: at most means pass")


@check("gate-rule", "worse beyond the tolerance is refused")
def worse_refused(ctx: CheckContext) -> None:
    decision = _gate(5.2, 5.0)
    expect(decision.passed is False, "RMSE 5.2 against a champion's 5.0 is 4% worse, beyond 2%: refuse it")
    expect(bool(decision.reason), "a refusal needs a reason a person can read")


@check("gate-rule", "the tolerance given is the one applied")
def tolerance_used(ctx: CheckContext) -> None:
    expect(_gate(5.4, 5.0, tolerance=0.1).passed is True, "with tolerance=0.1, RMSE 5.4 against 5.0 (+8%) passes")
    expect(_gate(5.6, 5.0, tolerance=0.1).passed is False, "with tolerance=0.1, RMSE 5.6 against 5.0 (+12%) fails")
    expect(_gate(5.05, 5.0, tolerance=0.0).passed is False, "with tolerance=0, any worse RMSE fails")


@check("gate-rule", "the decision carries both versions, both RMSEs and the data")
def decision_complete(ctx: CheckContext) -> None:
    decision = _gate(5.2, 5.0)
    got = (decision.candidate_version, decision.candidate_rmse, decision.champion_version, decision.champion_rmse)
    expect(got == ("7", 5.2, "3", 5.0), f"expected ('7', 5.2, '3', 5.0) in the decision, got {got}")
    expect(decision.data == "2021-02", "the decision should name the data both RMSEs were measured on")


# deploy-gate ----------------------------------------------------------------------------------------


def _registry(ctx: CheckContext) -> dict[str, Any]:
    """A level-3 registry with a good version and a bad one, both validated on the small 2021-02."""

    def build() -> dict[str, Any]:
        from common.data import fingerprint
        from common.sources import resolve_data
        from levels.level_3.registry import register_version
        from levels.level_3.tracking import start_tracking

        settings = ctx.settings()
        path = resolve_data("2021-02", settings).path
        tags = {"val_data": "2021-02", "val_data_sha256": fingerprint(path)}
        experiment = start_tracking(settings)
        versions = {}
        for name, fitted in (("good", fixtures.model()), ("bad", fixtures.model("lasso", alpha=5.0))):
            versions[name] = register_version(settings, *fixtures.log_model(fitted, tags, experiment))
        return {"settings": settings, **versions}

    return dict(ctx.once("registry", build))


def _with_champion(ctx: CheckContext, version: str) -> tuple[Any, Any]:
    from levels.level_3.deployer import Platform
    from levels.level_3.registry import CHAMPION, registry_client

    registry = _registry(ctx)
    settings = registry["settings"]
    registry_client(settings).set_registered_model_alias(settings.model_name, CHAMPION, version)
    return settings, Platform(settings)


def _champion(settings: Any) -> str:
    from levels.level_3.registry import CHAMPION, resolve_version

    return str(resolve_version(settings, CHAMPION).version)


@check("deploy-gate", "a better candidate is promoted")
def better_promoted(ctx: CheckContext) -> None:
    from levels.level_3.deployer import PromoteSpec

    registry = _registry(ctx)
    settings, platform = _with_champion(ctx, registry["bad"])
    decision = asyncio.run(platform.promote(PromoteSpec(version=registry["good"])))
    expect(decision.passed, f"v{registry['good']} is better than the champion: the gate should pass it")
    expect(_champion(settings) == registry["good"], "after a passed promote, the champion alias should move")


@check("deploy-gate", "a worse candidate is refused, and the refusal audited")
def worse_candidate_refused(ctx: CheckContext) -> None:
    from levels.level_3.deployer import GateRefused, PromoteSpec

    registry = _registry(ctx)
    settings, platform = _with_champion(ctx, registry["good"])
    try:
        asyncio.run(platform.promote(PromoteSpec(version=registry["bad"])))
    except GateRefused:
        pass
    else:
        raise CheckFailed(f"promoting v{registry['bad']}, far worse than the champion, should raise GateRefused")
    expect(_champion(settings) == registry["good"], "a refused promote must leave the champion where it was")
    audit = platform.audit.path.read_text() if platform.audit.path.exists() else ""
    expect('"refused"' in audit, "the refusal should be recorded in the audit log (outcome: refused)")


@check("deploy-gate", "a deploy goes through the gate too")
def deploy_gated(ctx: CheckContext) -> None:
    from levels.level_3.deployer import DeploymentSpec, GateRefused

    registry = _registry(ctx)
    _, platform = _with_champion(ctx, registry["good"])
    spec = DeploymentSpec(variants=[{"version": registry["bad"], "weight": 1}])
    try:
        asyncio.run(platform.deploy(spec))
    except GateRefused:
        pass
    else:
        raise CheckFailed("deploying a version the gate refuses should raise GateRefused, like a promote")
    expect(platform.variants == [], "a refused deploy must not change what is served")


@check("deploy-gate", "an override passes and is recorded on the version")
def override_recorded(ctx: CheckContext) -> None:
    from levels.level_3.deployer import PromoteSpec
    from levels.level_3.registry import resolve_version

    registry = _registry(ctx)
    settings, platform = _with_champion(ctx, registry["good"])
    spec = PromoteSpec(version=registry["bad"], force=True, reason="rollback drill, ticket 12")
    decision = asyncio.run(platform.promote(spec))
    expect(decision.passed is False, "a forced promote still returns the gate's own verdict (passed: False)")
    expect(_champion(settings) == registry["bad"], "a forced promote should move the champion alias")
    tags = resolve_version(settings, registry["bad"]).tags
    expect("gate.override" in tags, "the override should be recorded on the version (tag gate.override)")


@check("deploy-gate", "an unknown version is refused before any gate talk")
def unknown_version(ctx: CheckContext) -> None:
    from levels.level_3.deployer import PromoteSpec
    from levels.level_3.registry import UnknownVersion

    registry = _registry(ctx)
    _, platform = _with_champion(ctx, registry["good"])
    try:
        asyncio.run(platform.promote(PromoteSpec(version="99")))
    except UnknownVersion:
        return
    raise CheckFailed("promoting v99, which does not exist, should raise UnknownVersion (the API's 404)")


# stable-ab ------------------------------------------------------------------------------------------

RIDES = [f"2021-03-{i}" for i in range(20_000)]


def _variants(*weights: float) -> list[Any]:
    from levels.level_3.ab import Variant

    return [Variant(f"v{i}", str(i), weight) for i, weight in enumerate(weights)]


@check("stable-ab", "a bucket is a number in [0, 1) that spreads evenly")
def bucket_range(ctx: CheckContext) -> None:
    from levels.level_3.ab import bucket

    points = [bucket(ride) for ride in RIDES]
    expect(all(isinstance(p, float) and 0 <= p < 1 for p in points), "bucket() should return floats in [0, 1)")
    share = sum(p < 0.5 for p in points) / len(points)
    expect(abs(share - 0.5) < 0.02, f"half of the rides should fall below 0.5, {share:.1%} did")


@check("stable-ab", "the same ride gets the same bucket in another process")
def stable_across_processes(ctx: CheckContext) -> None:
    from levels.level_3.ab import bucket

    code = (
        "import json, sys; from levels.level_3.ab import bucket; print(json.dumps([bucket(r) for r in sys.argv[1:]]))"
    )
    here = [bucket(ride) for ride in RIDES[:20]]
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        ran = subprocess.run(
            [sys.executable, "-c", code, *RIDES[:20]], cwd=ctx.copy, env=env, capture_output=True, text=True
        )
        expect(ran.returncode == 0, f"bucket() failed in a fresh process: {ran.stderr.strip()[-200:]}")
        expect(
            json.loads(ran.stdout) == here, "another process gives other buckets for the same rides (Python's hash()?)"
        )


@check("stable-ab", "the split follows the weights")
def split_follows_weights(ctx: CheckContext) -> None:
    from levels.level_3.ab import choose_variant

    for weights in ((0.5, 0.5), (0.9, 0.1)):
        variants = _variants(*weights)
        second = sum(choose_variant(variants, ride) is variants[1] for ride in RIDES) / len(RIDES)
        expect(abs(second - weights[1]) < 0.02, f"with weights {weights}, {second:.1%} of rides reached the second")
    single = _variants(1.0)
    expect(all(choose_variant(single, r) is single[0] for r in RIDES[:500]), "one variant should get every ride")


@check("stable-ab", "weights that add up to 0.999… still route every ride")
def rounding(ctx: CheckContext) -> None:
    from levels.level_3.ab import choose_variant

    variants = _variants(0.4995, 0.4995)
    chosen = [choose_variant(variants, ride) for ride in RIDES]
    expect(all(v in variants for v in chosen), "every ride should reach one of the variants, even in the last 0.1%")
    again = _variants(0.3, 0.7)
    expect(
        [choose_variant(again, r).name for r in RIDES[:300]] == [choose_variant(again, r).name for r in RIDES[:300]],
        "the same ride should reach the same variant every time",
    )


# drift-report ---------------------------------------------------------------------------------------


def _traffic() -> tuple[Any, Any]:
    """Reference and served: two halves of one month, with a prediction column and a variant."""
    trips = fixtures.month("2021-01", rows=2 * fixtures.SMALL_ROWS).copy()
    trips["prediction"] = 3.0 + 4.0 * trips.trip_distance
    trips["variant"] = "champion"
    half = len(trips) // 2
    return trips.iloc[:half].reset_index(drop=True), trips.iloc[half:].reset_index(drop=True)


def _monitor(ctx: CheckContext, label: str, longer_trips: bool) -> Any:
    from levels.level_3.monitor import run_monitoring

    reference, served = _traffic()
    if longer_trips:
        served["trip_distance"] *= 1.6
        served["prediction"] = 3.0 + 4.0 * served.trip_distance
    return ctx.once(label, lambda: run_monitoring(served, reference, ctx.tmp / "reports", label))


@check("drift-report", "the drift report is saved as HTML and JSON")
def report_saved(ctx: CheckContext) -> None:
    result = _monitor(ctx, "2021-02", longer_trips=True)
    for suffix in ("html", "json"):
        path = ctx.tmp / "reports" / f"drift-2021-02.{suffix}"
        expect(path.is_file(), f"no drift report at reports/drift-2021-02.{suffix}")
        expect(str(path) in result.reports.values(), f"the result's reports should list {path.name}")


@check("drift-report", "longer trips are flagged as drift")
def drift_found(ctx: CheckContext) -> None:
    result = _monitor(ctx, "2021-02", longer_trips=True)
    expect(
        set(result.drift_scores) >= {"trip_distance", "prediction"}, f"scores per column missing: {result.drift_scores}"
    )
    expect("trip_distance" in result.drifted_columns, "trips 60% longer should put trip_distance among drifted columns")
    expect(result.drift_share > 0, "with drifted columns, the share of drifted columns should be above 0")


@check("drift-report", "the same traffic is not called drift")
def no_false_alarm(ctx: CheckContext) -> None:
    result = _monitor(ctx, "2021-03", longer_trips=False)
    flagged = {"trip_distance", "prediction"} & set(result.drifted_columns)
    expect(not flagged, f"two halves of one month should not drift on distance or prediction, got {sorted(flagged)}")
    share = len(result.drifted_columns) / 4
    expect(abs(result.drift_share - share) < 1e-6, f"drift_share {result.drift_share} is not drifted/all ({share})")
