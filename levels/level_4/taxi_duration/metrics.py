"""Level 1+ · ops_metrics: requests, latency and errors per route, in Prometheus text format.

A pure ASGI middleware (no per-request task or body copy), so measuring costs microseconds.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class ServiceMetrics:
    """One registry per app, so two services in one process (tests, for one) never mix counts."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests",
            "Requests by route, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "http_errors", "Responses with status >= 400", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Request latency",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter("predictions", "Rides priced", registry=self.registry)
        self.model_info = Gauge("model_info", "The model file being served", ["path", "sha256"], registry=self.registry)


class MetricsMiddleware:
    def __init__(self, app: Any, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_and_note(message: dict) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            code = str(status["code"])
            self.metrics.requests.labels(route, scope["method"], code).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)
            if status["code"] >= 400:
                self.metrics.errors.labels(route, code).inc()
