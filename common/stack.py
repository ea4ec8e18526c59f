"""A production-like stack on one machine: PostgreSQL, an `mlflow server` backed by it, and the
workspace's Prefect server, all on 127.0.0.1. `mlops-levels stack up|status|down`.

The same `mlops-levels run 2 --stack` then tracks into a shared server instead of a sqlite file: the
way out of one machine, rehearsed on one machine. The database password is generated at the first `stack up`
and kept in <workspace>/stack/db-password (mode 600), never in code.
"""

from __future__ import annotations

import glob
import json
import os
import secrets
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

from common.config import Settings
from common.errors import MlopsLevelsError
from common.services import ensure_prefect_api, mlflow_server, start_until_healthy, stop_prefect_server
from common.serving import LOCALHOST, free_port, http_ok

DB_USER, DB_NAME = "mlops", "mlflow"


def stack_dir(settings: Settings) -> Path:
    return settings.workspace / "stack"


def _state_path(settings: Settings) -> Path:
    return stack_dir(settings) / "stack.json"


def read_state(settings: Settings) -> dict[str, Any] | None:
    try:
        return json.loads(_state_path(settings).read_text())
    except (OSError, ValueError):
        return None


def _pg_bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise MlopsLevelsError(
            f"PostgreSQL's {name} is not installed",
            fix="install PostgreSQL (e.g. apt-get install postgresql) or use the sqlite default",
        )
    return found


def _as_db_owner(command: list[str], folder: Path) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the `postgres` user in a folder it owns."""
    if os.geteuid() != 0:
        return command
    shutil.chown(folder, "postgres", "postgres")
    for path in folder.rglob("*"):
        shutil.chown(path, "postgres", "postgres")
    if subprocess.run(["runuser", "-u", "postgres", "--", "test", "-w", str(folder)]).returncode != 0:
        raise MlopsLevelsError(
            "PostgreSQL runs as the user postgres, who cannot reach this folder",
            where=str(folder),
            fix="use a workspace every user can traverse, e.g. --workspace /srv/mlops-workspace",
        )
    return ["runuser", "-u", "postgres", "--", *command]


def _password(settings: Settings) -> str:
    """Generated once with the database and kept beside it (mode 600): restarts reuse it."""
    path = stack_dir(settings) / "db-password"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(18))
        path.chmod(0o600)
    return path.read_text().strip()


def _start_postgres(settings: Settings, password: str) -> dict[str, Any]:
    folder = stack_dir(settings) / "postgres"
    data, port = folder / "data", free_port()
    folder.mkdir(parents=True, exist_ok=True)
    pwfile = folder / "pwfile"
    pwfile.write_text(password)
    pwfile.chmod(0o600)
    if not (data / "PG_VERSION").exists():
        _run(
            _as_db_owner(
                [
                    _pg_bin("initdb"),
                    "-D",
                    str(data),
                    "-U",
                    DB_USER,
                    "--auth=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "-E",
                    "UTF8",
                ],
                folder,
            ),
            "initdb",
        )
    pwfile.unlink()
    command = [
        _pg_bin("pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(folder / "postgres.log"),
        "-w",
        "-t",
        "60",
        "start",
        "-o",
        f"-h {LOCALHOST} -p {port} -k {folder}",
    ]
    _run(_as_db_owner(command, folder), "pg_ctl start")
    env = {**os.environ, "PGPASSWORD": password}
    created = subprocess.run(
        [_pg_bin("createdb"), "-h", LOCALHOST, "-p", str(port), "-U", DB_USER, DB_NAME],
        env=env,
        capture_output=True,
        text=True,
    )
    if created.returncode != 0 and "already exists" not in created.stderr:
        raise MlopsLevelsError(f"createdb failed: {created.stderr.strip()}", where=str(folder / "postgres.log"))
    return {"data": str(data), "port": port}


def _run(command: list[str], what: str) -> None:
    out = subprocess.run(command, capture_output=True, text=True)
    if out.returncode != 0:
        raise MlopsLevelsError(f"{what} failed: {(out.stderr or out.stdout).strip()[-300:]}")


def _start_mlflow(settings: Settings, db_port: int, password: str) -> dict[str, Any]:
    folder, port = stack_dir(settings), free_port()
    backend = f"postgresql+psycopg2://{DB_USER}:{password}@{LOCALHOST}:{db_port}/{DB_NAME}"
    command, env = mlflow_server(backend, folder / "artifacts", LOCALHOST, port)
    url = f"http://{LOCALHOST}:{port}"
    process = start_until_healthy(command, env, folder / "mlflow.log", f"{url}/health", "the MLflow server")
    return {"pid": process.pid, "url": url}


def stack_up(settings: Settings) -> dict[str, Any]:
    state = read_state(settings)
    if state and http_ok(f"{state['mlflow']['url']}/health"):
        return state
    stack_dir(settings).mkdir(parents=True, exist_ok=True)
    password = _password(settings)
    postgres = _start_postgres(settings, password)
    state = {"postgres": postgres}
    _save(settings, state)  # saved early, so `stack down` can stop what did start if a later step fails
    state["mlflow"] = _start_mlflow(settings, postgres["port"], password)
    _save(settings, state)
    state["prefect"] = {"api_url": ensure_prefect_api(settings)}
    _save(settings, state)
    return state


def _save(settings: Settings, state: dict[str, Any]) -> None:
    path = _state_path(settings)
    path.write_text(json.dumps(state, indent=2))
    path.chmod(0o600)


def stack_status(settings: Settings) -> list[dict[str, str]]:
    state = read_state(settings) or {}
    rows = []
    if "postgres" in state:
        ready = (
            subprocess.run(
                [_pg_bin("pg_isready"), "-h", LOCALHOST, "-p", str(state["postgres"]["port"])], capture_output=True
            ).returncode
            == 0
        )
        rows.append(
            {
                "service": "postgresql",
                "where": f"{LOCALHOST}:{state['postgres']['port']}",
                "state": "up" if ready else "down",
            }
        )
    if "mlflow" in state:
        rows.append(
            {
                "service": "mlflow server",
                "where": state["mlflow"]["url"],
                "state": "up" if http_ok(f"{state['mlflow']['url']}/health") else "down",
            }
        )
    if "prefect" in state:
        rows.append(
            {
                "service": "prefect server",
                "where": state["prefect"]["api_url"],
                "state": "up" if http_ok(f"{state['prefect']['api_url']}/health") else "down",
            }
        )
    return rows


def stack_down(settings: Settings) -> bool:
    state = read_state(settings)
    if not state:
        return False
    if "mlflow" in state:
        try:
            os.killpg(state["mlflow"]["pid"], signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    if "postgres" in state:
        folder = stack_dir(settings) / "postgres"
        subprocess.run(
            _as_db_owner([_pg_bin("pg_ctl"), "-D", state["postgres"]["data"], "-m", "fast", "-w", "stop"], folder),
            capture_output=True,
        )
    stop_prefect_server(settings)
    _state_path(settings).unlink(missing_ok=True)
    return True


def stack_tracking_uri(settings: Settings) -> str:
    state = read_state(settings)
    if not state or "mlflow" not in state:
        raise MlopsLevelsError("the stack is not up", fix="run: mlops-levels stack up")
    return state["mlflow"]["url"]
