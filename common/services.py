"""Background servers the workspace keeps between commands: one local Prefect server.

Prefect 3's temporary local API costs 14-18 s in every process on a 2-core laptop; a server started
once per workspace costs ~10 s the first time and nothing after, so every later `run` talks to it.
Its state lives in <workspace>/prefect/ (PREFECT_HOME); `mlops-levels stop` or `clean` ends it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from filelock import FileLock

from common.config import Settings
from common.errors import MlopsLevelsError
from common.serving import LOCALHOST, free_port, http_ok

STARTUP_TIMEOUT_S = 120
QUIET = {"PREFECT_LOGGING_LEVEL": "WARNING", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "true"}


def prefect_home(settings: Settings) -> Path:
    return settings.layout.prefect_home


def _state_file(settings: Settings) -> Path:
    return prefect_home(settings) / "server.json"


def running_prefect_api(settings: Settings) -> str | None:
    """The API URL of this workspace's Prefect server, if it is up."""
    try:
        state = json.loads(_state_file(settings).read_text())
    except (OSError, ValueError):
        return None
    return state["api_url"] if http_ok(f"{state['api_url']}/health") else None


def ensure_prefect_api(settings: Settings) -> str:
    """Point Prefect at a server: PREFECT_API_URL if set, else this workspace's own (started if needed)."""
    if os.environ.get("PREFECT_API_URL"):
        api_url = os.environ["PREFECT_API_URL"]
    else:
        prefect_home(settings).mkdir(parents=True, exist_ok=True)
        # Two commands starting at once must not start two servers for one workspace.
        with FileLock(prefect_home(settings) / "server.lock", timeout=STARTUP_TIMEOUT_S + 30):
            api_url = running_prefect_api(settings) or _start_prefect_server(settings)
    for name, value in QUIET.items():
        if not (settings.verbose and name == "PREFECT_LOGGING_LEVEL"):
            os.environ.setdefault(name, value)
    os.environ["PREFECT_API_URL"] = api_url
    os.environ.setdefault("PREFECT_HOME", str(prefect_home(settings)))
    return api_url


def _start_prefect_server(settings: Settings) -> str:
    home = prefect_home(settings)
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    api_url = f"http://{LOCALHOST}:{port}/api"
    env = {
        **os.environ,
        **QUIET,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": api_url,
        "PREFECT_SERVER_UI_ENABLED": "false",
    }
    command = [_venv_tool("prefect"), "server", "start", "--host", LOCALHOST, "--port", str(port), "--analytics-off"]
    process = start_until_healthy(
        command,
        env,
        home / "server.log",
        f"{api_url}/health",
        "the local Prefect server",
        fix="read the log; or set PREFECT_API_URL to a running Prefect server",
    )
    _state_file(settings).write_text(json.dumps({"pid": process.pid, "api_url": api_url}))
    return api_url


def _venv_tool(name: str) -> str:
    """A console script installed beside this interpreter (the venv's `prefect`, `mlflow`, `uvicorn`)."""
    return str(Path(sys.executable).with_name(name))


def start_until_healthy(
    command: list[str], env: dict[str, str], log: Path, health_url: str, what: str, fix: str = "read the log"
) -> subprocess.Popen:
    """Start a server in its own process group, logging to `log`; return once `health_url` answers 200."""
    with open(log, "ab") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not http_ok(health_url):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise MlopsLevelsError(f"{what} did not start", where=str(log), fix=fix)
        time.sleep(0.3)
    return process


def mlflow_server(backend_uri: str, artifacts: Path, host: str, port: int) -> tuple[list[str], dict[str, str]]:
    """The `mlflow server` command and environment every toolkit server uses (`ui N`, `stack up`).

    One worker and no job runner: 2 processes and 0.5 GB instead of 15 and 3.1 GB, healthy in ~11 s.
    """
    command = [
        _venv_tool("mlflow"),
        "server",
        "--backend-store-uri",
        backend_uri,
        "--artifacts-destination",
        artifacts.as_uri(),
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    # mlflow execs `uvicorn` by name, so the venv's bin must be on PATH even when the venv is not activated.
    env = {
        **os.environ,
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    return command, env


def stop_prefect_server(settings: Settings) -> bool:
    """Stop this workspace's Prefect server; True if one was running."""
    try:
        state = json.loads(_state_file(settings).read_text())
    except (OSError, ValueError):
        return False
    _state_file(settings).unlink(missing_ok=True)
    try:
        os.killpg(state["pid"], signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return False
    return True
