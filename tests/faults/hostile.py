"""A seeded, bounded generator of hostile HTTP requests for the prediction services.

Each family is one way a request can be wrong (JSON, types and encoding here; framing, size and routes
in hostile_framing.py). `hostile_requests(seed, count)` draws from them in turn, with random sizes and
contents, so one seed always gives the same set and every family gets its share.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable

from common.schemas import MAX_BATCH
from tests.faults.hostile_framing import (
    PREDICT_PATHS,
    RIDE,
    bad_head,
    chunked,
    lying_length,
    oversized,
    post,
    ride_body,
    unknown_route,
)
from tests.faults.rawhttp import RawRequest

ODD_VALUES: list[object] = ["12", "", [], {}, None, True, 1.5, -1, 0, 266, 10**12, 10**30, -(10**30), "NaN", [74]]


def valid(rng: random.Random) -> RawRequest:
    path = rng.choice(PREDICT_PATHS)
    return post(rng, "valid", path, ride_body(rng, path, rng.randint(1, 50)))


def batch_too_long(rng: random.Random) -> RawRequest:
    return post(rng, "batch-1001", "/predict/batch", json.dumps({"rides": [RIDE] * (MAX_BATCH + 1)}).encode())


def malformed_json(rng: random.Random) -> RawRequest:
    text = ride_body(rng, "/predict")
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
    return post(rng, "malformed-json", rng.choice(PREDICT_PATHS), body)


def deep_nesting(rng: random.Random) -> RawRequest:
    depth = rng.choice([100, 1000, 10_000, 100_000])
    opener, closer = rng.choice([(b"[", b"]"), (b'{"a":', b"}"), (b'{"rides":[', b"]}")])
    nested = opener * depth + b"1" + closer * depth
    body = rng.choice([nested, b'{"PULocationID": ' + nested + b', "DOLocationID": 75, "trip_distance": 1}'])
    return post(rng, "deep-nesting", rng.choice(PREDICT_PATHS), body)


def wrong_types(rng: random.Random) -> RawRequest:
    ride: dict[str, object] = dict(RIDE)
    field = rng.choice([*RIDE, "ride_id", "pickup_datetime", "extra"])
    ride[field] = rng.choice(ODD_VALUES + ["x" * 65, "9999-99-99", 10**20])
    if rng.random() < 0.2:
        del ride[rng.choice(list(RIDE))]
    path = rng.choice(PREDICT_PATHS)
    body = ride if path == "/predict" else rng.choice([{"rides": [ride]}, {"rides": ride}, {"rides": []}, [ride]])
    return post(rng, "wrong-types", path, json.dumps(body).encode())


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
    return post(rng, "odd-numbers", path, text if path == "/predict" else b'{"rides": [' + text + b"]}")


def bad_encoding(rng: random.Random) -> RawRequest:
    bad = rng.choice([b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"\x80", b"\\ud800", b"\\udfff\\ud800", b"\x00"])
    where = rng.choice(["ride_id", "key", "raw"])
    if where == "ride_id":
        body = b'{"PULocationID": 74, "DOLocationID": 75, "trip_distance": 1.8, "ride_id": "a' + bad + b'"}'
    elif where == "key":
        body = b'{"PULocationID": 74, "DOLocationID": 75, "trip_distance": 1.8, "' + bad + b'": 1}'
    else:
        body = bad + ride_body(rng, "/predict")
    return post(rng, "bad-encoding", "/predict", body)


def wrong_content_type(rng: random.Random) -> RawRequest:
    kind = rng.choice(
        ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml",
         "application/json; charset=utf-16", "application/json; charset=latin-1", "", "*/*", "application/json\x01"]
    )  # fmt: skip
    body = ride_body(rng, "/predict")
    return post(rng, "content-type", "/predict", body.decode().encode("utf-16") if "16" in kind else body, kind)


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
    request = post(rng, "admin", path, json.dumps(body).encode())
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
