"""The class server's orchestration side: a Prefect work pool for training runs, workers, and joining a class.

`stack up --class` leaves behind, on the stack's Prefect server (on PostgreSQL): a process work pool,
one queue per student, an automation that marks a flow run Crashed when its heartbeats stop (its
worker died), and a variable `mlops_levels_class` that marks the server as a class server and names the pool
to submit to. Where the class's MLflow server is (where every MLflow password is sent) is never read from it:
every student holds the Prefect secret and can rewrite any variable. A laptop and a remote worker take that
address from their environment (MLFLOW_TRACKING_URI, in the instructor's <name>.env); a worker on the host
from the stack's own record.

That server asks every API request for the class's secret (<stack>/class/prefect-auth): the instructor's
commands read the file, a worker and a student's laptop get it in their environment (PREFECT_API_AUTH_STRING,
from the student's <name>.env), never on a command line.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from common.errors import MlopsLevelsError, UsageError
from teaching.infra import classroom_auth
from teaching.infra.config import Settings
from teaching.infra.secrets import PREFECT_CLIENT_AUTH, read_secret_file
from teaching.infra.services import QUIET

POOL = "mlops-levels-training"
FIX_FROM_ENV_FILE = "set it from your instructor's <name>.env file (set -a; . <name>.env; set +a)"
CLASS_VARIABLE = "mlops_levels_class"
ZOMBIE_AUTOMATION = "mlops-levels: crash flow runs whose worker went silent"
# A flow run beats every HEARTBEAT_S; silent for SILENT_S it is declared Crashed (Prefect's minimum beat is 30 s).
HEARTBEAT_S, SILENT_S = 30, 60


def student_queue(student: str) -> str:
    return f"student-{student}"


def _client(api_url: str, auth: str | None = None) -> Any:
    """A Prefect client of the class server, with `auth` (the instructor's, read from the class's file) or
    else the environment's PREFECT_API_AUTH_STRING (a student's, a remote worker's)."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    updates: dict[Any, Any] = {PREFECT_API_URL: api_url}
    if auth := auth or os.environ.get(PREFECT_CLIENT_AUTH):  # Prefect read its environment once, at import
        updates[PREFECT_API_AUTH_STRING] = auth
    with temporary_settings(updates=updates):  # the client keeps what it was made with
        return get_client(sync_client=True)


def class_auth(stack: Path) -> str | None:
    """The class's Prefect secret, on the instructor's host."""
    return read_secret_file(classroom_auth.prefect_auth_file(stack))


def set_up_orchestration(api_url: str, auth: str | None) -> dict[str, Any]:
    """The pool, the zombie automation and the class variable (idempotent: a restart finds them)."""
    from prefect.client.schemas.actions import VariableCreate, VariableUpdate, WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    info = {"work_pool": POOL}  # no address: anyone with the class's Prefect secret can rewrite a variable
    with _client(api_url, auth) as client:
        try:
            client.create_work_pool(WorkPoolCreate(name=POOL, type="process"))
        except ObjectAlreadyExists:
            pass
        if not client.read_automations_by_name(ZOMBIE_AUTOMATION):
            client.create_automation(_zombie_automation())
        if client.read_variable_by_name(CLASS_VARIABLE):
            client.update_variable(VariableUpdate(name=CLASS_VARIABLE, value=info))
        else:
            client.create_variable(VariableCreate(name=CLASS_VARIABLE, value=info))
    return info


def _zombie_automation() -> Any:
    """Prefect's recipe for zombie flow runs: a heartbeat not followed by another (or an end) in time."""
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    return AutomationCore(
        name=ZOMBIE_AUTOMATION,
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={
                "prefect.flow-run.heartbeat",
                "prefect.flow-run.Completed",
                "prefect.flow-run.Failed",
                "prefect.flow-run.Cancelled",
                "prefect.flow-run.Crashed",
            },
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=SILENT_S),
        ),
        actions=[ChangeFlowRunState(state=StateType.CRASHED, message=f"no heartbeat for {SILENT_S} s: worker lost")],
    )


def add_student_queue(api_url: str, student: str, auth: str | None) -> None:
    from prefect.exceptions import ObjectAlreadyExists

    with _client(api_url, auth) as client:
        try:
            client.create_work_queue(name=student_queue(student), work_pool_name=POOL)
        except ObjectAlreadyExists:
            pass


def join_class(settings: Settings) -> Settings:
    """A laptop's settings for the class at settings.stack_url: its MLflow server, its pool, this student."""
    if not settings.student:
        raise UsageError("the class server needs to know who you are", fix="set MLOPS_LEVELS_STUDENT=<your name>")
    if not os.environ.get("MLFLOW_TRACKING_USERNAME") or not os.environ.get("MLFLOW_TRACKING_PASSWORD"):
        raise UsageError(
            "no MLflow credentials in the environment",
            fix="set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (your instructor's <name>.env file)",
        )
    # The class's own MLflow when the stack's record gave it (the class host), else the instructor's file.
    tracking_uri = settings.tracking_uri or _tracking_uri_from_env(fix=FIX_FROM_ENV_FILE)
    info = class_info(str(settings.stack_url))
    return settings.with_(tracking_uri=tracking_uri, work_pool=info["work_pool"])


def _tracking_uri_from_env(fix: str) -> str:
    """The class's MLflow server as the instructor's <name>.env names it: the address MLflow passwords go to
    comes from a file the instructor handed out, not from the class variable any student can edit."""
    tracking_uri = os.environ.get("MLFLOW_TRACKING_URI", "")
    if not tracking_uri.startswith(("http://", "https://")):
        raise UsageError(
            "no class MLflow server in the environment (MLFLOW_TRACKING_URI)",
            fix=fix,
        )
    return tracking_uri


def class_info(api_url: str, auth: str | None = None) -> dict[str, Any]:
    """What a class server tells whoever holds its secret: its MLflow server and its work pool."""
    import httpx
    from prefect.exceptions import PrefectHTTPStatusError

    try:
        with _client(api_url, auth) as client:
            variable = client.read_variable_by_name(CLASS_VARIABLE)
    except PrefectHTTPStatusError as exc:
        if exc.response.status_code != 401:
            raise MlopsLevelsError(f"cannot reach the class server: {exc}", where=api_url) from None
        raise UsageError(
            "the class server refused: no or a wrong PREFECT_API_AUTH_STRING",
            where=api_url,
            fix=FIX_FROM_ENV_FILE,
        ) from None
    except (httpx.HTTPError, OSError) as exc:
        raise MlopsLevelsError(f"cannot reach the class server: {exc}", where=api_url) from None
    if variable is None:
        raise UsageError("this Prefect server is not a class server", where=api_url)
    value: dict[str, Any] = variable.value
    return value


def worker_command(
    settings: Settings, api_url: str, stack: Path | None, student: str | None, limit: int
) -> tuple[list[str], dict[str, str]]:
    """A Prefect process worker for the class pool: its command line (no secret) and its environment.

    On the instructor's host (`stack` given) it runs as the `worker` account, whose password file is
    there; elsewhere, or for one student's own queue, the credentials come from the environment.
    """
    env = {**os.environ, **QUIET, "PREFECT_API_URL": api_url, "MLFLOW_DISABLE_TELEMETRY": "true"}
    auth = env.get(PREFECT_CLIENT_AUTH) or (class_auth(stack) if stack is not None else None)
    if not auth:
        raise UsageError(
            "a worker needs the class's Prefect secret",
            fix="set PREFECT_API_AUTH_STRING (from stack/class/prefect-auth), or run it on the class server's host",
        )
    env[PREFECT_CLIENT_AUTH] = auth  # its flow runs inherit it: they report to the same server
    env["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] = str(HEARTBEAT_S)  # the zombie automation listens for these
    env["PREFECT_WORKER_QUERY_SECONDS"] = "2"  # a student waits for the pick-up: poll often (default 10 s)
    # The runs it executes read their stores and months from here (the levels' config.py), not from parameters.
    env.update(settings.data.to_env())
    # This worker sends its MLflow password to this address: on the host the stack's own record, elsewhere the
    # environment (the instructor's file); never the class variable, which every student can edit.
    env["MLFLOW_TRACKING_URI"] = _host_tracking_uri(stack) or _tracking_uri_from_env(
        fix="set MLFLOW_TRACKING_URI to the class's MLflow server (`stack status` on its host shows it)"
    )
    if not env.get("MLFLOW_TRACKING_USERNAME"):
        if stack is None or not classroom_auth.password_file(stack, classroom_auth.WORKER).exists():
            raise UsageError(
                "a worker needs MLflow credentials",
                fix="set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or run it on the class server's host",
            )
        env["MLFLOW_TRACKING_USERNAME"] = classroom_auth.WORKER
        env["MLFLOW_TRACKING_PASSWORD"] = classroom_auth.ensure_password(stack, classroom_auth.WORKER)
    prefect = str(Path(sys.executable).with_name("prefect"))
    command = [prefect, "worker", "start", "--pool", POOL, "--type", "process", "--limit", str(limit)]
    if student:
        command += ["--work-queue", student_queue(student)]
    return command, env


def _host_tracking_uri(stack: Path | None) -> str | None:
    """The class's MLflow server as the stack recorded it when it started it (None away from the host)."""
    import json

    if stack is None:
        return None
    try:
        url = json.loads((stack / "stack.json").read_text())["mlflow"]["url"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return url if isinstance(url, str) else None


def enrol(stack: Path, state: dict[str, Any], students: list[str]) -> list[dict[str, Any]]:
    """Add students: login, experiments, model, grants, queue, and a ready-to-hand-out <name>.env (mode 600)."""
    for student in students:  # every name checked before anything is created
        Settings(student=student)
    rows = []
    for student in students:
        row = classroom_auth.add_student(state["mlflow"]["url"], stack, student)
        add_student_queue(state["prefect"]["api_url"], student, class_auth(stack))
        row["env_file"] = str(write_student_env(stack, state, student))
        rows.append(row)
    return rows


def write_student_env(stack: Path, state: dict[str, Any], student: str) -> Path:
    """What a student sets (`set -a; . alice.env; set +a`) to use the class server: one URL, one login."""
    from common.atomic import write_secret

    path = classroom_auth.class_dir(stack) / "users" / f"{student}.env"
    write_secret(
        path,
        f"MLOPS_LEVELS_STACK_URL={state['prefect']['api_url']}\n"
        f"MLFLOW_TRACKING_URI={state['mlflow']['url']}\n"
        f"MLOPS_LEVELS_STUDENT={student}\n"
        f"MLFLOW_TRACKING_USERNAME={student}\n"
        f"MLFLOW_TRACKING_PASSWORD={classroom_auth.ensure_password(stack, student)}\n"
        # The class's one Prefect secret: every student holds the same (Prefect OSS has no accounts).
        f"PREFECT_API_AUTH_STRING={class_auth(stack) or ''}\n",
    )
    return path


def read_roster(path: Path) -> list[str]:
    """One student name per line; blank lines and # comments are skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the roster: {exc}", where=str(path)) from None
    return [name for line in lines if (name := line.split("#", 1)[0].strip())]
