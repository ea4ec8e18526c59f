"""Checks of the level-3 gate exercises: the gate's rule, and the platform enforcing it on every change."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from teaching.exercises.checking import CheckContext, CheckFailed, check, expect
from teaching.exercises.checks import fixtures

# gate-rule ------------------------------------------------------------------------------------------


def _gate(candidate: float, champion: float | None, **options: Any) -> Any:
    from taxi_duration.gate import quality_gate

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
    numbers = [float(n) for n in re.findall(r"\d+\.\d+", decision.reason or "")]
    named = all(any(abs(n - rmse) < 0.01 for n in numbers) for rmse in (5.2, 5.0))
    expect(
        named, f"a refusal's reason should name both RMSEs (5.2 and 5.0) for a person to read; got {decision.reason!r}"
    )


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
        from taxi_duration.lineage import Lineage, keygen, sign_version, signing_key
        from taxi_duration.registry import register_version
        from taxi_duration.tracking import start_tracking

        config = ctx.config()
        trained, validated = (fingerprint(resolve_data(month, config.data).path) for month in ("2021-01", "2021-02"))
        tags = {"train_data": "2021-01", "val_data": "2021-02", "val_data_sha256": validated}
        experiment = start_tracking(config)
        keygen(ctx.tmp / "keys")  # the files the environment names (CheckContext.environment)
        key = signing_key()
        assert key is not None
        versions = {}
        for name, fitted in (("good", fixtures.model()), ("bad", fixtures.model("ridge", alpha=1e6))):
            uri, run_id, model_id = fixtures.log_model(fitted, tags, experiment)
            version = register_version(config, uri, run_id, model_id)
            # signed as the level's pipeline signs what it registers: the gate trusts nothing else
            lineage = Lineage(
                config.model_name, version, run_id, "2021-01", trained, "2021-02", validated, "", "check", ""
            )
            sign_version(config, lineage, key)
            versions[name] = version
        return {"config": config, **versions}

    return dict(ctx.once("registry", build))


def _with_champion(ctx: CheckContext, version: str) -> tuple[Any, Any]:
    from taxi_duration.deployer import Platform
    from taxi_duration.registry import CHAMPION, registry_client

    registry = _registry(ctx)
    config = registry["config"]
    platform = Platform(config, ctx.tmp / "platform")
    # A platform with no history yet, so the alias set here is the champion it starts from (a platform
    # with history would put its own champion back): the log, its key and its head all go.
    for leftover in platform.audit.path.parent.glob("audit.*"):
        leftover.unlink()
    registry_client(config).set_registered_model_alias(config.model_name, CHAMPION, version)
    return config, platform


def _champion(config: Any) -> str:
    from taxi_duration.registry import CHAMPION, resolve_version

    return str(resolve_version(config, CHAMPION).version)


@check("deploy-gate", "a better candidate is promoted")
def better_promoted(ctx: CheckContext) -> None:
    from taxi_duration.deployer import PromoteSpec

    registry = _registry(ctx)
    config, platform = _with_champion(ctx, registry["bad"])
    decision = asyncio.run(platform.promote(PromoteSpec(version=registry["good"])))
    expect(decision.passed, f"v{registry['good']} is better than the champion: the gate should pass it")
    expect(_champion(config) == registry["good"], "after a passed promote, the champion alias should move")


@check("deploy-gate", "a worse candidate is refused, and the refusal audited")
def worse_candidate_refused(ctx: CheckContext) -> None:
    from taxi_duration.deployer import GateRefused, PromoteSpec

    registry = _registry(ctx)
    config, platform = _with_champion(ctx, registry["good"])
    try:
        asyncio.run(platform.promote(PromoteSpec(version=registry["bad"])))
    except GateRefused:
        pass
    else:
        raise CheckFailed(f"promoting v{registry['bad']}, far worse than the champion, should raise GateRefused")
    expect(_champion(config) == registry["good"], "a refused promote must leave the champion where it was")
    audit = platform.audit.path.read_text() if platform.audit.path.exists() else ""
    expect('"refused"' in audit, "the refusal should be recorded in the audit log (outcome: refused)")


@check("deploy-gate", "a deploy goes through the gate too")
def deploy_gated(ctx: CheckContext) -> None:
    from taxi_duration.deployer import DeploymentSpec, GateRefused

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
    from taxi_duration.deployer import PromoteSpec
    from taxi_duration.registry import resolve_version

    registry = _registry(ctx)
    config, platform = _with_champion(ctx, registry["good"])
    spec = PromoteSpec(version=registry["bad"], force=True, reason="rollback drill, ticket 12")
    decision = asyncio.run(platform.promote(spec))
    expect(decision.passed is False, "a forced promote still returns the gate's own verdict (passed: False)")
    expect(_champion(config) == registry["bad"], "a forced promote should move the champion alias")
    tags = resolve_version(config, registry["bad"]).tags
    expect("gate.override" in tags, "the override should be recorded on the version (tag gate.override)")


@check("deploy-gate", "an unknown version is refused before any gate talk")
def unknown_version(ctx: CheckContext) -> None:
    from taxi_duration.deployer import PromoteSpec
    from taxi_duration.registry import UnknownVersion

    registry = _registry(ctx)
    _, platform = _with_champion(ctx, registry["good"])
    try:
        asyncio.run(platform.promote(PromoteSpec(version="99")))
    except UnknownVersion:
        return
    raise CheckFailed("promoting v99, which does not exist, should raise UnknownVersion (the API's 404)")
