"""Background servers the workspace keeps between commands: one local Prefect server.

Prefect 3's temporary local API costs 14-18 s in every process on a 2-core laptop; a server started
once per workspace costs ~10 s the first time and nothing after, so every later `run` talks to it.
Its state lives in <workspace>/prefect/ (PREFECT_HOME); `mlops-levels stop` or `clean` ends it.

Its API asks every request for the workspace's secret (Prefect's own basic auth,
<workspace>/secrets/prefect-auth, 0600): on 127.0.0.1 any local account reaches the port, and whoever
reaches the API can start a flow run of any deployment (`serve 4`'s included), read every log and
parameter. Every client the toolkit starts gets the secret through its environment, never argv.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock

from common.atomic import write_text_atomic
from common.errors import MlopsLevelsError, StoreError
from teaching.infra.config import Settings
from teaching.infra.processes import (
    environment_value,
    identity,
    is_same,
    left_behind,
    start_time,
    stop_group,
    stop_own_group,
)
from teaching.infra.quiet import quiet_libraries
from teaching.infra.secrets import (
    PREFECT_CLIENT_AUTH,
    PREFECT_SERVER_AUTH,
    ensure_secret_file,
    prefect_auth_file,
    read_secret_file,
    without_secrets,
)
from teaching.infra.serving import LOCALHOST, free_port, http_ok

STARTUP_TIMEOUT_S = 120
QUIET = {"PREFECT_LOGGING_LEVEL": "WARNING", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "true"}


def prefect_home(settings: Settings) -> Path:
    return settings.layout.prefect_home


def _private_home(settings: Settings) -> Path:
    """Prefect's home, 0700: its database holds every flow run's parameters and logs, which the API asks the
    secret for; a database file others can read (Prefect makes it 0644) would hand them over without it."""
    home = prefect_home(settings)
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    home.chmod(0o700)  # a home an older toolkit made 0755
    return home


def _state_file(settings: Settings) -> Path:
    return prefect_home(settings) / "server.json"


def running_prefect_api(settings: Settings) -> str | None:
    """The API URL of this workspace's Prefect server, if it is up."""
    state = _running_state(settings)
    return state["api_url"] if state else None


def running_prefect_secret_file(settings: Settings) -> str | None:
    """Where the secret of this workspace's running Prefect server is (its UI asks for that text)."""
    state = _running_state(settings)
    auth_file = state.get("auth_file") if state else None
    return auth_file if isinstance(auth_file, str) else None


def _running_state(settings: Settings) -> dict[str, Any] | None:
    """The record of this workspace's Prefect server, if it is up (its /health needs no secret)."""
    try:
        state = json.loads(_state_file(settings).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not _serves_this_workspace(state, settings):
        return None
    return state if http_ok(f"{state['api_url']}/health") else None


def _serves_this_workspace(state: dict[str, Any], settings: Settings) -> bool:
    """The recorded server is running and keeps its state in this workspace. A copied workspace carries
    the original's server.json: without this check it would use, and `stop` would stop, that server."""
    if not is_same(state):
        return False
    home = environment_value(state["pid"], "PREFECT_HOME")
    try:  # the same folder, whichever path (a symlink, ~) named it
        return home is not None and os.path.samefile(home, prefect_home(settings))
    except OSError:
        return False


def ensure_prefect_api(settings: Settings) -> str:
    """The Prefect server to use: the class server (--stack-url), PREFECT_API_URL, else this workspace's own.

    It changes nothing process-wide: callers run flows inside `prefect_settings(settings)`, so that a
    second workspace in the same process (a test, `run all`) never reuses the first one's server.
    """
    if settings.stack_url:
        return settings.stack_url
    if os.environ.get("PREFECT_API_URL"):  # the person chose a server explicitly
        return os.environ["PREFECT_API_URL"]
    return workspace_prefect_api(settings)


def prefect_auth(settings: Settings, api_url: str) -> str | None:
    """What a client of `api_url` authenticates with: this workspace's server's own secret when that is the
    server (the class server is one, on its host), else the person's PREFECT_API_AUTH_STRING (their own
    server's, or the class's from their <name>.env), else nothing: a server without auth needs none."""
    state = _running_state(settings)
    if state and state["api_url"] == api_url and isinstance(state.get("auth_file"), str):
        return read_secret_file(Path(state["auth_file"]))
    return os.environ.get(PREFECT_CLIENT_AUTH) or None


def prefect_client_env(settings: Settings) -> dict[str, str]:
    """The environment of a process the toolkit starts that talks to Prefect: which server, and its secret
    (in the environment: a command line is readable by every local user, a flow parameter by the API's)."""
    api_url = ensure_prefect_api(settings)
    env = {"PREFECT_API_URL": api_url, "PREFECT_HOME": str(prefect_home(settings))}
    if auth := prefect_auth(settings, api_url):
        env[PREFECT_CLIENT_AUTH] = auth
    return env


@contextlib.contextmanager
def prefect_settings(settings: Settings) -> Iterator[str]:
    """Within the block, Prefect talks to this workspace's server (started if needed); yields its API URL."""
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, PREFECT_HOME, temporary_settings

    api_url = ensure_prefect_api(settings)
    updates: dict[Any, Any] = {PREFECT_API_URL: api_url, PREFECT_HOME: prefect_home(settings)}
    if auth := prefect_auth(settings, api_url):  # Prefect read its environment once, at import
        updates[PREFECT_API_AUTH_STRING] = auth
    with temporary_settings(updates=updates):
        # Every flow a level runs goes through here: a run that trains nothing (a resumed loop) must be
        # as quiet as one that does.
        quiet_libraries(settings.verbose)
        yield api_url


def workspace_prefect_api(
    settings: Settings, server_env: dict[str, str] | None = None, auth_file: Path | None = None
) -> str:
    """This workspace's own Prefect server, started if needed (with `server_env` added, e.g. a database URL),
    asking every API request for the secret in `auth_file` (default: the workspace's, made on first use).

    A running server is reused only if it asks for that secret: one an older toolkit started without
    authentication, or whose secret file was replaced, is stopped and started again.
    """
    _private_home(settings)
    # Two commands starting at once must not start two servers for one workspace.
    with FileLock(prefect_home(settings) / "server.lock", timeout=STARTUP_TIMEOUT_S + 30):
        state = _running_state(settings)
        recorded = state.get("auth_file") if state else None
        if state and isinstance(recorded, str) and (auth_file is None or Path(recorded) == auth_file):
            secret = read_secret_file(Path(recorded))
            if secret and _asks_for(state["api_url"], secret):
                return str(state["api_url"])
        if state:
            stop_prefect_server(settings)
        chosen = auth_file or prefect_auth_file(settings)
        return _start_prefect_server(settings, server_env or {}, chosen, ensure_secret_file(chosen))


def _asks_for(api_url: str, secret: str) -> bool:
    """False only when the server is known not to ask for this secret: it refuses it (401), or it answers a
    request that carries none. A slow answer is no verdict: a busy server is not restarted under its runs."""
    import base64
    import urllib.error
    import urllib.request

    def status(headers: dict[str, str]) -> int | None:
        request = urllib.request.Request(f"{api_url}/admin/version", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as refused:
            return int(refused.code)
        except OSError:
            return None

    token = base64.b64encode(secret.encode()).decode()
    return status({"Authorization": f"Basic {token}"}) != 401 and status({}) != 200


def _start_prefect_server(settings: Settings, server_env: dict[str, str], auth_file: Path, secret: str) -> str:
    home = _private_home(settings)
    port = free_port()
    api_url = f"http://{LOCALHOST}:{port}/api"
    env = {
        **without_secrets(),
        **QUIET,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": api_url,
        "PREFECT_SERVER_UI_ENABLED": "true" if settings.prefect_ui else "false",
        **server_env,
        # The server's own secret, deliberately past without_secrets(): it is what the server checks, not a
        # credential of the command. Its /proc/<pid>/environ is readable only by this user (and root), as
        # the 0600 file is; a command line would be readable by everyone.
        PREFECT_SERVER_AUTH: secret,
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
    # Who it is, not only its pid: `stop` signals nothing unless the same process still runs under it.
    record = {**(identity(process.pid) or {}), "api_url": api_url, "auth_file": str(auth_file)}
    write_text_atomic(_state_file(settings), json.dumps(record))
    return api_url


def _venv_tool(name: str) -> str:
    """A console script installed beside this interpreter (the venv's `prefect`, `mlflow`, `uvicorn`)."""
    return str(Path(sys.executable).with_name(name))


def start_until_healthy(
    command: list[str], env: dict[str, str], log: Path, health_url: str, what: str, fix: str = "read the log"
) -> subprocess.Popen[bytes]:
    """Start a server in its own process group, logging to `log`; return once `health_url` answers 200.

    If it does not come up, or the caller is interrupted meanwhile, its whole group is stopped: a failed
    or cancelled start leaves nothing running.
    """
    # Started in the log's folder (the workspace's): a `uvicorn.py` or `prefect.py` in the person's current
    # folder would otherwise be imported by the `python -m uvicorn` these servers run.
    with open(log, "ab") as out:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=log.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    started = start_time(process.pid) or 0  # read before it can be reaped: the pid is still ours
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not http_ok(health_url):
            if process.poll() is not None or time.monotonic() > deadline:
                if disk_is_full(log.parent):  # its log, cut short by the full disk, would not say so
                    raise StoreError(
                        f"{what} did not start: the disk is full",
                        where=str(log.parent),
                        fix="free some space, or choose another workspace with --workspace",
                    )
                raise MlopsLevelsError(f"{what} did not start", where=str(log), fix=fix)
            time.sleep(0.3)
    except BaseException:
        stop_own_group(process.pid, started, timeout=10.0)
        process.poll()
        raise
    return process


def disk_is_full(folder: Path, margin: int = 16 * 1024 * 1024) -> bool:
    """Too little room left for a server to start (its database, its log): a few MB, not zero."""
    try:
        return shutil.disk_usage(folder).free < margin
    except OSError:
        return False


def mlflow_server(
    backend_uri: str,
    artifacts: Path,
    host: str,
    port: int,
    app_name: str | None = None,
    serve_artifacts: bool = True,
) -> tuple[list[str], dict[str, str]]:
    """The `mlflow server` command and environment every toolkit server uses (`ui N`, `stack up`).

    One worker and no job runner: 2 processes and 0.5 GB instead of 15 and 3.1 GB, healthy in ~11 s.
    The store URI goes through the environment: a command line is readable by every local user.
    Without `serve_artifacts` (`ui N`: no login, and every local account reaches 127.0.0.1) the server
    takes no file uploads: its artifact proxy would let another account write over a model's files.
    Clients on this machine write a local store's artifacts themselves.
    """
    where = ["--artifacts-destination"] if serve_artifacts else ["--no-serve-artifacts", "--default-artifact-root"]
    command = [
        _venv_tool("mlflow"),
        "server",
        *where,
        artifacts.as_uri(),
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        "1",
        *(["--app-name", app_name] if app_name else []),
    ]
    # mlflow execs `uvicorn` by name, so the venv's bin must be on PATH even when the venv is not activated.
    env = {
        **without_secrets(),
        "MLFLOW_BACKEND_STORE_URI": backend_uri,
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    return command, env


def stop_prefect_server(settings: Settings) -> bool:
    """Stop this workspace's Prefect server and wait until it is gone; True if it was running."""
    return bool(stop_workspace_server(settings)["stopped"])


def stop_workspace_server(settings: Settings) -> dict[str, Any]:
    """Stop this workspace's Prefect server: {"stopped": it was running, "stale": the record removed instead}.

    server.json is only a claim: unless the process it names runs now and is the one recorded, it is a
    stale (or forged) record, removed without signalling anything.
    """
    path = _state_file(settings)
    try:
        state = json.loads(path.read_text())
    except FileNotFoundError:
        return {"stopped": False, "stale": None}
    except (OSError, ValueError):
        state = None
    ours = isinstance(state, dict) and _serves_this_workspace(state, settings)
    stopped = stop_group(state) if ours else False
    orphans = [] if stopped or not isinstance(state, dict) else left_behind(state)
    if orphans:  # the record is what names them: kept until a person has looked
        return {"stopped": False, "stale": None, "left_behind": orphans, "record": str(path)}
    path.unlink(missing_ok=True)
    return {"stopped": stopped, "stale": None if stopped else str(path)}
