"""Wall time of `mlops-levels run all` (the story: every level on the same months, a fresh workspace, so
it includes starting the workspace's Prefect server) and of each level run again; what the Prefect UI
costs at server start (with it vs without it, same run); and the Prefect overhead per run: a flow of
eight no-op tasks against the reused server versus Prefect's temporary local API.
Targets: `run all` under 60 s (aim 45 s); a second `run 2` spends under 5 s in Prefect."""

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


def ui_cost(env: dict) -> dict:
    """Seconds to a healthy workspace Prefect server with its UI and without, each in a fresh workspace."""
    code = (
        "import time; from teaching.infra.config import Settings; "
        "from teaching.infra.services import ensure_prefect_api, stop_prefect_server; "
        "s = Settings(); t = time.perf_counter(); ensure_prefect_api(s); "
        "print(time.perf_counter() - t); stop_prefect_server(s)"
    )
    seconds = {}
    for ui in ("true", "false"):
        ws = tempfile.mkdtemp(prefix=f"bench-ui-{ui}-")
        _, out = timed(
            [sys.executable, "-c", code], {**env, "MLOPS_LEVELS_WORKSPACE": ws, "MLOPS_LEVELS_PREFECT_UI": ui}
        )
        seconds[ui] = float(out.strip().splitlines()[-1])
    return {
        "prefect server start with UI (s)": round(seconds["true"], 1),
        "prefect server start without UI (s)": round(seconds["false"], 1),
        "UI cost at start (s)": round(seconds["true"] - seconds["false"], 1),
    }


def main() -> None:
    workspace = Path(tempfile.mkdtemp(prefix="bench-levels-"))
    env = {**os.environ, "MLOPS_LEVELS_WORKSPACE": str(workspace), "PREFECT_LOGGING_LEVEL": "WARNING"}
    env.pop("PREFECT_API_URL", None)
    cli = [sys.executable, "-m", "cli"]
    result: dict = {}
    try:
        all_seconds, out = timed([*cli, "run", "all", "--json"], env)
        story = json.loads(out)
        result["run all, fresh workspace (s)"] = round(all_seconds, 1)
        result["run all, per level (s)"] = {str(r["level"]): r["wall_seconds"] for r in story["reports"]}
        last = {str(row["level"]): row[f"RMSE {story['months'][-1]}"] for row in story["comparison"]}
        frozen = min(last[level] for level in "0123")
        result["last month: level 4 vs the best frozen level"] = (
            f"{last['4']} vs {frozen} ({1 - last['4'] / frozen:.1%} lower)"
        )
        for level in json.loads(timed([*cli, "list", "--json"], env)[1]):
            seconds, _ = timed([*cli, "run", str(level["level"]), "--json"], env)
            result[f"run {level['level']} again (s)"] = round(seconds, 1)
        baseline, _ = timed([sys.executable, "-c", "pass"], env)
        server = json.loads((workspace / "prefect" / "server.json").read_text())
        server_env = {**env, "PREFECT_API_URL": server["api_url"]}
        server_env["PREFECT_API_AUTH_STRING"] = (workspace / "secrets" / "prefect-auth").read_text().strip()
        reused, _ = timed([sys.executable, "-c", NOOP_FLOW], server_env)
        temporary_env = {**env, "PREFECT_HOME": str(workspace / "tmp-prefect")}
        temporary, _ = timed([sys.executable, "-c", NOOP_FLOW], temporary_env)
        result["prefect overhead per run, reused workspace server (s)"] = round(reused - baseline, 2)
        result["prefect overhead per run, temporary local API (s)"] = round(temporary - baseline, 2)
        result["reused / temporary"] = round((reused - baseline) / (temporary - baseline), 2)
        result |= ui_cost(env)
    finally:
        subprocess.run([*cli, "stop"], env=env, cwd=ROOT, capture_output=True)
    result["targets"] = "second run 2: < 5 s of Prefect overhead; run all < 60 s"
    save("run_levels", result)


if __name__ == "__main__":
    main()
