"""A 200 MB chunked body to the level-1 service: does its memory grow with the body, and how soon does the
client see the 413? (Issue 12: before the limit was enforced while reading, RSS went from 277 MB to
1,348 MB for 16 s and stayed at 553 MB.)

The service runs in its own process (a real uvicorn, one worker) so that its RSS is its own; a thread
samples /proc/PID/status every 10 ms. The baseline is the same process after a few normal 1 KB batch
requests, in the same run. The client writes the body as fast as the server takes it, in 64 KB chunks,
and reads the answer at the same time, as a client that watches for an early answer does.
"""

from __future__ import annotations

import itertools
import json
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from common_bench import ROOT, save

RIDE = {"PULocationID": 74, "DOLocationID": 75, "trip_distance": 1.8}
BODY_MB = 200
_SERVE = """
import socket, sys, uvicorn
from taxi_duration.serve import create_app
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(64)  # connections wait in the backlog until uvicorn accepts them
print(listener.getsockname()[1], flush=True)
uvicorn.Server(uvicorn.Config(create_app(sys.argv[1]), log_level="warning")).run(sockets=[listener])
"""


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for {pid}")


class PeakRss(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0.0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.01)

    def __enter__(self) -> PeakRss:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.running = False
        self.join()


def send_chunked(port: int, total: int) -> dict:
    """Write a batch of rides of `total` bytes, chunked, while reading; stop when the server closes."""
    ride = json.dumps(RIDE).encode()
    block = (b"," + ride) * (65536 // (len(ride) + 1))
    chunks = [b'{"rides": [' + ride] + [block] * (total // len(block)) + [b"]}"]
    wire = itertools.chain((b"%x\r\n%s\r\n" % (len(c), c) for c in chunks), [b"0\r\n\r\n"])
    pending = b"POST /predict/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    pending += b"Transfer-Encoding: chunked\r\n\r\n"
    conn = socket.create_connection(("127.0.0.1", port))
    conn.setblocking(False)
    started, sent, answer, status_at, closed_at, error = time.perf_counter(), 0, b"", None, None, ""
    while closed_at is None and time.perf_counter() - started < 120:
        if not pending:
            pending = next(wire, b"")
        readable, writable, _ = select.select([conn], [conn] if pending else [], [], 1)
        try:
            if readable:
                data = conn.recv(65536)
                answer += data
                if status_at is None and b"\r\n" in answer:
                    status_at = time.perf_counter() - started
                if not data:
                    closed_at = time.perf_counter() - started
            if writable:
                done = conn.send(pending)
                sent, pending = sent + done, pending[done:]
        except OSError as exc:  # the server closed while we were still sending: expected past the drain budget
            error, closed_at = type(exc).__name__, time.perf_counter() - started
    conn.close()
    return {
        "status_line": answer.split(b"\r\n", 1)[0].decode(errors="replace"),
        "seconds_to_status": round(status_at, 3) if status_at is not None else None,
        "seconds_to_close": round(closed_at, 3) if closed_at is not None else None,
        "mb_sent_before_close": round(sent / 2**20, 1),
        "client_error": error,
    }


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    subprocess.run(
        [sys.executable, "-c", _TRAIN, str(folder)], cwd=ROOT, check=True, capture_output=True, text=True
    )  # a model file of its own, so the server process holds only the service
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVE, str(folder / "model.bin")],
        cwd=ROOT / "levels" / "level_1",
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(server.stdout.readline())
        base = f"http://127.0.0.1:{port}"
        batch = {"rides": [RIDE] * 17}
        assert len(json.dumps(batch)) in range(900, 1100)
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(50):  # warm-up: imports, first predictions, allocator
                client.post("/predict/batch", json=batch).raise_for_status()
            started = time.perf_counter()
            for _ in range(20):
                client.post("/predict/batch", json=batch).raise_for_status()
            normal_ms = (time.perf_counter() - started) / 20 * 1000
        baseline = rss_mb(server.pid)
        with PeakRss(server.pid) as sampler:
            outcome = send_chunked(port, BODY_MB * 2**20)
            time.sleep(0.5)
        after = rss_mb(server.pid)
        with httpx.Client(base_url=base, timeout=30) as client:
            still_serves = client.post("/predict/batch", json=batch).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=10)
    save(
        "hostile_body",
        {
            "body": f"{BODY_MB} MB, Transfer-Encoding: chunked, POST /predict/batch (level 1)",
            "baseline_rss_mb_after_1kb_requests": round(baseline, 1),
            "normal_1kb_request_ms": round(normal_ms, 2),
            "peak_rss_mb_during_body": round(sampler.peak, 1),
            "rss_growth_mb": round(sampler.peak - baseline, 1),
            "rss_mb_after": round(after, 1),
            "target_growth_mb": 50,
            "meets_target": sampler.peak - baseline < 50,
            **outcome,
            "service_still_answers": still_serves,
        },
    )


_TRAIN = """
import sys
from pathlib import Path
from common.data import load_prepared
from common.model import save_model, train
from common.synthetic import ensure_month
folder = Path(sys.argv[1])
save_model(train(load_prepared(ensure_month(folder, "2021-01"))), folder / "model.bin")
"""

if __name__ == "__main__":
    main()
