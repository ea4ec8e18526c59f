"""The class server's MLflow side: its basic-auth app, accounts, and who may touch which experiment and model.

MLflow's basic-auth app (`mlflow server --app-name basic-auth`) keeps users and grants in a database of
its own (PostgreSQL here). Everything a student has is created by the admin and then granted: their
experiments (one per level) and their registered model, MANAGE for them, EDIT for the `worker` account
that runs flows on the class's workers, nothing for anyone else (default_permission = NO_PERMISSIONS).
The admin reads everything. Passwords live in files of mode 600 under <stack>/class/, never in argv.

The class's Prefect server asks for one secret, <stack>/class/prefect-auth (mode 600): Prefect OSS has
one shared credential, not accounts, so it keeps out other local users and the network, not one student
from another (docs/scale-out.md says who can do what).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import httpx

from common.atomic import write_secret
from common.errors import MlopsLevelsError, UsageError
from teaching.infra.config import MODEL_NAME, experiment_name

ADMIN, WORKER = "admin", "worker"
LEVELS_WITH_TRACKING = (2, 3, 4)
# Without a grant a user sees nothing: the isolation between students rests on this line.
DEFAULT_PERMISSION = "NO_PERMISSIONS"


def class_dir(stack: Path) -> Path:
    return stack / "class"


def password_file(stack: Path, user: str) -> Path:
    return class_dir(stack) / "users" / f"{user}.password"


def prefect_auth_file(stack: Path) -> Path:
    """The class's Prefect secret: the class server's API asks every request for it."""
    return class_dir(stack) / "prefect-auth"


def ensure_password(stack: Path, user: str) -> str:
    path = password_file(stack, user)
    if not path.exists():
        write_secret(path, secrets.token_urlsafe(18))
    return path.read_text().strip()


def server_env(stack: Path, auth_db_uri: str) -> dict[str, str]:
    """Environment of an `mlflow server --app-name basic-auth`: the config file path and the CSRF key."""
    config = class_dir(stack) / "basic_auth.ini"
    write_secret(
        config,
        "[mlflow]\n"
        f"default_permission = {DEFAULT_PERMISSION}\n"
        f"database_uri = {auth_db_uri}\n"
        f"admin_username = {ADMIN}\n"
        f"admin_password = {ensure_password(stack, ADMIN)}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        # Each request otherwise re-hashes its password (PBKDF2): most of a run's time on 2 cores.
        "auth_cache_ttl_seconds = 60\n",
    )
    secret_key = class_dir(stack) / "flask-secret-key"
    if not secret_key.exists():
        write_secret(secret_key, secrets.token_hex(32))
    return {"MLFLOW_AUTH_CONFIG_PATH": str(config), "MLFLOW_FLASK_SERVER_SECRET_KEY": secret_key.read_text()}


def experiment_names(student: str) -> list[str]:
    return [experiment_name(level, student) for level in LEVELS_WITH_TRACKING]


class AdminClient:
    """The MLflow REST calls the instructor makes, authenticated as admin."""

    def __init__(self, url: str, stack: Path) -> None:
        self.http = httpx.Client(base_url=url, auth=(ADMIN, ensure_password(stack, ADMIN)), timeout=30)

    def call(self, method: str, path: str, *, ok: tuple[str, ...] = (), **kwargs: Any) -> dict[str, Any]:
        response = self.http.request(method, path, **kwargs)
        if response.status_code == 200:
            return response.json() if response.content else {}
        error = response.json().get("error_code", "") if response.content.startswith(b"{") else ""
        if error in ok:
            return {}
        raise MlopsLevelsError(f"MLflow refused {path}: {response.status_code} {response.text[:200]}")

    def create_user(self, user: str, password: str) -> bool:
        """False when the user already exists (then its password is left as it is)."""
        body = {"username": user, "password": password}
        return bool(self.call("POST", "/api/2.0/mlflow/users/create", json=body, ok=("RESOURCE_ALREADY_EXISTS",)))

    def update_password(self, user: str, password: str) -> None:
        self.call("PATCH", "/api/2.0/mlflow/users/update-password", json={"username": user, "password": password})

    def experiment_id(self, name: str) -> str:
        self.call("POST", "/api/2.0/mlflow/experiments/create", json={"name": name}, ok=("RESOURCE_ALREADY_EXISTS",))
        found = self.call("GET", "/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": name})
        return str(found["experiment"]["experiment_id"])

    def ensure_model(self, name: str) -> None:
        body = {"name": name}
        self.call("POST", "/api/2.0/mlflow/registered-models/create", json=body, ok=("RESOURCE_ALREADY_EXISTS",))

    def grant(self, user: str, resource_type: str, resource_id: str, permission: str) -> None:
        grant = {"username": user, "resource_type": resource_type, "resource_id": resource_id, "permission": permission}
        self.call("POST", "/api/3.0/mlflow/users/permissions/grant", json=grant)


def add_student(url: str, stack: Path, student: str) -> dict[str, Any]:
    """A login, one experiment per level and a registered model, granted to the student (and the workers)."""
    if student in (ADMIN, WORKER):
        raise UsageError(f"{student!r} is reserved for the class server itself", fix="choose another name")
    admin = AdminClient(url, stack)
    created = admin.create_user(student, ensure_password(stack, student))
    experiments = {name: admin.experiment_id(name) for name in experiment_names(student)}
    model = f"{MODEL_NAME}-{student}"
    admin.ensure_model(model)
    for user, permission in ((student, "MANAGE"), (WORKER, "EDIT")):
        for experiment_id in experiments.values():
            admin.grant(user, "experiment", experiment_id, permission)
        admin.grant(user, "registered_model", model, permission)
    return {"student": student, "created": created, "experiments": list(experiments), "model": model}


def ensure_worker_account(url: str, stack: Path) -> None:
    AdminClient(url, stack).create_user(WORKER, ensure_password(stack, WORKER))


def rotate_password(url: str, stack: Path, user: str) -> Path:
    """A new password for `user` (the admin too): set on the server first, then written to its file."""
    new = secrets.token_urlsafe(18)
    AdminClient(url, stack).update_password(user, new)
    write_secret(password_file(stack, user), new)
    return password_file(stack, user)
