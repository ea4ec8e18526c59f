"""Run a level's own commands the way a student would, configured by the tools' own environment.

A level is a project of its own (`levels/level_N/`, package `taxi_duration`, the same name at every
level), so the toolkit never imports it: it runs `python -m taxi_duration.<command>` with the level's
folder on PYTHONPATH (as an install would put it) and the level's workspace folder as the working
directory, so that whatever the project keeps beside itself (`mlflow.db`, `mlruns/`, `platform/`) lands
in the workspace. It hands over where the months come from (TAXI_*, common/datasource.py) and the
tools' own variables (MLFLOW_TRACKING_URI, PREFECT_API_URL, …), and reads back what the command printed.
An error the level reports (its one `error: …` line and exit code) reaches the student unchanged.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from common.errors import MlopsLevelsError
from teaching.catalog import get_level
from teaching.infra.config import Settings, experiment_name
from teaching.infra.secrets import TOKEN_ENV, ensure_admin_token, token_file
from teaching.infra.serving import LOCALHOST, answers, free_port

ERROR_PREFIX = "error: "


class LevelCommandFailed(MlopsLevelsError):
    """A level's command failed: its own one-line error, with its own exit code."""

    def __init__(self, line: str, exit_code: int) -> None:
        super().__init__(line)
        self.exit_code = exit_code


def level_folder(number: int) -> Path:
    return get_level(number).folder


def tracking_uri(number: int, settings: Settings) -> str:
    """The level's store in the workspace, unless a tracking server was asked for."""
    return settings.tracking_uri or f"sqlite:///{settings.layout.mlflow_store(number)}"


def level_env(number: int, settings: Settings, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """What a level's command reads: the person's environment (its credentials included: the command ends
    with this one), the level on PYTHONPATH, where the months come from, and the tools' own variables."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(level_folder(number)), env.get("PYTHONPATH")) if p)
    env.update(settings.data.to_env())
    env.update(
        {
            "MLFLOW_TRACKING_URI": tracking_uri(number, settings),
            "MLFLOW_EXPERIMENT_NAME": experiment_name(number, settings.student),
            "MODEL_NAME": settings.model_name,
            "PLATFORM_STATE_DIR": str(settings.layout.platform(number)),
        }
    )
    # A level run by the toolkit is quiet unless --verbose: the toolkit says what happened, once.
    env.setdefault("PREFECT_LOGGING_LEVEL", "DEBUG" if settings.verbose else "WARNING")
    env.update(extra or {})
    return env


def workdir(number: int, settings: Settings) -> Path:
    folder = settings.level_dir(number)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def command(module: str, args: list[str]) -> list[str]:
    return [sys.executable, "-m", module, *args]


def failure(number: int, done: subprocess.CompletedProcess[str]) -> LevelCommandFailed:
    """The level's own error line when it printed one, else the last line it wrote."""
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    said = next((line for line in reversed(lines) if line.startswith(ERROR_PREFIX)), None)
    if said is not None:
        return LevelCommandFailed(said.removeprefix(ERROR_PREFIX), done.returncode)
    last = lines[-1] if lines else f"exit code {done.returncode}"
    return LevelCommandFailed(f"level {number}'s command failed: {last}", done.returncode or 1)


def run_json(
    number: int, module: str, args: list[str], settings: Settings, extra: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Run level NUMBER's `python -m MODULE ARGS`; the JSON it prints on stdout."""
    done = subprocess.run(
        command(module, args),
        cwd=workdir(number, settings),
        env=level_env(number, settings, extra),
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise failure(number, done)
    try:
        result: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise MlopsLevelsError(
            f"level {number}'s `python -m {module}` printed no JSON", fix="run it with --verbose to see its output"
        ) from None
    return result


@contextlib.contextmanager
def level_server(
    number: int,
    module: str,
    args: list[str],
    settings: Settings,
    extra: Mapping[str, str] | None = None,
    startup_timeout: float = 90.0,
    host: str = LOCALHOST,
    port: int | None = None,
) -> Iterator[str]:
    """A level's service started by its own command on a free port of 127.0.0.1; its URL until the block ends.

    Its log goes to a file in the level's workspace folder (a pipe nobody reads would fill and stall it).
    """
    port = port or free_port()
    url = f"http://{LOCALHOST if host in ('0.0.0.0', '::') else host}:{port}"
    log = settings.level_dir(number) / "service.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w", encoding="utf-8") as output:
        process = subprocess.Popen(
            command(module, [*args, "--host", host, "--port", str(port)]),
            cwd=workdir(number, settings),
            env=level_env(number, settings, extra),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + startup_timeout
        # Any answer will do: a platform with nothing deployed yet says 503 on /health, and is up.
        while not answers(f"{url}/health", timeout=1.0):
            if process.poll() is not None:
                said = log.read_text(encoding="utf-8", errors="replace")
                raise failure(number, subprocess.CompletedProcess(process.args, process.returncode, "", said))
            if time.monotonic() > deadline:
                raise MlopsLevelsError(
                    f"level {number}'s service did not answer within {startup_timeout:.0f} s", where=str(log)
                )
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def require_store(number: int, settings: Settings) -> None:
    """A level that serves from its registry needs a whole one: say so before any server starts (MLflow,
    handed a damaged store, would start migrating it, or serve from an empty one)."""
    if settings.tracking_uri:
        return
    from teaching.infra.stores import check_sqlite_store

    store = settings.layout.mlflow_store(number)
    if not store.exists():
        raise MlopsLevelsError(
            f"level {number} has no registry yet",
            where=str(store),
            fix=f"run it first: {settings.command('run', number)}",
        )
    check_sqlite_store(store, thorough=True)


def serve_command(
    number: int,
    settings: Settings,
    module: str,
    host: str,
    port: int,
    args: list[str],
    extra: Mapping[str, str] | None = None,
) -> None:
    """A level's service in the foreground until Ctrl-C (`serve N`); it says its address once it listens,
    and its own one-line error if it cannot start."""
    from teaching.infra.processes import run_owned

    full = command(module, [*args, "--host", host, "--port", str(port)])
    code = run_owned(full, level_env(number, settings, extra), cwd=workdir(number, settings))
    if code not in (0, -2, -15, 130, 143):  # a stop signal or Ctrl-C is how a service is meant to end
        raise LevelCommandFailed(f"level {number}'s service did not start (its reason is above)", code)


def platform_token_env(settings: Settings) -> dict[str, str]:
    """Where a platform (levels 3-4) started by the toolkit finds its admin token: the person's own, else the
    workspace's 0600 file, which the platform reads itself (a token never sits on a command line)."""
    if os.environ.get(TOKEN_ENV):
        return {"PLATFORM_ADMIN_TOKEN": os.environ[TOKEN_ENV]}
    ensure_admin_token(settings)
    return {"PLATFORM_ADMIN_TOKEN_FILE": str(token_file(settings))}
