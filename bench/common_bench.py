"""Small helpers shared by the benchmarks: timing a command, peak memory, printing a result table."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def time_command(command: list[str], repeats: int = 7, env: dict | None = None) -> float:
    """Median wall time of a command, after one warm-up run (file cache, .pyc)."""
    subprocess.run(command, capture_output=True, env=env, cwd=ROOT, check=True)
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, env=env, cwd=ROOT, check=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def run_isolated(code: str, *args: str) -> dict[str, Any]:
    """Run a snippet in a fresh interpreter so that peak RSS belongs to that snippet alone."""
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def save(name: str, result: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2))
    width = max(len(k) for k in result)
    print(f"\n== {name} ==")
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
