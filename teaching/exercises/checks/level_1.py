"""Checks of the level-1 exercises: operational metrics, the prediction endpoint, a unit test of features."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import Any

from teaching.exercises.checking import CheckContext, CheckFailed, check, expect
from teaching.exercises.checks import fixtures

RIDE = {"PULocationID": 74, "DOLocationID": 75, "trip_distance": 1.8}


def _client(ctx: CheckContext) -> Any:
    """A TestClient on the copy's level-1 service, serving a model trained on the small 2021-01."""
    from fastapi.testclient import TestClient

    from common.model import save_model
    from taxi_duration.serve import create_app

    path = save_model(fixtures.model(), ctx.tmp / "model.bin")
    client = TestClient(create_app(path), raise_server_exceptions=True)
    client.__enter__()  # runs the lifespan: the model is loaded as in production
    return client


def _metrics(client: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client.parser import text_string_to_metric_families

    scraped = client.get("/metrics")
    expect(scraped.status_code == 200, f"GET /metrics answered {scraped.status_code}")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(scraped.text)
        for sample in family.samples
    }


def _value(metrics: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return float(metrics.get((name, tuple(sorted(labels.items()))), 0.0))


# request-metrics ------------------------------------------------------------------------------------


def _traffic(ctx: CheckContext) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """One good ride, one refused ride (422), one unknown path (404); then what /metrics says."""

    def run() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        client = _client(ctx)
        expect(client.post("/predict", json=RIDE).status_code == 200, "a good ride should be answered with 200")
        expect(client.post("/predict", json={**RIDE, "trip_distance": -3}).status_code == 422, "a bad ride is a 422")
        client.get("/no-such-page")
        return _metrics(client)

    return dict(ctx.once("traffic", run))


@check("request-metrics", "every request is counted by route, method and status")
def requests_counted(ctx: CheckContext) -> None:
    metrics = _traffic(ctx)
    for status in ("200", "422"):
        got = _value(metrics, "http_requests_total", route="/predict", method="POST", status=status)
        expect(got == 1, f'http_requests_total{{route="/predict",method="POST",status="{status}"}} is {got}, not 1')


@check("request-metrics", "the latency of each request is observed")
def latency_observed(ctx: CheckContext) -> None:
    metrics = _traffic(ctx)
    count = _value(metrics, "http_request_duration_seconds_count", route="/predict")
    expect(count == 2, f'http_request_duration_seconds_count{{route="/predict"}} is {count}: two requests were sent')
    seconds = _value(metrics, "http_request_duration_seconds_sum", route="/predict")
    expect(0 < seconds < 60, f"the latencies observed add up to {seconds} s: measure from `started`")


@check("request-metrics", "refused requests are counted as errors, and only those")
def refused_counted(ctx: CheckContext) -> None:
    metrics = _traffic(ctx)
    refused = _value(metrics, "http_errors_total", route="/predict", status="422")
    expect(refused == 1, f'http_errors_total{{route="/predict",status="422"}} is {refused}: one ride was refused')
    ok = _value(metrics, "http_errors_total", route="/predict", status="200")
    expect(ok == 0, "a 200 is not an error: only statuses of 400 or more go to http_errors")
    unknown = _value(metrics, "http_errors_total", route="unmatched", status="404")
    expect(
        unknown == 1,
        f'a page nobody serves should count as http_errors_total{{route="unmatched",status="404"}}, got {unknown}',
    )


# predict-endpoint -----------------------------------------------------------------------------------


@check("predict-endpoint", "a ride gets the model's minutes")
def model_minutes(ctx: CheckContext) -> None:
    from common.model import predict

    client = ctx.once("client", lambda: _client(ctx))
    answer = client.post("/predict", json=RIDE)
    expect(answer.status_code == 200, f"POST /predict answered {answer.status_code}: {answer.text[:150]}")
    expected = float(predict(fixtures.model(), [RIDE])[0])
    got = answer.json().get("duration_minutes")
    expect(isinstance(got, float) and abs(got - expected) < 1e-6, f"the model says {expected:.3f} minutes, got {got}")


@check("predict-endpoint", "the answer names the model version and the ride")
def names_version_and_ride(ctx: CheckContext) -> None:
    client = ctx.once("client", lambda: _client(ctx))
    body = client.post("/predict", json={**RIDE, "ride_id": "ride-42"}).json()
    served = client.get("/health").json()["model_version"]
    expect(body.get("model_version") == served, f"model_version should be the served one ({served}), got {body}")
    expect(body.get("ride_id") == "ride-42", f"the answer should echo the ride's ride_id, got {body.get('ride_id')!r}")


@check("predict-endpoint", "every prediction is counted in /metrics")
def predictions_counted(ctx: CheckContext) -> None:
    client = ctx.once("client", lambda: _client(ctx))
    before = _value(_metrics(client), "predictions_total")
    client.post("/predict", json=RIDE)
    after = _value(_metrics(client), "predictions_total")
    expect(after == before + 1, f"predictions_total went from {before} to {after} for one ride")


# feature-test ---------------------------------------------------------------------------------------


def _student_module(ctx: CheckContext) -> Any:
    """The student's tests/test_features.py, imported once per check run (the checks patch its names)."""

    def load() -> Any:
        path = ctx.copy / "tests" / "test_features.py"
        spec = importlib.util.spec_from_file_location("test_features", path)
        expect(spec is not None and spec.loader is not None, f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        return module

    return ctx.once("student_tests", load)


def _student_tests(ctx: CheckContext) -> dict[str, Callable[[], Any]]:
    module = _student_module(ctx)
    tests = {name: value for name, value in vars(module).items() if name.startswith("test") and callable(value)}
    expect(tests, "test_features.py holds no test: write functions named test_… that assert")
    return tests


def _failing(ctx: CheckContext, replacement: Callable[..., Any] | None = None) -> dict[str, str]:
    """Run the student's tests (with prepare_features replaced, if given); the ones that fail, and why."""
    import common.features

    module = _student_module(ctx)
    original = common.features.prepare_features
    patched = {name for name, value in vars(module).items() if value is original}
    failures = {}
    try:
        if replacement is not None:
            common.features.prepare_features = replacement
            for name in patched:
                setattr(module, name, replacement)
        for name, test in _student_tests(ctx).items():
            try:
                test()
            except Exception as exc:  # a failing assert is what a test is for; so is an error
                failures[name] = f"{type(exc).__name__}: {exc}"[:160]
    finally:
        common.features.prepare_features = original
        for name in patched:
            setattr(module, name, original)
    return failures


def _real_passes(ctx: CheckContext) -> None:
    failures = ctx.once("real", lambda: _failing(ctx))
    if failures:
        name, why = next(iter(failures.items()))
        raise CheckFailed(f"{name} fails on the real prepare_features ({why}): first make your tests pass")


@check("feature-test", "your tests pass on the real prepare_features")
def real_passes(ctx: CheckContext) -> None:
    _real_passes(ctx)


def _broken(change: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[..., Any]:
    from common.features import prepare_features

    return lambda ride: change(prepare_features(ride))


def _pair(features: dict[str, Any], make: Callable[[str, str], str]) -> dict[str, Any]:
    pickup, dropoff = features["PU_DO"].split("_")
    return {**features, "PU_DO": make(pickup, dropoff)}


BROKEN = {
    "swaps pickup and dropoff": _broken(lambda f: _pair(f, lambda pu, do: f"{do}_{pu}")),
    "drops the underscore": _broken(lambda f: _pair(f, lambda pu, do: f"{pu}{do}")),
    "rounds the distance": _broken(lambda f: {**f, "trip_distance": float(round(f["trip_distance"]))}),
    "gives the distance as text": _broken(lambda f: {**f, "trip_distance": str(f["trip_distance"])}),
    "forgets the distance": _broken(lambda f: {"PU_DO": f["PU_DO"]}),
}


def _catches(what: str) -> Callable[[CheckContext], None]:
    def caught(ctx: CheckContext) -> None:
        _real_passes(ctx)
        expect(_failing(ctx, BROKEN[what]), f"your tests still pass when prepare_features {what}: add an assert")

    return caught


for _what in BROKEN:
    check("feature-test", f"your tests catch a function that {_what}")(_catches(_what))
