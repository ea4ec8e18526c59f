"""A PostgreSQL cluster inside the workspace (initdb/pg_ctl), for the stack's MLflow and Prefect servers.

The password never appears on a command line: it is written once to <stack>/db-password (mode 600
from its first byte), handed to initdb as a --pwfile, and to every client (mlflow, prefect, createdb)
through a libpq password file named by PGPASSFILE. Connection URIs carry no password at all.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

from common.atomic import write_secret
from common.errors import MlopsLevelsError
from teaching.infra.secrets import without_secrets
from teaching.infra.serving import LOCALHOST, free_port

DB_USER = "mlops"


def pg_bin(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise MlopsLevelsError(
            f"PostgreSQL's {name} is not installed",
            fix="install PostgreSQL (e.g. apt-get install postgresql) or use the sqlite default",
        )
    return found


def as_db_owner(command: list[str], folder: Path) -> list[str]:
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


def password(stack: Path) -> str:
    """Generated once with the database and kept beside it (mode 600): restarts reuse it."""
    path = stack / "db-password"
    if not path.exists():
        write_secret(path, secrets.token_urlsafe(18))
    return path.read_text().strip()


def client_env(stack: Path) -> dict[str, str]:
    """Environment for any PostgreSQL client of the stack: libpq and asyncpg read the password from PGPASSFILE."""
    passfile = stack / "pgpass"
    write_secret(passfile, f"{LOCALHOST}:*:*:{DB_USER}:{password(stack)}\n")
    return {"PGPASSFILE": str(passfile)}


def database_uri(driver: str, port: int, database: str) -> str:
    return f"postgresql+{driver}://{DB_USER}@{LOCALHOST}:{port}/{database}"


def start(stack: Path, databases: list[str]) -> dict[str, Any]:
    """initdb (first time), start the server on a free port, create the databases; returns its record."""
    folder = stack / "postgres"
    data, port = folder / "data", free_port()
    folder.mkdir(parents=True, exist_ok=True)
    if not (data / "PG_VERSION").exists():
        pwfile = folder / "pwfile"
        write_secret(pwfile, password(stack))
        try:
            initdb = [pg_bin("initdb"), "-D", str(data), "-U", DB_USER, "--auth=scram-sha-256", f"--pwfile={pwfile}"]
            _run(as_db_owner([*initdb, "-E", "UTF8"], folder), "initdb")
        finally:
            pwfile.unlink(missing_ok=True)
    options = f"-h {LOCALHOST} -p {port} -k {folder}"
    command = [pg_bin("pg_ctl"), "-D", str(data), "-l", str(folder / "postgres.log"), "-w", "-t", "60"]
    _run(as_db_owner([*command, "start", "-o", options], folder), "pg_ctl start")
    env = {**without_secrets(), **client_env(stack)}  # an ambient PGPASSWORD would win over the passfile
    for name in databases:
        created = subprocess.run(
            [pg_bin("createdb"), "-h", LOCALHOST, "-p", str(port), "-U", DB_USER, name],
            env=env,
            capture_output=True,
            text=True,
        )
        if created.returncode != 0 and "already exists" not in created.stderr:
            raise MlopsLevelsError(f"createdb failed: {created.stderr.strip()}", where=str(folder / "postgres.log"))
    return {"data": str(data), "port": port}


def stop(stack: Path, data: str) -> None:
    """pg_ctl stop -w: returns once the postmaster and its children have exited."""
    folder = stack / "postgres"
    if not (Path(data) / "postmaster.pid").exists():
        return
    subprocess.run(
        as_db_owner([pg_bin("pg_ctl"), "-D", data, "-m", "fast", "-w", "-t", "60", "stop"], folder),
        capture_output=True,
    )


def is_ready(port: int) -> bool:
    return subprocess.run([pg_bin("pg_isready"), "-h", LOCALHOST, "-p", str(port)], capture_output=True).returncode == 0


def _run(command: list[str], what: str) -> None:
    # pg_ctl starts the server that stays up: it gets none of this command's credentials.
    out = subprocess.run(command, capture_output=True, text=True, env=without_secrets())
    if out.returncode != 0:
        raise MlopsLevelsError(f"{what} failed: {(out.stderr or out.stdout).strip()[-300:]}")
