"""A production-like stack on one machine: PostgreSQL, an `mlflow server` backed by it, and the
workspace's Prefect server, all on 127.0.0.1. `mlops-levels stack up|status|down`.

The same `mlops-levels run 2 --stack` then tracks into a shared server instead of a sqlite file: the
way out of one machine, rehearsed on one machine. The database password is generated at the first `stack up`
and kept in <workspace>/stack/db-password (mode 600), never in code and never on a command line.

`stack up --class` is the classroom server: the same parts, plus MLflow's basic-auth app (students
see only their own experiments and model), Prefect on PostgreSQL, and a work pool whose workers run
the students' flows (teaching/infra/classroom*.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from common.atomic import write_secret
from common.errors import MlopsLevelsError, UsageError
from teaching.infra import classroom_auth, postgres
from teaching.infra.config import Settings
from teaching.infra.processes import identity, signals_as_interrupt, stop_group
from teaching.infra.secrets import read_secret_file
from teaching.infra.services import (
    ensure_prefect_api,
    mlflow_server,
    start_until_healthy,
    stop_prefect_server,
    workspace_prefect_api,
)
from teaching.infra.serving import LOCALHOST, free_port, http_ok

MLFLOW_DB, AUTH_DB, PREFECT_DB = "mlflow", "mlflow_auth", "prefect"


def stack_dir(settings: Settings) -> Path:
    return settings.workspace / "stack"


def _state_path(settings: Settings) -> Path:
    return stack_dir(settings) / "stack.json"


def read_state(settings: Settings) -> dict[str, Any] | None:
    try:
        state: dict[str, Any] = json.loads(_state_path(settings).read_text())
    except (OSError, ValueError):
        return None
    return state


def _save(settings: Settings, state: dict[str, Any]) -> None:
    write_secret(_state_path(settings), json.dumps(state, indent=2))


def _start_mlflow(settings: Settings, db_port: int, classroom: bool) -> dict[str, Any]:
    stack, port = stack_dir(settings), free_port()
    backend = postgres.database_uri("psycopg2", db_port, MLFLOW_DB)
    command, env = mlflow_server(
        backend, stack / "artifacts", LOCALHOST, port, app_name="basic-auth" if classroom else None
    )
    env.update(postgres.client_env(stack))
    if classroom:
        env.update(classroom_auth.server_env(stack, postgres.database_uri("psycopg2", db_port, AUTH_DB)))
    url = f"http://{LOCALHOST}:{port}"
    process = start_until_healthy(command, env, stack / "mlflow.log", f"{url}/health", "the MLflow server")
    return {**(identity(process.pid) or {"pid": process.pid}), "url": url}


def _start_prefect(settings: Settings, db_port: int, classroom: bool) -> dict[str, Any]:
    if not classroom:
        return {"api_url": ensure_prefect_api(settings)}
    # The class's orchestrator keeps its runs in PostgreSQL: thirty students' flow runs, concurrent writers.
    stop_prefect_server(settings)  # a sqlite-backed server of this workspace would answer in its place
    server_env = {
        "PREFECT_API_DATABASE_CONNECTION_URL": postgres.database_uri("asyncpg", db_port, PREFECT_DB),
        **postgres.client_env(stack_dir(settings)),
    }
    # Its own secret, not the workspace's: it is handed to every student (their <name>.env), and changed
    # with the class (docs/scale-out.md), without touching the instructor's own workspace.
    auth_file = classroom_auth.prefect_auth_file(stack_dir(settings))
    return {"api_url": workspace_prefect_api(settings, server_env, auth_file)}


def stack_up(settings: Settings, classroom: bool = False) -> dict[str, Any]:
    """Start what is not running yet; interrupted (Ctrl-C, SIGTERM, SIGHUP) or failed, it leaves nothing behind."""
    state = read_state(settings)
    if state and http_ok(f"{state.get('mlflow', {}).get('url')}/health"):
        if classroom != bool(state.get("class")):
            raise UsageError(
                f"the stack is already up {'without' if classroom else 'with'} --class",
                fix="mlops-levels stack down, then stack up again",
            )
        return state
    stack_dir(settings).mkdir(parents=True, exist_ok=True)
    with signals_as_interrupt():
        try:
            return _bring_up(settings, classroom)
        except BaseException:
            stack_down(settings)
            raise


def _bring_up(settings: Settings, classroom: bool) -> dict[str, Any]:
    databases = [MLFLOW_DB, AUTH_DB, PREFECT_DB] if classroom else [MLFLOW_DB]
    state: dict[str, Any] = {"class": classroom}
    _save(settings, state)  # saved at every step, so `stack down` stops what did start if a later step fails
    state["postgres"] = postgres.start(stack_dir(settings), databases)
    _save(settings, state)
    state["mlflow"] = _start_mlflow(settings, state["postgres"]["port"], classroom)
    _save(settings, state)
    state["prefect"] = _start_prefect(settings, state["postgres"]["port"], classroom)
    _save(settings, state)
    if classroom:
        from teaching.infra.classroom import set_up_orchestration

        classroom_auth.ensure_worker_account(state["mlflow"]["url"], stack_dir(settings))
        auth = read_secret_file(classroom_auth.prefect_auth_file(stack_dir(settings)))
        state["class"] = set_up_orchestration(state["prefect"]["api_url"], auth)
        _save(settings, state)
    return state


def stack_status(settings: Settings) -> list[dict[str, str]]:
    state = read_state(settings) or {}
    rows = []
    if "postgres" in state:
        port = state["postgres"]["port"]
        rows.append(
            {
                "service": "postgresql",
                "where": f"{LOCALHOST}:{port}",
                "state": "up" if postgres.is_ready(port) else "down",
            }
        )
    for key, service, url, health in (
        ("mlflow", "mlflow server", "url", "/health"),
        ("prefect", "prefect server", "api_url", "/health"),
    ):
        if key in state:
            where = state[key][url]
            rows.append({"service": service, "where": where, "state": "up" if http_ok(f"{where}{health}") else "down"})
    if isinstance(state.get("class"), dict):
        rows.append({"service": "work pool", "where": state["class"]["work_pool"], "state": "class server"})
    return rows


def stack_down(settings: Settings) -> bool:
    """Stop every stack process and return only once they are gone (and their ports free)."""
    state = read_state(settings)
    data = stack_dir(settings) / "postgres" / "data"
    if not state and not (data / "postmaster.pid").exists():
        return False
    if state and "mlflow" in state:
        stop_group(state["mlflow"])
    stop_prefect_server(settings)
    postgres.stop(stack_dir(settings), str(data))
    _state_path(settings).unlink(missing_ok=True)
    return True


def stack_tracking_uri(settings: Settings) -> str:
    state = read_state(settings)
    if not state or "mlflow" not in state:
        raise MlopsLevelsError("the stack is not up", fix="run: mlops-levels stack up")
    url: str = state["mlflow"]["url"]
    return url


def class_state(settings: Settings) -> dict[str, Any]:
    """The running class server of this workspace (the instructor's host), or a clear error."""
    state = read_state(settings)
    if not state or not isinstance(state.get("class"), dict):
        raise UsageError("no class server runs in this workspace", fix="run: mlops-levels stack up --class")
    return state


def stack_settings(settings: Settings) -> Settings:
    """`run --stack`: track into this workspace's stack; on a class server, submit to its pool as well."""
    state = read_state(settings)
    if state and isinstance(state.get("class"), dict):
        # On the class host the MLflow address is the stack's own record, not something a student can edit.
        return settings.with_(
            stack_url=state["prefect"]["api_url"], tracking_uri=settings.tracking_uri or state["mlflow"]["url"]
        )
    return settings.with_(tracking_uri=stack_tracking_uri(settings))
