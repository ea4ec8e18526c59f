"""The platform API through TestClient, its own command as a real uvicorn under load, and the CD steps."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from conftest import ADMIN, V1, V2, platform_app, platform_process
from fastapi.testclient import TestClient
from training_fixtures import MODEL_NAME, RIDE


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
    assert platform.get("/deployments").json() == {"deployed": []}


def test_admin_endpoints_are_off_when_no_token_is_configured(registry, tmp_path):
    from taxi_duration.platform_api import TOKEN_ENV, create_app

    with TestClient(create_app(registry[0].config(), tmp_path / "platform")) as client:
        response = client.post("/promote", json={"version": "1"}, headers=ADMIN)
        assert response.status_code == 403 and TOKEN_ENV in response.json()["detail"]


def test_the_admin_token_comes_from_the_environment_or_a_private_file(tmp_path, monkeypatch):
    from common.errors import StoreError
    from taxi_duration.platform_api import TOKEN_ENV, TOKEN_FILE_ENV, read_admin_token

    monkeypatch.delenv(TOKEN_ENV, raising=False)
    monkeypatch.delenv(TOKEN_FILE_ENV, raising=False)
    assert read_admin_token() is None
    token_file = tmp_path / "admin-token"
    token_file.write_text("from-a-file\n")
    token_file.chmod(0o600)
    monkeypatch.setenv(TOKEN_FILE_ENV, str(token_file))
    assert read_admin_token() == "from-a-file"
    token_file.chmod(0o644)
    with pytest.raises(StoreError, match="can be read by others"):
        read_admin_token()
    monkeypatch.setenv(TOKEN_ENV, "from-the-environment")
    assert read_admin_token() == "from-the-environment"


def test_health_is_503_until_something_is_deployed(platform):
    health = platform.get("/health")
    assert health.status_code == 503 and "no model is deployed yet" in health.json()["reason"]
    assert platform.post("/predict", json=RIDE).status_code == 503


def test_deploy_two_versions_and_every_answer_names_version_and_variant(own_registry):
    split = {**_split(V1, V2), "force": True, "reason": "compare two close models"}
    with TestClient(platform_app(own_registry)) as platform:
        deployed = platform.post("/deployments", json=split, headers=ADMIN)
        assert deployed.status_code == 200 and len(deployed.json()["deployed"]) == 2
        answers = [platform.post("/predict", json={**RIDE, "ride_id": f"r{i}"}).json() for i in range(60)]
        again = platform.post("/predict", json={**RIDE, "ride_id": "r7"}).json()
        metrics = platform.get("/metrics").text
    assert {a["variant"] for a in answers} == {"champion", "challenger"}
    assert {a["model_version"] for a in answers} == {V1, V2}
    assert again["variant"] == answers[7]["variant"]
    assert 'variant_predictions_total{variant="champion",version="1"}' in metrics


def test_bad_deployments_get_4xx(platform):
    too_much = {"variants": [{"version": "1", "weight": 0.7}, {"version": "2", "weight": 0.7, "name": "b"}]}
    assert platform.post("/deployments", json=too_much, headers=ADMIN).status_code == 422
    unknown = platform.post("/deployments", json={"variants": [{"version": "99", "weight": 1}]}, headers=ADMIN)
    assert unknown.status_code == 404
    assert platform.post("/deployments", json={"variants": []}, headers=ADMIN).status_code == 422
    assert platform.post("/predict", json={**RIDE, "trip_distance": -1}).status_code == 422


def test_promote_moves_the_champion_alias(own_registry):
    with TestClient(platform_app(own_registry)) as platform:
        response = platform.post("/promote", json={"version": V2}, headers=ADMIN)
        assert response.status_code == 200
        deployed = platform.get("/deployments").json()["deployed"]
    champion = own_registry.client().get_model_version_by_alias(MODEL_NAME, "champion")
    assert str(champion.version) == V2
    assert deployed == [{"name": "champion", "version": V2, "weight": 1.0}]
    with TestClient(platform_app(own_registry)) as restarted:  # a restart serves the champion again
        assert restarted.get("/health").json()["deployed"] == deployed


def test_predictions_are_logged_for_monitoring(own_registry, tmp_path):
    from taxi_duration.prediction_log import read_log

    log = tmp_path / "log.jsonl"
    with TestClient(platform_app(own_registry, log_path=log)) as client:
        deployed = client.post("/deployments", json={"variants": [{"version": V1, "weight": 1}]}, headers=ADMIN)
        assert deployed.status_code == 200
        assert client.post(
            "/predict/batch", json={"rides": [{**RIDE, "ride_id": f"b{i}"} for i in range(5)]}
        ).is_success
    frame = read_log(log).records
    assert list(frame.ride_id) == [f"b{i}" for i in range(5)]
    assert {"prediction", "version", "variant", "PULocationID", "ts"} <= set(frame.columns)
    assert set(frame.version) == {V1}


@pytest.mark.slow
def test_ten_redeploys_under_concurrent_load_fail_no_request(own_registry):
    """The platform's own command (a real uvicorn); 4 clients send rides while the admin redeploys 10 times."""
    forced = {"force": True, "reason": "redeploys under load, not the gate, are tested here"}
    plans = [
        {**_split(V1, V2), **forced},
        {"variants": [{"version": V2, "weight": 1}], **forced},
        {**_split(V2, V1, 0.2), **forced},
        {"variants": [{"version": V1, "weight": 1}], **forced},
    ] * 3
    outcomes: list[int] = []
    stop = threading.Event()

    def client_loop(url: str, number: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            for i in range(3000):  # bounded, and stopped as soon as the redeploys are done
                if stop.is_set():
                    break
                response = client.post("/predict", json={**RIDE, "ride_id": f"c{number}-{i}"})
                outcomes.append(response.status_code)

    with platform_process(own_registry, own_registry.folder / "platform") as url:
        with httpx.Client(base_url=url, timeout=60, headers=ADMIN) as admin:
            assert admin.post("/deployments", json=plans[0]).status_code == 200
            clients = [threading.Thread(target=client_loop, args=(url, n)) for n in range(4)]
            for thread in clients:
                thread.start()
            try:
                for plan in plans[1:11]:
                    assert admin.post("/deployments", json=plan).status_code == 200
                    served_before, deadline = len(outcomes), time.monotonic() + 30
                    while len(outcomes) < served_before + 8 and time.monotonic() < deadline:  # traffic meets it
                        stop.wait(0.01)
            finally:
                stop.set()
                for thread in clients:
                    thread.join()
    assert len(outcomes) >= 80  # at least 8 requests after each of the 10 redeploys
    assert set(outcomes) == {200}


@pytest.mark.slow
def test_the_cd_steps_gate_and_deploy_through_the_running_platform(own_registry, monkeypatch, capsys):
    """cd.yml's jobs: the gate's verdict is the job's status, and deploy goes through the same gate."""
    from taxi_duration.cd import main

    monkeypatch.setenv("PLATFORM_ADMIN_TOKEN", "secret")
    with platform_process(own_registry, own_registry.folder / "platform") as url:
        assert main(["deploy", "--version", V1, "--platform", url]) == 0
        assert main(["gate", "--version", V2, "--platform", url]) == 0
        assert "passed: " in capsys.readouterr().out
        assert main(["gate", "--version", "3", "--platform", url]) == 1
        assert "refused: " in capsys.readouterr().out
        assert main(["deploy", "--version", "3", "--platform", url]) == 1
        assert "not deployed (409)" in capsys.readouterr().err
        assert httpx.get(f"{url}/deployments").json()["deployed"][0]["version"] == V1
        monkeypatch.setenv("PLATFORM_ADMIN_TOKEN", "wrong")
        assert main(["gate", "--version", V2, "--platform", url]) == 2
