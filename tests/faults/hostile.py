"""A seeded, bounded generator of hostile HTTP requests for the prediction services.

Each family below is one way a request can be wrong (framing, size, JSON, types, encoding, routes);
`hostile_requests(seed, count)` draws from them in turn, with random sizes and contents, so one seed
always gives the same set and every family gets its share.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable

from common.http import MAX_BODY_BYTES
from common.schemas import MAX_BATCH
from tests.faults.rawhttp import RawRequest

RIDE = {"PULocationID": 74, "DOLocationID": 75, "trip_distance": 1.8}
ODD_VALUES: list[object] = ["12", "", [], {}, None, True, 1.5, -1, 0, 266, 10**12, 10**30, -(10**30), "NaN", [74]]
PREDICT_PATHS = ["/predict", "/predict/batch"]


def _head(method: str, path: str, headers: dict[str, str | bytes] | None = None, version: str = "HTTP/1.1") -> bytes:
    lines = [f"{method} {path} {version}".encode(), b"Host: 127.0.0.1"]
    for name, value in (headers or {}).items():
        lines.append(name.encode() + b": " + (value if isinstance(value, bytes) else value.encode()))
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _post(
    rng: random.Random, family: str, path: str, body: bytes, content_type: str = "application/json"
) -> RawRequest:
    headers: dict[str, str | bytes] = {"Content-Type": content_type, "Content-Length": str(len(body))}
    if rng.random() < 0.5:  # urllib asks for it on every request; it is when resets used to happen
        headers["Connection"] = "close"
    return RawRequest(family, _head("POST", path, headers), body, pieces=rng.choice([1, 1, 3]))


def _chunked(rng: random.Random, body: bytes, sizes: tuple[int, int]) -> bytes:
    out, at = [], 0
    while at < len(body):
        size = rng.randint(*sizes)
        ext = b";x=1" if rng.random() < 0.1 else b""
        out.append(b"%x%s\r\n%s\r\n" % (len(body[at : at + size]), ext, body[at : at + size]))
        at += size
    return b"".join(out) + b"0\r\n\r\n"


def _ride_body(rng: random.Random, path: str, rides: int = 1) -> bytes:
    ride = dict(RIDE, ride_id=f"h{rng.randrange(10**9)}")
    return json.dumps(ride if path == "/predict" else {"rides": [ride] * rides}).encode()


def _big_body(rng: random.Random) -> bytes:
    """A batch that looks real and is too large: 1.2 to 4 times the limit."""
    ride = json.dumps(RIDE).encode()
    count = int(MAX_BODY_BYTES * rng.uniform(1.2, 4) / (len(ride) + 1))
    return b'{"rides": [' + b",".join([ride] * count) + b"]}"


def valid(rng: random.Random) -> RawRequest:
    path = rng.choice(PREDICT_PATHS)
    return _post(rng, "valid", path, _ride_body(rng, path, rng.randint(1, 50)))


def batch_too_long(rng: random.Random) -> RawRequest:
    return _post(rng, "batch-1001", "/predict/batch", json.dumps({"rides": [RIDE] * (MAX_BATCH + 1)}).encode())


def malformed_json(rng: random.Random) -> RawRequest:
    text = _ride_body(rng, "/predict")
    body = rng.choice(
        [
            text[: rng.randrange(len(text))],
            rng.randbytes(rng.randint(1, 300)),
            b"{",
            b"",
            b"null",
            b'{"rides": ',
            text.replace(b"}", b",}"),
            text.replace(b'"', b"'"),
            b"\xef\xbb\xbf" + text,
            text + b" trailing",
            b'{"PULocationID": 74, "PULocationID": "x", "DOLocationID": 75, "trip_distance": 1}',
        ]
    )
    return _post(rng, "malformed-json", rng.choice(PREDICT_PATHS), body)


def deep_nesting(rng: random.Random) -> RawRequest:
    depth = rng.choice([100, 1000, 10_000, 100_000])
    opener, closer = rng.choice([(b"[", b"]"), (b'{"a":', b"}"), (b'{"rides":[', b"]}")])
    nested = opener * depth + b"1" + closer * depth
    body = rng.choice([nested, b'{"PULocationID": ' + nested + b', "DOLocationID": 75, "trip_distance": 1}'])
    return _post(rng, "deep-nesting", rng.choice(PREDICT_PATHS), body)


def wrong_types(rng: random.Random) -> RawRequest:
    ride: dict[str, object] = dict(RIDE)
    field = rng.choice([*RIDE, "ride_id", "pickup_datetime", "extra"])
    ride[field] = rng.choice(ODD_VALUES + ["x" * 65, "9999-99-99", 10**20])
    if rng.random() < 0.2:
        del ride[rng.choice(list(RIDE))]
    path = rng.choice(PREDICT_PATHS)
    body = ride if path == "/predict" else rng.choice([{"rides": [ride]}, {"rides": ride}, {"rides": []}, [ride]])
    return _post(rng, "wrong-types", path, json.dumps(body).encode())


def odd_numbers(rng: random.Random) -> RawRequest:
    number = rng.choice(
        [
            b"1e308",
            b"1e309",
            b"-1e309",
            b"NaN",
            b"Infinity",
            b"-Infinity",
            b"-0.0",
            b"1" + b"0" * 5000,
            b"0." + b"0" * 4000 + b"1",
        ]
    )
    field = rng.choice([b"PULocationID", b"DOLocationID", b"trip_distance"])
    ride = {k.encode(): json.dumps(v).encode() for k, v in RIDE.items()}
    ride[field] = number
    text = b"{" + b", ".join(b'"%s": %s' % (k, v) for k, v in ride.items()) + b"}"
    path = rng.choice(PREDICT_PATHS)
    return _post(rng, "odd-numbers", path, text if path == "/predict" else b'{"rides": [' + text + b"]}")


def bad_encoding(rng: random.Random) -> RawRequest:
    bad = rng.choice([b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"\x80", b"\\ud800", b"\\udfff\\ud800", b"\x00"])
    where = rng.choice(["ride_id", "key", "raw"])
    if where == "ride_id":
        body = b'{"PULocationID": 74, "DOLocationID": 75, "trip_distance": 1.8, "ride_id": "a' + bad + b'"}'
    elif where == "key":
        body = b'{"PULocationID": 74, "DOLocationID": 75, "trip_distance": 1.8, "' + bad + b'": 1}'
    else:
        body = bad + _ride_body(rng, "/predict")
    return _post(rng, "bad-encoding", "/predict", body)


def wrong_content_type(rng: random.Random) -> RawRequest:
    kind = rng.choice(
        ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml",
         "application/json; charset=utf-16", "application/json; charset=latin-1", "", "*/*", "application/json\x01"]
    )  # fmt: skip
    body = _ride_body(rng, "/predict")
    return _post(rng, "content-type", "/predict", body.decode().encode("utf-16") if "16" in kind else body, kind)


def unknown_route(rng: random.Random) -> RawRequest:
    method = rng.choice(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "FOO"])
    path = rng.choice(
        ["/", "/nope", "/predict/", "/predict/batch/x", "/../etc/passwd", "/%00", "/%ff", "//predict", "/docs",
         "/openapi.json", "/metrics", "/health", "/predict?x=" + "a" * 4000, "/" + "b" * 8000, "/deployments"]
    )  # fmt: skip
    body = _ride_body(rng, "/predict") if method in ("POST", "PUT", "PATCH") and rng.random() < 0.7 else b""
    headers = {"Content-Length": str(len(body)), "Content-Type": "application/json"} if body else {}
    return RawRequest("unknown-route", _head(method, path, headers), body)


def chunked(rng: random.Random) -> RawRequest:
    """Chunked bodies, most of them larger than the limit (the bypass this family exists for)."""
    path = rng.choice(PREDICT_PATHS)
    body = _big_body(rng) if rng.random() < 0.7 else _ride_body(rng, path, rng.randint(1, 20))
    headers: dict[str, str | bytes] = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    if rng.random() < 0.5:
        headers["Connection"] = "close"
    sizes = rng.choice([(1, 64), (1000, 70_000), (60_000, 300_000)]) if len(body) < 5000 else (1000, 300_000)
    return RawRequest("chunked", _head("POST", path, headers), _chunked(rng, body, sizes), pieces=rng.choice([1, 7]))


def oversized(rng: random.Random) -> RawRequest:
    return _post(rng, "oversized", rng.choice(PREDICT_PATHS), _big_body(rng))


def lying_length(rng: random.Random) -> RawRequest:
    path = rng.choice(PREDICT_PATHS)
    body = _ride_body(rng, path)
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
    return RawRequest("lying-length", _head("POST", path, headers), body)


def bad_head(rng: random.Random) -> RawRequest:
    body = _ride_body(rng, "/predict")
    length = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    case = rng.choice(["many", "long", "badchar", "http10", "http2", "lower", "nohost"])
    if case == "many":
        return RawRequest(
            "bad-head", _head("POST", "/predict", {**{f"X-{i}": "y" for i in range(500)}, **length}), body
        )
    if case == "long":
        return RawRequest("bad-head", _head("POST", "/predict", {"X-Long": "z" * 16_000, **length}), body)
    if case == "badchar":
        return RawRequest("bad-head", _head("POST", "/predict", {"X-Bad": b"a\x00\x7fb", **length}), body)
    if case == "http10":
        return RawRequest("bad-head", _head("POST", "/predict", length, version="HTTP/1.0"), body)
    if case == "http2":
        return RawRequest("bad-head", _head("POST", "/predict", length, version="HTTP/2.0"), body)
    if case == "lower":
        return RawRequest("bad-head", _head("post", "/predict", length), body)
    return RawRequest("bad-head", f"POST /predict HTTP/1.1\r\nContent-Length: {len(body)}\r\n\r\n".encode(), body)


def admin_abuse(rng: random.Random) -> RawRequest:
    """The platform's admin routes (levels 3-4), with no, wrong or the right token and odd bodies."""
    path = rng.choice(["/deployments", "/promote", "/log/segment"])
    token = rng.choice([None, "wrong", "secret", "secret"])
    body = rng.choice(
        [
            {"version": rng.choice(["999999", "0", "9" * 50, "1e3", "-1", ""])},
            {"variants": [{"version": "1", "weight": rng.choice([0.5, 2, -1, float("inf")])}]},
            {"variants": [{"version": "1", "weight": 0.5, "name": "a"}, {"version": "1", "weight": 0.5, "name": "a"}]},
            {"label": rng.choice(["../x", "", "a" * 41, "h-" + str(rng.randrange(5))])},
            [],
        ]
    )
    request = _post(rng, "admin", path, json.dumps(body).encode())
    if token:
        request = RawRequest(
            "admin",
            request.head.replace(b"\r\n\r\n", f"\r\nAuthorization: Bearer {token}\r\n\r\n".encode()),
            request.body,
        )
    return request


FAMILIES: list[Callable[[random.Random], RawRequest]] = [
    valid, batch_too_long, malformed_json, deep_nesting, wrong_types, odd_numbers, bad_encoding,
    wrong_content_type, unknown_route, chunked, oversized, lying_length, bad_head,
]  # fmt: skip


def hostile_requests(seed: int, count: int, platform: bool = False) -> list[RawRequest]:
    rng = random.Random(seed)
    families = FAMILIES + ([admin_abuse] if platform else [])
    return [families[i % len(families)](rng) for i in range(count)]
