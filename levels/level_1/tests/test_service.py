from __future__ import annotations

import json

import numpy as np
import pytest

from taxi_duration.routes import get_model

RIDE = {"PULocationID": 74, "DOLocationID": 75, "trip_distance": 1.8}


def test_predict_returns_minutes_and_the_model_version(client):
    response = client.post("/predict", json={**RIDE, "ride_id": "abc"})
    assert response.status_code == 200
    body = response.json()
    assert 1 < body["duration_minutes"] < 60 and body["ride_id"] == "abc" and len(body["model_version"]) == 12
    assert "variant" not in body  # level 1 has no A/B test: no null field that suggests one


def test_longer_rides_take_longer(client):
    short = client.post("/predict", json={**RIDE, "trip_distance": 1.0}).json()["duration_minutes"]
    long = client.post("/predict", json={**RIDE, "trip_distance": 8.0}).json()["duration_minutes"]
    assert long > short


def test_batch_predicts_like_single_requests(client):
    rides = [RIDE, {**RIDE, "trip_distance": 5.0}, {"PULocationID": 1, "DOLocationID": 265, "trip_distance": 0}]
    batch = client.post("/predict/batch", json={"rides": rides}).json()["predictions"]
    singles = [client.post("/predict", json=r).json()["duration_minutes"] for r in rides]
    assert np.allclose([p["duration_minutes"] for p in batch], singles)


def test_health_names_the_loaded_model(client, model_file):
    import hashlib

    health = client.get("/health").json()
    assert health["model_version"] == hashlib.sha256(model_file.read_bytes()).hexdigest()[:12]


def test_metrics_count_requests_errors_and_latency(client):
    client.post("/predict", json=RIDE)
    client.post("/predict", json={**RIDE, "trip_distance": -1})
    text = client.get("/metrics").text
    assert 'http_requests_total{method="POST",route="/predict",status="200"} 1.0' in text
    assert 'http_errors_total{route="/predict",status="422"} 1.0' in text
    assert 'http_request_duration_seconds_count{route="/predict"} 2.0' in text
    assert "model_info{" in text and "predictions_total 1.0" in text


BAD_REQUESTS = {
    "negative distance": {**RIDE, "trip_distance": -3},
    "absurd distance": {**RIDE, "trip_distance": 120_000},
    "zone zero": {**RIDE, "PULocationID": 0},
    "unknown zone": {**RIDE, "DOLocationID": 266},
    "string id": {**RIDE, "PULocationID": "74"},
    "string distance": {**RIDE, "trip_distance": "far"},
    "missing field": {"PULocationID": 74, "DOLocationID": 75},
    "extra field": {**RIDE, "tip": 3},
    "null distance": {**RIDE, "trip_distance": None},
    "empty ride id": {**RIDE, "ride_id": ""},
    "bad pickup time": {**RIDE, "pickup_datetime": "yesterday"},
    "a list": [RIDE],
}


@pytest.mark.parametrize("body", BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_bad_ride_gets_422_naming_the_field(client, body):
    response = client.post("/predict", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"]


@pytest.mark.parametrize(
    ("path", "content", "status"),
    [
        ("/predict", b"{not json", 422),
        ("/predict", b'{"PULocationID": 74, "DOLocationID": 75, "trip_distance": NaN}', 422),
        ("/predict", b"", 422),
        ("/predict/batch", json.dumps({"rides": []}).encode(), 422),
        ("/predict/batch", json.dumps({"rides": [RIDE] * 1001}).encode(), 422),
        ("/predict/batch", json.dumps({"rides": [RIDE] * 9000}).encode(), 413),
    ],
)
def test_malformed_or_oversized_bodies_get_4xx(client, path, content, status):
    response = client.post(path, content=content, headers={"content-type": "application/json"})
    assert response.status_code == status


def test_wrong_method_and_unknown_route_are_4xx(client):
    assert client.get("/predict").status_code == 405
    assert client.get("/nope").status_code == 404


class StubModel:
    def predict(self, rides):
        return np.full(len(rides), 42.0)


def test_the_model_dependency_can_be_swapped(client):
    client.app.dependency_overrides[get_model] = lambda: StubModel()
    assert client.post("/predict", json=RIDE).json()["duration_minutes"] == 42.0


def test_a_missing_model_file_fails_at_start_with_a_clear_error(tmp_path):
    from fastapi.testclient import TestClient

    from common.errors import DataError
    from taxi_duration.serve import create_app

    with pytest.raises(DataError, match="model file not found"), TestClient(create_app(tmp_path / "none.bin")):
        pass
