"""What Prefect's basic auth costs the workspace's server (issue 23): seconds to a healthy server, an API
request, and a whole `mlops-levels run 2`, each with the secret and against the same server code without
it (the baseline), in the same run, alternating so that a busy machine weighs on both alike.

A server is started as the toolkit starts it (teaching/infra/services.py: `prefect server start`, UI off,
sqlite in a fresh PREFECT_HOME), with PREFECT_SERVER_API_AUTH_STRING in its environment or not. `run 2`
is pointed at it through PREFECT_API_URL (and PREFECT_API_AUTH_STRING), in a fresh workspace each time.
"""

from __future__ import annotations

import base64
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from common_bench import ROOT, save

sys.path.insert(0, str(ROOT))

from teaching.infra.secrets import without_secrets  # noqa: E402
from teaching.infra.serving import free_port, http_ok  # noqa: E402

CLI = str(Path(sys.executable).with_name("mlops-levels"))
PREFECT = str(Path(sys.executable).with_name("prefect"))
SECRET = "mlops-levels:bench-" + "x" * 32
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
REQUESTS = 200


def start(auth: bool, home: Path) -> tuple[float, subprocess.Popen[bytes], str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {**without_secrets(), "PREFECT_HOME": str(home), "PREFECT_API_URL": url}
    env |= {"PREFECT_SERVER_UI_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING", "DO_NOT_TRACK": "true"}
    if auth:
        env["PREFECT_SERVER_API_AUTH_STRING"] = SECRET
    started = time.perf_counter()
    command = [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port), "--analytics-off"]
    process = subprocess.Popen(
        command, env=env, cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    while not http_ok(f"{url}/health"):
        if process.poll() is not None:
            raise RuntimeError("the Prefect server did not start")
        time.sleep(0.1)
    return time.perf_counter() - started, process, url


def request_ms(url: str, auth: bool) -> float:
    """Median milliseconds of POST /flow_runs/filter (one run's worth of reads)."""
    headers = {"Authorization": "Basic " + base64.b64encode(SECRET.encode()).decode()} if auth else {}
    samples = []
    with httpx.Client(headers=headers, timeout=30) as client:
        for _ in range(REQUESTS):
            began = time.perf_counter()
            answer = client.post(f"{url}/flow_runs/filter", json={"limit": 5})
            samples.append((time.perf_counter() - began) * 1000)
            assert answer.status_code == 200, answer.status_code
    return statistics.median(samples)


def run_2(url: str, auth: bool) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLOPS_LEVELS_", "PREFECT_API", "MLFLOW_"))}
    workspace = tempfile.mkdtemp(prefix="bench-run2-")
    env |= {"MLOPS_LEVELS_WORKSPACE": workspace, "PREFECT_API_URL": url}
    if auth:
        env["PREFECT_API_AUTH_STRING"] = SECRET
    began = time.perf_counter()
    done = subprocess.run([CLI, "run", "2", "--json"], env=env, cwd=ROOT, capture_output=True, text=True)
    shutil.rmtree(workspace, ignore_errors=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return time.perf_counter() - began


def main() -> None:
    seconds: dict[str, list[float]] = {"start auth": [], "start open": [], "run auth": [], "run open": []}
    requests: dict[str, list[float]] = {"auth": [], "open": []}
    for _ in range(ROUNDS):
        for auth in (True, False):
            label = "auth" if auth else "open"
            home = Path(tempfile.mkdtemp(prefix=f"bench-prefect-{label}-"))
            took, process, url = start(auth, home)
            try:
                seconds[f"start {label}"].append(took)
                requests[label].append(request_ms(url, auth))
                seconds[f"run {label}"].append(run_2(url, auth))
            finally:
                os.killpg(process.pid, 15)
                process.wait(timeout=60)
                shutil.rmtree(home, ignore_errors=True)
    median = {key: statistics.median(values) for key, values in seconds.items()}
    save(
        "prefect_auth",
        {
            "rounds (each: one server with auth, one without)": ROUNDS,
            "prefect server start, with auth (s, median)": round(median["start auth"], 1),
            "prefect server start, without (s, median)": round(median["start open"], 1),
            "POST /flow_runs/filter, with auth (ms, median)": round(statistics.median(requests["auth"]), 1),
            "POST /flow_runs/filter, without (ms, median)": round(statistics.median(requests["open"]), 1),
            "run 2, with auth (s, median)": round(median["run auth"], 1),
            "run 2, without (s, median)": round(median["run open"], 1),
            "all samples (s)": {key: [round(v, 1) for v in values] for key, values in seconds.items()},
        },
    )


if __name__ == "__main__":
    main()
