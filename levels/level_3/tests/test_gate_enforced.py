"""The quality gate belongs to the platform: every deploy and promote goes through it, whoever calls.

Also what serves is what the registry says: promotions are serialised, versions are ASCII digits, a
missing artifact is a 409 with its path (never a 500), /health says 503 and why while nothing can be
served, and a workspace moved to another folder keeps working.
"""

from __future__ import annotations

import json
import shutil
import threading

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.level_3.conftest import ADMIN

from common.serving import background_server


def _app(settings, **kwargs):
    from levels.level_3.platform_api import create_app

    return create_app(settings, admin_token="secret", **kwargs)


def _champion(settings) -> str:
    from levels.level_3.registry import registry_client

    return str(registry_client(settings).get_model_version_by_alias(settings.model_name, "champion").version)


def test_the_gate_refuses_a_worse_version_on_deploy_and_on_promote(own_registry):
    settings, v1, _, v3 = own_registry
    good, bad = v1["model_version"], v3["model_version"]
    with TestClient(_app(settings)) as platform:
        assert platform.post("/promote", json={"version": good}, headers=ADMIN).status_code == 200
        for path, body in (
            ("/deployments", {"variants": [{"version": bad, "weight": 1}]}),
            ("/promote", {"version": bad}),
        ):
            refused = platform.post(path, json=body, headers=ADMIN)
            assert refused.status_code == 409, (path, refused.text)
            detail = refused.json()["detail"]
            assert detail["gate"]["passed"] is False and detail["gate"]["data"] == "2021-02"
            assert detail["gate"]["candidate_rmse"] > detail["gate"]["champion_rmse"]
            assert "worse than" in detail["error"] and '"force"' in detail["fix"]
        assert platform.get("/deployments").json()["deployed"] == [{"name": "champion", "version": good, "weight": 1.0}]
    assert _champion(settings) == good


def test_the_gate_in_the_demo_is_the_gate_of_every_caller(own_registry):
    """No second path: the Platform object the API uses refuses too, called from Python directly."""
    import asyncio

    from levels.level_3.deployer import GateRefused, Platform, PromoteSpec

    settings, v1, _, v3 = own_registry
    platform = Platform(settings)
    asyncio.run(platform.promote(PromoteSpec(version=v1["model_version"])))
    with pytest.raises(GateRefused):
        asyncio.run(platform.promote(PromoteSpec(version=v3["model_version"])))
    assert _champion(settings) == v1["model_version"]


def test_an_override_needs_a_reason_and_is_recorded_in_registry_and_audit_log(own_registry):
    from levels.level_3.registry import resolve_version

    settings, v1, _, v3 = own_registry
    bad = v3["model_version"]
    with TestClient(_app(settings)) as platform:
        platform.post("/promote", json={"version": v1["model_version"]}, headers=ADMIN)
        no_reason = platform.post("/promote", json={"version": bad, "force": True}, headers=ADMIN)
        assert no_reason.status_code == 422
        assert platform.post("/promote", json={"version": bad}, headers=ADMIN).status_code == 409
        forced = platform.post(
            "/promote", json={"version": bad, "force": True, "reason": "rollback drill, ticket 12"}, headers=ADMIN
        )
        assert forced.status_code == 200 and forced.json()["gate"]["passed"] is False
    assert _champion(settings) == bad
    override = json.loads(resolve_version(settings, bad).tags["gate.override"])
    assert override["reason"] == "rollback drill, ticket 12" and override["action"] == "promote"
    audit = [json.loads(line) for line in (settings.level_dir(3) / "audit.jsonl").read_text().splitlines()]
    assert [(a["action"], a["outcome"]) for a in audit[-2:]] == [("promote", "refused"), ("promote", "forced")]


def test_evaluations_give_the_verdict_without_deploying_and_tag_the_numbers(own_registry):
    from levels.level_3.registry import resolve_version

    settings, v1, _, v3 = own_registry
    with TestClient(_app(settings)) as platform:
        platform.post("/promote", json={"version": v1["model_version"]}, headers=ADMIN)
        verdict = platform.post("/evaluations", json={"version": v3["model_version"]}, headers=ADMIN).json()
        assert verdict["passed"] is False
        assert platform.get("/deployments").json()["deployed"][0]["version"] == v1["model_version"]
    tags = resolve_version(settings, v3["model_version"]).tags
    assert any(
        name.startswith("gate.rmse.") and float(value) == pytest.approx(verdict["candidate_rmse"])
        for name, value in tags.items()
    )


def test_a_version_without_the_evaluation_it_needs_is_refused(own_registry):
    settings, v1, v2, _ = own_registry
    with TestClient(_app(settings)) as platform:
        platform.post("/promote", json={"version": v1["model_version"]}, headers=ADMIN)
        for month in (settings.data_dir / "synthetic").rglob("green_tripdata_2021-02.parquet"):
            month.write_bytes(month.read_bytes() + b"tampered")  # the data v2 was validated on is not there any more
        refused = platform.post("/promote", json={"version": v2["model_version"]}, headers=ADMIN)
    assert refused.status_code == 409
    assert "cannot evaluate" in refused.json()["detail"]["gate"]["reason"]


@pytest.mark.parametrize("version", ["١", "1.0", "-1", "v1", "1 ", "", "99999999999"])
def test_a_version_is_ascii_digits(platform, version):
    assert platform.post("/promote", json={"version": version}, headers=ADMIN).status_code == 422
    body = {"variants": [{"version": version, "weight": 1}]}
    assert platform.post("/deployments", json=body, headers=ADMIN).status_code == 422


@pytest.mark.slow
def test_concurrent_promotions_leave_the_served_version_equal_to_the_registry_champion(own_registry):
    settings, v1, v2, _ = own_registry
    versions = [v1["model_version"], v2["model_version"]]
    forced = {"force": True, "reason": "serialisation, not the gate, is tested here"}
    with background_server(_app(settings)) as url:
        for round_ in range(5):

            def promote(index: int) -> None:
                with httpx.Client(base_url=url, timeout=60, headers=ADMIN) as client:
                    response = client.post("/promote", json={"version": versions[index % 2], **forced})
                    assert response.status_code == 200, response.text

            threads = [threading.Thread(target=promote, args=(i + round_,)) for i in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            served = httpx.get(f"{url}/deployments").json()["deployed"]
            assert served == [{"name": "champion", "version": _champion(settings), "weight": 1.0}]


def _delete_files_of(settings, version: str) -> str:
    from levels.level_3.registry import model_location, resolve_version

    location = model_location(settings, resolve_version(settings, version))
    shutil.rmtree(location)
    return location


def test_a_missing_artifact_is_a_409_with_its_path_never_a_500(own_registry):
    settings, v1, v2, _ = own_registry
    with TestClient(_app(settings), raise_server_exceptions=False) as platform:
        platform.post("/promote", json={"version": v1["model_version"]}, headers=ADMIN)
        gone = _delete_files_of(settings, v2["model_version"])
        forced = {"force": True, "reason": "the artifact is gone, the gate is not the point"}
        for path, body in (
            ("/deployments", {"variants": [{"version": v2["model_version"], "weight": 1}], **forced}),
            ("/promote", {"version": v2["model_version"], **forced}),
        ):
            answer = platform.post(path, json=body, headers=ADMIN)
            assert answer.status_code == 409, (path, answer.text)
            assert answer.json()["detail"]["path"] == gone
        assert platform.get("/health").status_code == 200  # v1 still serves


def test_health_is_503_with_the_reason_while_the_champion_cannot_be_served(own_registry):
    settings, v1, _, _ = own_registry
    with TestClient(_app(settings)) as platform:
        platform.post("/promote", json={"version": v1["model_version"]}, headers=ADMIN)
    gone = _delete_files_of(settings, v1["model_version"])
    with TestClient(_app(settings), raise_server_exceptions=False) as restarted:
        health = restarted.get("/health")
        assert health.status_code == 503 and gone in health.json()["reason"]
        assert (
            restarted.post("/predict", json={"PULocationID": 1, "DOLocationID": 2, "trip_distance": 1.0}).status_code
            == 503
        )


def test_a_moved_workspace_serves_and_promotes_from_its_new_folder(own_registry, tmp_path):
    from common.config import Settings

    settings, v1, v2, _ = own_registry
    with TestClient(_app(settings)) as platform:
        platform.post("/promote", json={"version": v1["model_version"]}, headers=ADMIN)
    moved = tmp_path / "elsewhere"
    shutil.move(settings.workspace, moved)
    settings = Settings(workspace=moved, synthetic_rows=settings.synthetic_rows)
    forced = {"force": True, "reason": "moving, not the gate, is tested here"}
    with TestClient(_app(settings)) as platform:
        assert platform.get("/health").status_code == 200
        promoted = platform.post("/promote", json={"version": v2["model_version"], **forced}, headers=ADMIN)
        assert promoted.status_code == 200, promoted.text
