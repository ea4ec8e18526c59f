"""The platform API through TestClient, one real uvicorn under load, and `run 3` end to end."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx
import pytest
from tests.level_3.conftest import ADMIN

from common.serving import background_server

RIDE = {"PULocationID": 74, "DOLocationID": 75, "trip_distance": 1.8}


def _split(v1: str, v2: str, weight: float = 0.5) -> dict:
    return {
        "variants": [
            {"name": "champion", "version": v1, "weight": weight},
            {"name": "challenger", "version": v2, "weight": round(1 - weight, 6)},
        ]
    }


@pytest.mark.parametrize(
    ("path", "body"), [("/deployments", {"variants": [{"version": "1", "weight": 1}]}), ("/promote", {"version": "1"})]
)
def test_admin_endpoints_refuse_without_the_token(platform, path, body):
    assert platform.post(path, json=body).status_code == 401
    assert platform.post(path, json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_admin_endpoints_are_off_when_no_token_is_configured(registered, monkeypatch):
    from fastapi.testclient import TestClient
    from levels.level_3.platform_api import TOKEN_ENV, create_app

    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with TestClient(create_app(registered[0])) as client:
        response = client.post("/promote", json={"version": "1"}, headers=ADMIN)
        assert response.status_code == 403 and TOKEN_ENV in response.json()["detail"]


def test_deploy_two_versions_and_every_answer_names_version_and_variant(own_registry):
    from fastapi.testclient import TestClient
    from levels.level_3.platform_api import create_app

    settings, v1, v2, _ = own_registry
    split = {**_split(v1["model_version"], v2["model_version"]), "force": True, "reason": "compare two close models"}
    with TestClient(create_app(settings, admin_token="secret")) as platform:
        deployed = platform.post("/deployments", json=split, headers=ADMIN)
        assert deployed.status_code == 200 and len(deployed.json()["deployed"]) == 2
        answers = [platform.post("/predict", json={**RIDE, "ride_id": f"r{i}"}).json() for i in range(60)]
        again = platform.post("/predict", json={**RIDE, "ride_id": "r7"}).json()
        metrics = platform.get("/metrics").text
    assert {a["variant"] for a in answers} == {"champion", "challenger"}
    assert {a["model_version"] for a in answers} == {v1["model_version"], v2["model_version"]}
    assert again["variant"] == answers[7]["variant"]
    assert "variant_predictions_total" in metrics


def test_bad_deployments_get_4xx(platform):
    too_much = {"variants": [{"version": "1", "weight": 0.7}, {"version": "2", "weight": 0.7, "name": "b"}]}
    assert platform.post("/deployments", json=too_much, headers=ADMIN).status_code == 422
    assert (
        platform.post("/deployments", json={"variants": [{"version": "99", "weight": 1}]}, headers=ADMIN).status_code
        == 404
    )
    assert platform.post("/deployments", json={"variants": []}, headers=ADMIN).status_code == 422
    assert platform.post("/predict", json={**RIDE, "trip_distance": -1}).status_code == 422


def test_promote_moves_the_champion_alias(own_registry):
    from fastapi.testclient import TestClient
    from levels.level_3.platform_api import create_app
    from levels.level_3.registry import registry_client

    settings, _, v2, _ = own_registry
    with TestClient(create_app(settings, admin_token="secret")) as platform:
        response = platform.post("/promote", json={"version": v2["model_version"]}, headers=ADMIN)
        assert response.status_code == 200
        deployed = platform.get("/deployments").json()["deployed"]
    champion = registry_client(settings).get_model_version_by_alias(settings.model_name, "champion")
    assert str(champion.version) == v2["model_version"]
    assert deployed == [{"name": "champion", "version": v2["model_version"], "weight": 1.0}]


def test_predictions_are_logged_for_monitoring(own_registry, tmp_path):
    from fastapi.testclient import TestClient
    from levels.level_3.platform_api import create_app
    from levels.level_3.prediction_log import read_log

    settings, v1, _, _ = own_registry
    log = tmp_path / "log.jsonl"
    with TestClient(create_app(settings, admin_token="secret", log_path=log)) as client:
        client.post("/deployments", json={"variants": [{"version": v1["model_version"], "weight": 1}]}, headers=ADMIN)
        client.post("/predict/batch", json={"rides": [{**RIDE, "ride_id": f"b{i}"} for i in range(5)]})
    frame = read_log(log).records
    assert list(frame.ride_id) == [f"b{i}" for i in range(5)]
    assert {"prediction", "version", "variant", "PULocationID", "ts"} <= set(frame.columns)


@pytest.mark.slow
@pytest.mark.server
def test_ten_redeploys_under_concurrent_load_fail_no_request(own_registry, tmp_path):
    """A real uvicorn on 127.0.0.1; 4 clients send rides while the admin redeploys 10 times."""
    from levels.level_3.platform_api import create_app

    settings, v1, v2, _ = own_registry
    a, b = v1["model_version"], v2["model_version"]
    forced = {"force": True, "reason": "redeploys under load, not the gate, are tested here"}
    plans = [
        {**_split(a, b), **forced},
        {"variants": [{"version": b, "weight": 1}], **forced},
        {**_split(b, a, 0.2), **forced},
        {"variants": [{"version": a, "weight": 1}], **forced},
    ] * 3
    outcomes: list[int] = []
    stop = threading.Event()

    def client_loop(number: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            for i in range(3000):  # bounded, and stopped as soon as the redeploys are done
                if stop.is_set():
                    break
                response = client.post("/predict", json={**RIDE, "ride_id": f"c{number}-{i}"})
                outcomes.append(response.status_code)

    with background_server(create_app(settings, admin_token="secret", log_path=tmp_path / "l.jsonl")) as url:
        with httpx.Client(base_url=url, timeout=60, headers=ADMIN) as admin:
            assert admin.post("/deployments", json=plans[0]).status_code == 200
            clients = [threading.Thread(target=client_loop, args=(n,)) for n in range(4)]
            for thread in clients:
                thread.start()
            for plan in plans[1:11]:
                assert admin.post("/deployments", json=plan).status_code == 200
                served_before, deadline = len(outcomes), time.monotonic() + 30
                while len(outcomes) < served_before + 8 and time.monotonic() < deadline:  # traffic meets it
                    stop.wait(0.01)
            stop.set()
            for thread in clients:
                thread.join()
    assert len(outcomes) >= 80  # at least 8 requests after each of the 10 redeploys
    assert set(outcomes) == {200}


def test_run_3_deploys_ab_tests_monitors_and_promotes_through_the_gate(invoke, prefect_api):
    result = invoke("run", "3", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    details = report["details"]
    calls = details["quality gate"]
    assert [c["call"].split()[0] for c in calls] == ["promote", "A/B", "promote"]
    ab_accepted = calls[1]["answer"] == "accepted"
    served = {row["variant"] for row in details["ab_test"]}
    # a candidate the gate refuses never sees traffic; one it passes gets its share
    assert served == ({"champion", "challenger"} if ab_accepted else {"champion"})
    winner = min(details["ab_test"], key=lambda row: row["RMSE"])
    assert details["serving_after"] == [{"name": "champion", "version": winner["version"], "weight": 1.0}]
    audit = [json.loads(line) for line in open(report["artifacts"]["audit log"])]
    assert [a["action"] for a in audit][-3:] == ["promote", "deploy", "promote"]
    for path in details["report_files"].values():
        assert Path(path).exists()


def test_diff_2_3_pairs_the_platform_with_the_service(invoke):
    report = json.loads(invoke("diff", "2", "3", "--json").output)
    pairs = {f["new"]: f["old"] for f in report["files"]}
    assert pairs["platform_api.py"] == "serve.py" and pairs["gate.py"] == "promote.py"
    assert next(f for f in report["files"] if f["new"] == "tracking.py")["status"] == "unchanged"
    gained = {p["id"]: p["where"] for p in report["practices_gained"]}
    assert set(gained) == {
        "automated_deployment",
        "quality_gate",
        "continuous_delivery",
        "ab_testing",
        "model_monitoring",
    }
    assert gained["quality_gate"] == "deployer.py::Platform" and gained["continuous_delivery"] == "cd.yml"
