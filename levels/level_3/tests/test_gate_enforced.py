"""The quality gate belongs to the platform: every deploy and promote goes through it, whoever calls.

Also what serves is what the registry says: promotions are serialised, versions are ASCII digits, a
missing artifact is a 409 with its path (never a 500), /health says 503 and why while nothing can be
served, and a store moved to another folder is a 503 that names the missing files, not a crash.
"""

from __future__ import annotations

import json
import shutil
import threading

import httpx
import pytest
from conftest import ADMIN, V1, V2, V3, platform_app, platform_process
from fastapi.testclient import TestClient
from training_fixtures import MODEL_NAME, Store


def _champion(store) -> str:
    return str(store.client().get_model_version_by_alias(MODEL_NAME, "champion").version)


def _audit(store) -> list[dict]:
    return [json.loads(line) for line in (store.folder / "platform" / "audit.jsonl").read_text().splitlines()]


def test_the_gate_refuses_a_worse_version_on_deploy_and_on_promote(own_registry):
    with TestClient(platform_app(own_registry)) as platform:
        assert platform.post("/promote", json={"version": V1}, headers=ADMIN).status_code == 200
        for path, body in (
            ("/deployments", {"variants": [{"version": V3, "weight": 1}]}),
            ("/promote", {"version": V3}),
        ):
            refused = platform.post(path, json=body, headers=ADMIN)
            assert refused.status_code == 409, (path, refused.text)
            detail = refused.json()["detail"]
            assert detail["gate"]["passed"] is False and detail["gate"]["data"] == "2021-02"
            assert detail["gate"]["candidate_rmse"] > detail["gate"]["champion_rmse"]
            assert "worse than" in detail["error"] and '"force"' in detail["fix"]
        assert platform.get("/deployments").json()["deployed"] == [{"name": "champion", "version": V1, "weight": 1.0}]
    assert _champion(own_registry) == V1


def test_the_gate_in_the_demo_is_the_gate_of_every_caller(own_registry):
    """No second path: the Platform object the API uses refuses too, called from Python directly."""
    import asyncio

    from taxi_duration.deployer import GateRefused, Platform, PromoteSpec

    platform = Platform(own_registry.config(), own_registry.folder / "platform")
    asyncio.run(platform.promote(PromoteSpec(version=V1)))
    with pytest.raises(GateRefused):
        asyncio.run(platform.promote(PromoteSpec(version=V3)))
    assert _champion(own_registry) == V1
    assert [(a["action"], a["outcome"]) for a in _audit(own_registry)] == [
        ("promote", "passed"),
        ("promote", "refused"),
    ]


def test_check_candidate_measures_both_versions_on_the_candidates_month(own_registry):
    from taxi_duration.gate import check_candidate

    config, measured = own_registry.config(), {}
    decision = check_candidate(config, V3, V1, measured)
    assert not decision.passed and decision.data == "2021-02"
    assert decision.candidate_rmse > decision.champion_rmse > 0
    assert len(measured) == 2  # each measured once, by the platform, and kept
    assert check_candidate(config, V2, V1, measured).passed
    assert check_candidate(config, V3, None).reason == "no champion yet"
    assert check_candidate(config, V1, V1).reason == "it is the champion"


def test_an_override_needs_a_reason_and_is_recorded_in_registry_and_audit_log(own_registry):
    from taxi_duration.registry import resolve_version

    with TestClient(platform_app(own_registry)) as platform:
        assert platform.post("/promote", json={"version": V1}, headers=ADMIN).status_code == 200
        no_reason = platform.post("/promote", json={"version": V3, "force": True}, headers=ADMIN)
        assert no_reason.status_code == 422
        assert platform.post("/promote", json={"version": V3}, headers=ADMIN).status_code == 409
        forced = platform.post(
            "/promote", json={"version": V3, "force": True, "reason": "rollback drill, ticket 12"}, headers=ADMIN
        )
        assert forced.status_code == 200 and forced.json()["gate"]["passed"] is False
    assert _champion(own_registry) == V3
    override = json.loads(resolve_version(own_registry.config(), V3).tags["gate.override"])
    assert override["reason"] == "rollback drill, ticket 12" and override["action"] == "promote"
    audit = _audit(own_registry)
    assert [(a["action"], a["outcome"]) for a in audit[-2:]] == [("promote", "refused"), ("promote", "forced")]


def test_evaluations_give_the_verdict_without_deploying_and_tag_the_numbers(own_registry):
    from taxi_duration.registry import resolve_version

    with TestClient(platform_app(own_registry)) as platform:
        assert platform.post("/promote", json={"version": V1}, headers=ADMIN).status_code == 200
        verdict = platform.post("/evaluations", json={"version": V3}, headers=ADMIN).json()
        assert verdict["passed"] is False
        assert platform.get("/deployments").json()["deployed"][0]["version"] == V1
    tags = resolve_version(own_registry.config(), V3).tags
    assert any(
        name.startswith("gate.rmse.") and float(value) == pytest.approx(verdict["candidate_rmse"])
        for name, value in tags.items()
    )


def test_a_version_without_the_evaluation_it_needs_is_refused(own_registry, tmp_path_factory):
    from dataclasses import replace

    from taxi_duration.platform_api import create_app

    config = own_registry.config()
    cache = own_registry.folder / "data"  # the platform's own copy of the months, so the session's stay whole
    shutil.copytree(config.data.cache, cache)
    config = replace(config, data=replace(config.data, cache=cache))
    with TestClient(create_app(config, own_registry.folder / "platform", admin_token="secret")) as platform:
        assert platform.post("/promote", json={"version": V1}, headers=ADMIN).status_code == 200
        months = list(cache.rglob("green_tripdata_2021-02.parquet"))
        assert months
        for month in months:
            month.write_bytes(month.read_bytes() + b"tampered")  # the data v2 was validated on is not there any more
        refused = platform.post("/promote", json={"version": V2}, headers=ADMIN)
    assert refused.status_code == 409
    assert "cannot evaluate" in refused.json()["detail"]["gate"]["reason"]


@pytest.mark.parametrize("version", ["١", "1.0", "-1", "v1", "1 ", "", "99999999999"])
def test_a_version_is_ascii_digits(platform, version):
    assert platform.post("/promote", json={"version": version}, headers=ADMIN).status_code == 422
    body = {"variants": [{"version": version, "weight": 1}]}
    assert platform.post("/deployments", json=body, headers=ADMIN).status_code == 422


@pytest.mark.slow
def test_concurrent_promotions_leave_the_served_version_equal_to_the_registry_champion(own_registry):
    versions = [V1, V2]
    forced = {"force": True, "reason": "serialisation, not the gate, is tested here"}
    failures: list[str] = []
    with platform_process(own_registry, own_registry.folder / "platform") as url:
        for round_ in range(5):

            def promote(index: int) -> None:
                with httpx.Client(base_url=url, timeout=60, headers=ADMIN) as client:
                    response = client.post("/promote", json={"version": versions[index % 2], **forced})
                    if response.status_code != 200:
                        failures.append(response.text)

            threads = [threading.Thread(target=promote, args=(i + round_,)) for i in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert not failures, failures
            served = httpx.get(f"{url}/deployments").json()["deployed"]
            assert served == [{"name": "champion", "version": _champion(own_registry), "weight": 1.0}]
    outcomes = [a["outcome"] for a in _audit(own_registry) if a["action"] == "promote"]
    assert len(outcomes) == 20 and set(outcomes) <= {"passed", "forced"}  # each one recorded, none lost


def _delete_files_of(store, version: str) -> str:
    from taxi_duration.registry import model_location, resolve_version

    config = store.config()
    location = model_location(config, resolve_version(config, version))
    assert location.startswith(str(store.folder))  # the copy's own files, never the session's
    shutil.rmtree(location)
    return location


def test_a_missing_artifact_is_a_409_with_its_path_never_a_500(own_registry):
    with TestClient(platform_app(own_registry), raise_server_exceptions=False) as platform:
        assert platform.post("/promote", json={"version": V1}, headers=ADMIN).status_code == 200
        gone = _delete_files_of(own_registry, V2)
        forced = {"force": True, "reason": "the artifact is gone, the gate is not the point"}
        for path, body in (
            ("/deployments", {"variants": [{"version": V2, "weight": 1}], **forced}),
            ("/promote", {"version": V2, **forced}),
        ):
            answer = platform.post(path, json=body, headers=ADMIN)
            assert answer.status_code == 409, (path, answer.text)
            assert answer.json()["detail"]["path"] == gone
        assert platform.get("/health").status_code == 200  # v1 still serves


def test_health_is_503_with_the_reason_while_the_champion_cannot_be_served(own_registry):
    with TestClient(platform_app(own_registry)) as platform:
        assert platform.post("/promote", json={"version": V1}, headers=ADMIN).status_code == 200
    gone = _delete_files_of(own_registry, V1)
    with TestClient(platform_app(own_registry), raise_server_exceptions=False) as restarted:
        health = restarted.get("/health")
        assert health.status_code == 503 and gone in health.json()["reason"]
        ride = {"PULocationID": 1, "DOLocationID": 2, "trip_distance": 1.0}
        assert restarted.post("/predict", json=ride).status_code == 503


def test_a_moved_store_says_which_files_it_misses_and_serves_again_once_moved_back(own_registry, tmp_path):
    """Artifact locations are absolute paths in MLflow's store: a moved project folder cannot find its models
    (the level does not rewrite stores). The platform says so on /health, and recovers when they are back."""
    with TestClient(platform_app(own_registry)) as platform:
        assert platform.post("/promote", json={"version": V1}, headers=ADMIN).status_code == 200
    moved = Store(tmp_path / "elsewhere")
    shutil.move(own_registry.folder, moved.folder)
    with TestClient(platform_app(moved), raise_server_exceptions=False) as platform:
        health = platform.get("/health")
        assert health.status_code == 503 and str(own_registry.folder) in health.json()["reason"]
    shutil.move(moved.folder, own_registry.folder)
    with TestClient(platform_app(own_registry)) as platform:
        assert platform.get("/health").json()["deployed"] == [{"name": "champion", "version": V1, "weight": 1.0}]
