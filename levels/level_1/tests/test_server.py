"""The service as it runs in production: a real uvicorn process on 127.0.0.1, started by its own command."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx
import pytest
from conftest import LEVEL_DIR


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_serve_command_answers_over_http(model_file):
    port = _free_port()
    command = [sys.executable, "-m", "taxi_duration.serve", "--model-path", str(model_file), "--port", str(port)]
    process = subprocess.Popen(command, cwd=LEVEL_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
                assert time.monotonic() < deadline, "the service did not start within 60 s"
                time.sleep(0.2)
        ok = httpx.post(f"{url}/predict", json={"PULocationID": 74, "DOLocationID": 75, "trip_distance": 2.0})
        bad = httpx.post(f"{url}/predict", json={"PULocationID": 74, "DOLocationID": 75, "trip_distance": -2.0})
        assert ok.status_code == 200 and bad.status_code == 422
        assert 'status="422"' in httpx.get(f"{url}/metrics").text
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_serve_command_refuses_a_missing_model_in_one_line(tmp_path):
    missing = tmp_path / "none.bin"
    done = subprocess.run(
        [sys.executable, "-m", "taxi_duration.serve", "--model-path", str(missing), "--port", str(_free_port())],
        cwd=LEVEL_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (
        done.returncode == 2 and done.stderr.strip() == f"error: {missing}: model file not found — train a model first"
    )
