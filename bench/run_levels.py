"""Wall time of `mlops-levels run N` for every built level on the embedded default (a fresh workspace,
so the first level-2 run includes starting the workspace's Prefect server), a second `run 2`, and the
Prefect overhead per run: a flow of eight no-op tasks against the reused server versus Prefect's
temporary local API. Targets: a second `run 2` spends under 5 s in Prefect; `run all` under 90 s."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common_bench import ROOT, save

NOOP_FLOW = """
from prefect import flow, task
@task
def step(x):
    return x
@flow
def noop():
    return [step(i) for i in range(8)]
noop()
"""


def timed(command: list[str], env: dict) -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return time.perf_counter() - started, out.stdout


def main() -> None:
    workspace = Path(tempfile.mkdtemp(prefix="bench-levels-"))
    env = {**os.environ, "MLOPS_LEVELS_WORKSPACE": str(workspace), "PREFECT_LOGGING_LEVEL": "WARNING"}
    env.pop("PREFECT_API_URL", None)
    cli = [sys.executable, "-m", "cli"]
    result: dict = {}
    try:
        all_seconds, _ = timed([*cli, "run", "all", "--json"], env)
        result["run all, fresh workspace (s)"] = round(all_seconds, 1)
        for level in json.loads(timed([*cli, "list", "--json"], env)[1]):
            seconds, _ = timed([*cli, "run", str(level["level"]), "--json"], env)
            result[f"run {level['level']} again (s)"] = round(seconds, 1)
        baseline, _ = timed([sys.executable, "-c", "pass"], env)
        server = json.loads((workspace / "prefect" / "server.json").read_text())
        server_env = {**env, "PREFECT_API_URL": server["api_url"]}
        reused, _ = timed([sys.executable, "-c", NOOP_FLOW], server_env)
        temporary_env = {**env, "PREFECT_HOME": str(workspace / "tmp-prefect")}
        temporary, _ = timed([sys.executable, "-c", NOOP_FLOW], temporary_env)
        result["prefect overhead per run, reused workspace server (s)"] = round(reused - baseline, 2)
        result["prefect overhead per run, temporary local API (s)"] = round(temporary - baseline, 2)
        result["reused / temporary"] = round((reused - baseline) / (temporary - baseline), 2)
    finally:
        subprocess.run([*cli, "stop"], env=env, cwd=ROOT, capture_output=True)
    result["targets"] = "second run 2: < 5 s of Prefect overhead; run all < 90 s"
    save("run_levels", result)


if __name__ == "__main__":
    main()
