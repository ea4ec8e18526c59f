"""Serving throughput and latency: the level-1 FastAPI service against `mlflow models serve
--env-manager local`, on the same model, in the same run, one ride per request and a batch of 100.
The level-1 service runs twice: as every serve path starts it (common/connections.py's limits) and on a
plain uvicorn, as before those limits, so the cost of bounding connections is measured in the same run.

The servers run as separate processes with one worker on 127.0.0.1, all up at once, measured in turns
(rounds; medians reported); the load is 4 client connections, bounded by a request count and a time
limit. Targets: >= 3x mlflow's single-ride throughput, p99 under 25 ms at 4 threads."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from common_bench import ROOT, save

RIDE = {"PULocationID": 74, "DOLocationID": 75, "trip_distance": 1.8}


def prepare_models(folder: Path) -> tuple[Path, Path]:
    import warnings

    import mlflow.sklearn
    from mlflow.models import infer_signature

    from common.data import load_prepared
    from common.model import features_of, save_model, train
    from common.synthetic import ensure_month

    trips = load_prepared(ensure_month(folder, "2021-01"))
    model = train(trips)
    pickle_path = save_model(model, folder / "model.bin")
    mlflow_path = folder / "mlflow_model"
    example = features_of(trips.head(5))
    warnings.filterwarnings("ignore", module="mlflow")
    mlflow.sklearn.save_model(
        model,
        mlflow_path,
        serialization_format="cloudpickle",
        signature=infer_signature(example, model.predict(example)),
        pip_requirements=["scikit-learn", "pandas", "numpy", "scipy"],
    )
    return pickle_path, mlflow_path


LEVEL_1 = ROOT / "levels" / "level_1"


def start(command: list[str], url: str, env: dict) -> subprocess.Popen:
    # In level 1's folder: the level is a project of its own, its package importable from there.
    process = subprocess.Popen(command, env=env, cwd=LEVEL_1, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return process
        except httpx.TransportError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"{command[:3]} did not start")


def load(url: str, body: dict, threads: int, requests_per_thread: int, seconds: float) -> dict:
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker() -> None:
        mine = []
        with httpx.Client(timeout=10) as client:
            for _ in range(requests_per_thread):
                if time.monotonic() > deadline:
                    break
                started = time.perf_counter()
                response = client.post(url, json=body)
                mine.append(time.perf_counter() - started)
                if response.status_code != 200:
                    failures[0] += 1
        with lock:
            latencies.extend(mine)

    began = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "req_per_s": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
        "failures": failures[0],
        "requests": len(latencies),
    }


def load_wrk(url: str, body: dict, threads: int, seconds: float) -> dict:
    """wrk, a C load generator: a Python client tops out near 800 req/s and would measure itself."""
    script = Path(tempfile.mkdtemp()) / "post.lua"
    script.write_text(
        f"wrk.method = 'POST'\nwrk.body = [[{json.dumps(body)}]]\nwrk.headers['Content-Type'] = 'application/json'\n"
    )
    out = subprocess.run(
        ["wrk", "-t", "1", "-c", str(threads), "-d", f"{int(seconds)}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def millis(label: str) -> float:
        value = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        number, unit = float(value.group(1)), value.group(2)
        return number / 1000 if unit == "us" else number * 1000 if unit == "s" else number

    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: .*", out)
    return {
        "req_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": millis("50%"),
        "p99_ms": millis("99%"),
        "failures": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(0) if errors else "",
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
    }


def tree_cpu_seconds(root: int) -> float:
    """CPU time of a process and its descendants (mlflow serves from a child), from /proc."""
    stats = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(stat.parent.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))  # ppid, utime + stime
    tree = {root}
    for _ in range(4):  # a few generations are plenty here
        tree |= {pid for pid, (ppid, _) in stats.items() if ppid in tree}
    ticks = sum(stats[pid][1] for pid in tree if pid in stats)
    return ticks / os.sysconf("SC_CLK_TCK")


def measured_run(process: subprocess.Popen, run: Callable[..., dict], *args: Any) -> dict:
    """`run(*args)`, with the server's CPU per answered request: a figure neighbours on the machine skew less."""
    before = tree_cpu_seconds(process.pid)
    stats = run(*args)
    stats["cpu_us"] = 1e6 * (tree_cpu_seconds(process.pid) - before) / max(1, stats["requests"])
    return stats


def _median_run(runs: list[dict]) -> dict:
    """Each figure's median over the rounds; failures summed."""
    return {
        "req_per_s": statistics.median(r["req_per_s"] for r in runs),
        "p50_ms": statistics.median(r["p50_ms"] for r in runs),
        "p99_ms": statistics.median(r["p99_ms"] for r in runs),
        "failures": sum(r["failures"] for r in runs),
        "cpu_us": statistics.median(r["cpu_us"] for r in runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1500, help="per client thread")
    parser.add_argument("--seconds", type=float, default=20, help="per server and kind of request, over all rounds")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    pickle_path, mlflow_path = prepare_models(folder)
    env = {
        **os.environ,
        "MODEL_PATH": str(pickle_path),
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
    }
    bin_dir = Path(sys.executable).parent
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"  # mlflow execs `uvicorn` by name
    ours_port, mlflow_port, plain_port = 18731, 18732, 18733
    bounded = (
        "from common.connections import run; from taxi_duration.serve import app_from_env; "
        f"run(app_from_env(), '127.0.0.1', {ours_port}, log_level='warning')"
    )
    servers = {
        "level 1 FastAPI": (
            [sys.executable, "-c", bounded],
            f"http://127.0.0.1:{ours_port}",
            "/predict",
            "/predict/batch",
            RIDE,
            {"rides": [RIDE] * 100},
        ),
        "level 1 FastAPI, plain uvicorn (before the limits)": (
            [
                str(bin_dir / "uvicorn"),
                "taxi_duration.serve:app_from_env",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(plain_port),
                "--log-level",
                "warning",
            ],
            f"http://127.0.0.1:{plain_port}",
            "/predict",
            "/predict/batch",
            RIDE,
            {"rides": [RIDE] * 100},
        ),
        "mlflow models serve": (
            [
                str(bin_dir / "mlflow"),
                "models",
                "serve",
                "-m",
                str(mlflow_path),
                "--env-manager",
                "local",
                "-h",
                "127.0.0.1",
                "-p",
                str(mlflow_port),
                "--workers",
                "1",
            ],
            f"http://127.0.0.1:{mlflow_port}",
            "/invocations",
            "/invocations",
            {"dataframe_records": [RIDE]},
            {"dataframe_records": [RIDE] * 100},
        ),
    }
    result: dict = {}
    measured: dict[str, dict] = {}
    batches: dict[str, dict] = {}
    processes = {}
    try:
        for name, (command, base, *_rest) in servers.items():
            processes[name] = start(command, f"{base}/health" if "level" in name else f"{base}/ping", env)
        for _command, base, single_path, _batch_path, single, _batch in servers.values():
            load(base + single_path, single, args.threads, 50, 5)  # warm-up
        # Rounds taken in turn, all servers up: a neighbour's load on a shared machine falls on each alike.
        runs: dict[str, list[dict]] = {name: [] for name in servers}
        batch_runs: dict[str, list[dict]] = {name: [] for name in servers}
        seconds = args.seconds / args.rounds
        for _ in range(args.rounds):
            for name, (_command, base, single_path, batch_path, single, batch) in servers.items():
                server = processes[name]
                if shutil.which("wrk"):
                    runs[name].append(measured_run(server, load_wrk, base + single_path, single, args.threads, seconds))
                    batch_runs[name].append(
                        measured_run(server, load_wrk, base + batch_path, batch, args.threads, seconds)
                    )
                else:
                    runs[name].append(
                        measured_run(server, load, base + single_path, single, args.threads, args.requests, seconds)
                    )
                    batch_runs[name].append(
                        measured_run(server, load, base + batch_path, batch, args.threads, args.requests // 5, seconds)
                    )
        measured = {name: _median_run(r) for name, r in runs.items()}
        batches = {name: _median_run(r) for name, r in batch_runs.items()}
    finally:
        for process in processes.values():
            process.terminate()
            process.wait(timeout=30)
    for name, stats in measured.items():
        batch_stats = batches[name]
        result[f"{name}: single req/s"] = round(stats["req_per_s"], 1)
        result[f"{name}: single p50 / p99 ms"] = f"{stats['p50_ms']:.1f} / {stats['p99_ms']:.1f}"
        result[f"{name}: single server CPU µs per request"] = round(stats["cpu_us"])
        result[f"{name}: batch(100) req/s"] = round(batch_stats["req_per_s"], 1)
        result[f"{name}: batch(100) p50 / p99 ms"] = f"{batch_stats['p50_ms']:.1f} / {batch_stats['p99_ms']:.1f}"
        result[f"{name}: failed requests"] = stats["failures"] + batch_stats["failures"]
    ours, theirs = measured["level 1 FastAPI"], measured["mlflow models serve"]
    plain = measured["level 1 FastAPI, plain uvicorn (before the limits)"]
    result["single-ride throughput ratio (ours / mlflow)"] = round(ours["req_per_s"] / theirs["req_per_s"], 2)
    result["single-ride throughput ratio (bounded / plain uvicorn)"] = round(ours["req_per_s"] / plain["req_per_s"], 2)
    result["single-ride server CPU per request (bounded / plain uvicorn)"] = round(ours["cpu_us"] / plain["cpu_us"], 2)
    result["client connections"] = args.threads
    result["load generator"] = "wrk" if shutil.which("wrk") else "python httpx threads (install wrk for real numbers)"
    result["targets"] = ">= 3x mlflow's single-ride throughput; p99 < 25 ms at 4 threads"
    save("serving", result)


if __name__ == "__main__":
    main()
