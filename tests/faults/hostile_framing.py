"""Hostile framing: chunked and oversized bodies, lying Content-Length, odd request heads and routes.

The request builders the body families (hostile.py) share live here too.
"""

from __future__ import annotations

import json
import random

from common.http import MAX_BODY_BYTES
from tests.faults.rawhttp import RawRequest

RIDE = {"PULocationID": 74, "DOLocationID": 75, "trip_distance": 1.8}
PREDICT_PATHS = ["/predict", "/predict/batch"]


def head(method: str, path: str, headers: dict[str, str | bytes] | None = None, version: str = "HTTP/1.1") -> bytes:
    lines = [f"{method} {path} {version}".encode(), b"Host: 127.0.0.1"]
    for name, value in (headers or {}).items():
        lines.append(name.encode() + b": " + (value if isinstance(value, bytes) else value.encode()))
    return b"\r\n".join(lines) + b"\r\n\r\n"


def post(rng: random.Random, family: str, path: str, body: bytes, content_type: str = "application/json") -> RawRequest:
    headers: dict[str, str | bytes] = {"Content-Type": content_type, "Content-Length": str(len(body))}
    if rng.random() < 0.5:  # urllib asks for it on every request; it is when resets used to happen
        headers["Connection"] = "close"
    return RawRequest(family, head("POST", path, headers), body, pieces=rng.choice([1, 1, 3]))


def _chunked(rng: random.Random, body: bytes, sizes: tuple[int, int]) -> bytes:
    out, at = [], 0
    while at < len(body):
        size = rng.randint(*sizes)
        ext = b";x=1" if rng.random() < 0.1 else b""
        out.append(b"%x%s\r\n%s\r\n" % (len(body[at : at + size]), ext, body[at : at + size]))
        at += size
    return b"".join(out) + b"0\r\n\r\n"


def ride_body(rng: random.Random, path: str, rides: int = 1) -> bytes:
    ride = dict(RIDE, ride_id=f"h{rng.randrange(10**9)}")
    return json.dumps(ride if path == "/predict" else {"rides": [ride] * rides}).encode()


def _big_body(rng: random.Random) -> bytes:
    """A batch that looks real and is too large: 1.2 to 4 times the limit."""
    ride = json.dumps(RIDE).encode()
    count = int(MAX_BODY_BYTES * rng.uniform(1.2, 4) / (len(ride) + 1))
    return b'{"rides": [' + b",".join([ride] * count) + b"]}"


def unknown_route(rng: random.Random) -> RawRequest:
    method = rng.choice(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "FOO"])
    path = rng.choice(
        ["/", "/nope", "/predict/", "/predict/batch/x", "/../etc/passwd", "/%00", "/%ff", "//predict", "/docs",
         "/openapi.json", "/metrics", "/health", "/predict?x=" + "a" * 4000, "/" + "b" * 8000, "/deployments"]
    )  # fmt: skip
    body = ride_body(rng, "/predict") if method in ("POST", "PUT", "PATCH") and rng.random() < 0.7 else b""
    headers = {"Content-Length": str(len(body)), "Content-Type": "application/json"} if body else {}
    return RawRequest("unknown-route", head(method, path, headers), body)


def chunked(rng: random.Random) -> RawRequest:
    """Chunked bodies, most of them larger than the limit (the bypass this family exists for)."""
    path = rng.choice(PREDICT_PATHS)
    body = _big_body(rng) if rng.random() < 0.7 else ride_body(rng, path, rng.randint(1, 20))
    headers: dict[str, str | bytes] = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    if rng.random() < 0.5:
        headers["Connection"] = "close"
    sizes = rng.choice([(1, 64), (1000, 70_000), (60_000, 300_000)]) if len(body) < 5000 else (1000, 300_000)
    return RawRequest("chunked", head("POST", path, headers), _chunked(rng, body, sizes), pieces=rng.choice([1, 7]))


def oversized(rng: random.Random) -> RawRequest:
    return post(rng, "oversized", rng.choice(PREDICT_PATHS), _big_body(rng))


def lying_length(rng: random.Random) -> RawRequest:
    path = rng.choice(PREDICT_PATHS)
    body = ride_body(rng, path)
    declared, extra = rng.choice(
        [
            (str(10 * MAX_BODY_BYTES), {}),  # announces far more than it sends
            (str(len(body) - 5), {}),  # announces less: the rest reads as a second, broken request
            ("12abc", {}),
            ("-1", {}),
            (str(len(body)), {"Transfer-Encoding": "chunked"}),
            (str(10 * MAX_BODY_BYTES), {"Expect": "100-continue"}),  # a client that waits before sending
        ]
    )
    headers = {"Content-Type": "application/json", "Content-Length": declared, **extra}
    if "Expect" in extra:
        body = b""
    return RawRequest("lying-length", head("POST", path, headers), body)


def bad_head(rng: random.Random) -> RawRequest:
    body = ride_body(rng, "/predict")
    length = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    case = rng.choice(["many", "long", "badchar", "http10", "http2", "lower", "nohost"])
    if case == "many":
        return RawRequest("bad-head", head("POST", "/predict", {**{f"X-{i}": "y" for i in range(500)}, **length}), body)
    if case == "long":
        return RawRequest("bad-head", head("POST", "/predict", {"X-Long": "z" * 16_000, **length}), body)
    if case == "badchar":
        return RawRequest("bad-head", head("POST", "/predict", {"X-Bad": b"a\x00\x7fb", **length}), body)
    if case == "http10":
        return RawRequest("bad-head", head("POST", "/predict", length, version="HTTP/1.0"), body)
    if case == "http2":
        return RawRequest("bad-head", head("POST", "/predict", length, version="HTTP/2.0"), body)
    if case == "lower":
        return RawRequest("bad-head", head("post", "/predict", length), body)
    return RawRequest("bad-head", f"POST /predict HTTP/1.1\r\nContent-Length: {len(body)}\r\n\r\n".encode(), body)
