"""Issue 23, point 4: no client holds the level-1 service. Each attack runs against `mlops-levels serve 1`
in its own process on 127.0.0.1, as a student starts it; the bounds are the issue's (RSS growth < 50 MB,
`/health` within 1 s throughout) and the service's own header timeout (common/connections.py).
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from common.connections import LIMITS
from teaching.infra.serving import free_port
from tests.conftest import REPO

pytestmark = [pytest.mark.slow, pytest.mark.server]

HEALTH_SECONDS = 1.0  # the bound, per answer
RSS_GROWTH_MB = 50


def _tree(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    tree, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        tree += frontier
    return tree


def _rss_mb(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Service:
    url: str
    port: int
    process: subprocess.Popen
    health_latencies: list[float] = field(default_factory=list)
    health_failures: list[str] = field(default_factory=list)

    def rss_mb(self) -> float:
        """The RSS of `serve 1` and every process under it (the level's own service runs as its child)."""
        return sum(_rss_mb(pid) for pid in _tree(self.process.pid))

    def check_health(self) -> None:
        """One `/health` on a fresh connection; slow or failed answers are recorded, not raised."""
        started = time.monotonic()
        try:
            status = httpx.get(f"{self.url}/health", timeout=HEALTH_SECONDS * 3).status_code
        except httpx.HTTPError as exc:
            self.health_failures.append(repr(exc))
            return
        took = time.monotonic() - started
        self.health_latencies.append(took)
        if status != 200 or took > HEALTH_SECONDS:
            self.health_failures.append(f"{status} after {took:.2f} s")

    def report(self, attack: str, rss: list[float], before: float, extra: str = "") -> str:
        slowest = max(self.health_latencies, default=float("nan"))
        return (
            f"{attack}: RSS +{max(rss, default=before) - before:.0f} MB, /health {len(self.health_latencies)} answers, "
            f"slowest {slowest:.3f} s, {len(self.health_failures)} failed {extra}"
        )

    @contextlib.contextmanager
    def watched(self) -> Iterator[list[float]]:
        """Check `/health` and sample RSS every 0.1 s while the block runs; yields the RSS samples (MB)."""
        samples: list[float] = []
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                self.check_health()
                samples.append(self.rss_mb())
                done.wait(0.1)

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            yield samples
        finally:
            done.set()
            watcher.join()


@pytest.fixture
def service(trained_model, tmp_path) -> Iterator[Service]:
    """`mlops-levels serve 1` on a free port, in its own process, warmed up by a few predictions."""
    from common.model import save_model

    model = save_model(trained_model, tmp_path / "model.bin")
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "MLOPS_LEVELS_WORKSPACE": str(tmp_path / "ws"), "HOME": str(tmp_path)}
    command = [sys.executable, "-m", "cli", "serve", "1", "--model-path", str(model), "--port", str(port)]
    log = (tmp_path / "serve.log").open("wb")  # a file, not a pipe nobody reads: 4,000 log lines would block it
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, "serve 1 did not start"
            time.sleep(0.2)
        ride = {"PULocationID": 74, "DOLocationID": 75, "trip_distance": 1.8}
        for _ in range(20):
            assert httpx.post(f"{url}/predict/batch", json={"rides": [ride] * 500}).status_code == 200
        yield Service(url, port, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _head(extra: bytes = b"") -> bytes:
    return b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra


def test_a_100_mb_header_is_refused_without_stalling_or_growing_the_service(service):
    sent = [0]
    refused = threading.Event()

    def attack() -> None:
        piece = b"a" * 65536
        with socket.create_connection(("127.0.0.1", service.port), timeout=30) as conn:
            try:
                conn.sendall(_head(b"X-Big: "))
                while sent[0] < 100 * 1024 * 1024:
                    conn.sendall(piece)
                    sent[0] += len(piece)
            except OSError:
                refused.set()  # the service closed the connection on the header

    before = service.rss_mb()
    with service.watched() as rss:
        attacker = threading.Thread(target=attack)
        attacker.start()
        attacker.join(timeout=120)
        service.check_health()
    print(service.report("100 MB header", rss, before, f"{sent[0] / 2**20:.1f} MB sent before the refusal"))
    assert refused.is_set(), f"the service read all {sent[0] >> 20} MB of one header"
    assert sent[0] < 32 * 1024 * 1024, f"the service read {sent[0] >> 20} MB of one header before refusing it"
    assert max(rss) - before < RSS_GROWTH_MB, f"RSS grew {max(rss) - before:.0f} MB"
    assert not service.health_failures, service.health_failures


def test_400_unfinished_bodies_hold_neither_memory_nor_the_health_check(service):
    declared = 500 * 1024
    body = b"[" + b" " * (declared - 2)  # never finished: the last byte is not sent
    head = (
        b"POST /predict/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % declared
    )
    held: list[socket.socket] = []
    lock = threading.Lock()

    def stall() -> None:
        conn = socket.create_connection(("127.0.0.1", service.port), timeout=30)
        with lock:
            held.append(conn)
        with contextlib.suppress(OSError):  # a refused body ends in a closed connection
            conn.sendall(head + body[:-1])

    before = service.rss_mb()
    try:
        with service.watched() as rss:
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(lambda _: stall(), range(400)))
            time.sleep(3)  # while they all stall
        print(service.report("400 unfinished bodies", rss, before))
        assert len(held) == 400
        assert max(rss) - before < RSS_GROWTH_MB, f"RSS grew {max(rss) - before:.0f} MB with 400 bodies held"
        assert not service.health_failures, service.health_failures
        assert len(service.health_latencies) >= 10, "the watcher barely ran"
    finally:
        for conn in held:
            conn.close()


def _raise_descriptor_limit(wanted: int) -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.skip(f"needs {wanted} file descriptors, the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


@pytest.fixture
def descriptors() -> None:
    """Room for 4,000 client sockets here, and as many in the service (which inherits the limit)."""
    import resource

    saved = resource.getrlimit(resource.RLIMIT_NOFILE)
    _raise_descriptor_limit(10_000)
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, saved)


@pytest.fixture
def slow_service(descriptors, service) -> Service:
    return service


def test_4000_slow_connections_are_closed_within_the_header_timeout(slow_service):
    service, count = slow_service, 4000
    grace = 10.0  # a 2-core machine closing 4,000 sockets at once, and this loop noticing
    selector = selectors.DefaultSelector()
    opened: dict[socket.socket, float] = {}
    closed: dict[socket.socket, float] = {}
    try:
        for _ in range(count):
            conn = socket.create_connection(("127.0.0.1", service.port), timeout=10)
            conn.setblocking(False)
            opened[conn] = time.monotonic()
            with contextlib.suppress(OSError):
                conn.send(_head())
            selector.register(conn, selectors.EVENT_READ)
        deadline = max(opened.values()) + LIMITS.head_seconds + grace
        next_trickle = time.monotonic() + 2
        while len(closed) < count and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=0.5):
                conn = key.fileobj
                assert isinstance(conn, socket.socket)
                try:
                    data = conn.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    closed[conn] = time.monotonic()
                    selector.unregister(conn)
            if time.monotonic() > next_trickle:  # a header line every 2 s: keeps an idle timer from firing
                for conn in opened.keys() - closed.keys():
                    with contextlib.suppress(OSError):
                        conn.send(b"X-Slow: 1\r\n")
                next_trickle = time.monotonic() + 2
        held = count - len(closed)
        took = sorted(closed[c] - opened[c] for c in closed)
        if took:
            print(f"slow connections: {len(took)} closed, median {took[len(took) // 2]:.1f}, last {took[-1]:.1f} s")
        assert held == 0, f"{held} of {count} slow connections still open {LIMITS.head_seconds + grace:.0f} s after"
        late = [closed[c] - opened[c] for c in closed if closed[c] - opened[c] > LIMITS.head_seconds + grace]
        assert not late, f"{len(late)} closed later than the header timeout, up to {max(late):.1f} s"
        service.check_health()
        assert not service.health_failures, service.health_failures
    finally:
        selector.close()
        for conn in opened:
            conn.close()


def _answer(port: int, request: bytes, wait: float = 30) -> bytes:
    """Send `request`, then read until the service closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as conn:
        with contextlib.suppress(OSError):
            conn.sendall(request)
        received = b""
        with contextlib.suppress(OSError):
            while chunk := conn.recv(65536):
                received += chunk
        return received


@pytest.mark.parametrize(
    ("request_bytes", "status", "reason"),
    [
        (_head(b"".join(b"X-%d: 1\r\n" % i for i in range(101)) + b"\r\n"), b"431", b"more than 100 header fields"),
        (_head(b"X-Big: " + b"a" * 20_000 + b"\r\n\r\n"), b"431", b"request head larger than 16384 bytes"),
        (_head(), b"408", b"request head not received within 1 s"),
        (
            b"POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{",
            b"408",
            b"request body not received within 1 s",
        ),
    ],
    ids=["101 fields", "20 KB head", "stalled head", "stalled body"],
)
def test_each_limit_answers_with_its_status_and_reason(
    trained_model, tmp_path, monkeypatch, request_bytes, status, reason
):
    from common.connections import BoundedHttpToolsProtocol, ConnectionLimits
    from common.model import save_model
    from teaching.infra.serving import background_server

    monkeypatch.setattr(BoundedHttpToolsProtocol, "limits", ConnectionLimits(head_seconds=1, body_seconds=1))
    with background_server(_app(save_model(trained_model, tmp_path / "model.bin"))) as url:
        port = int(url.rsplit(":", 1)[1])
        answer = _answer(port, request_bytes)
        assert answer.startswith(b"HTTP/1.1 " + status), answer[:200]
        assert reason in answer, answer[:200]
        assert httpx.get(f"{url}/health").status_code == 200  # and nobody else noticed


def _app(model: Path) -> Any:
    """Level 1's app, served in this process by the toolkit's background server (same protocol, same limits):
    the level's package is not importable here, so a minimal app stands in, answering as the level would."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "model": model.name}

    @app.post("/predict")
    async def predict(ride: dict[str, Any]) -> dict[str, Any]:
        return {"duration_minutes": 1.0, **ride}

    return app
