"""`serve N` and `ui N`: long-running commands that hold servers until Ctrl-C (or SIGTERM, or a closed terminal).

Whatever such a command starts dies with it: a student who closes the terminal must not leave an
`mlflow server` holding port 5000 for the next class.
"""

from __future__ import annotations

import importlib
import socket
import threading
from pathlib import Path
from typing import Any

from common.errors import MlopsLevelsError, UsageError
from teaching.catalog import get_level
from teaching.infra.config import Settings, experiment_name

# MLflow 3's experiment tag for which view its UI opens (the values its UI knows: custom_model_development
# is the classic runs-and-metrics view, genai_development the traces one).
EXPERIMENT_KIND = "mlflow.experimentKind"
CLASSIC_ML = "custom_model_development"
CLASSIC_VIEW = "workflowType=machine_learning&compareRunsMode=CHART"


def serve_level(settings: Settings, level: int, host: str, port: int, options: dict[str, Any]) -> None:
    from teaching.infra.processes import signals_as_interrupt
    from teaching.infra.serving import port_is_free

    info = get_level(level)
    if not info.package:
        raise UsageError(f"level {level} has no service", fix="levels 1 to 4 serve predictions")
    if not port_is_free(port, host):
        raise UsageError(f"port {port} on {host} is taken", fix="pass --port with a free port")
    # The level's own serve command, run by teaching/drive/level_N.py.
    serve = importlib.import_module(f"teaching.drive.level_{level}").serve
    listening = _say_when_listening(host, port, f"Serving level {level} on http://{host}:{port} (Ctrl-C stops)")
    try:
        with signals_as_interrupt():  # SIGTERM and SIGHUP end it as Ctrl-C does: cleanly, children too
            serve(settings, host, port, options)
    except KeyboardInterrupt:
        pass
    finally:
        listening.set()


def _say_when_listening(host: str, port: int, message: str) -> threading.Event:
    """Print `message` once something accepts connections on the port; setting the event stops waiting.

    A level's serve loads its model and may train first (level 4), and can fail doing so: an address
    printed before that would send a student to a service that never came up.
    """
    stop = threading.Event()

    def wait() -> None:
        while not stop.is_set():
            try:
                with socket.create_connection((host, port), timeout=1):
                    pass
            except OSError:
                stop.wait(0.1)
                continue
            if not stop.is_set():
                print(message, flush=True)
            return

    threading.Thread(target=wait, name=f"listening-{port}", daemon=True).start()
    return stop


def _classic_view(store: Path, name: str) -> str | None:
    """The level's experiment id, marked as model training: MLflow 3's UI opens an unmarked experiment in
    its GenAI view (traces, an assistant panel), where a student's runs and metrics are hard to find."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{store}")
    found = client.get_experiment_by_name(name)
    if found is None:
        return None
    if found.tags.get(EXPERIMENT_KIND) != CLASSIC_ML:
        client.set_experiment_tag(found.experiment_id, EXPERIMENT_KIND, CLASSIC_ML)
    return str(found.experiment_id)


def open_uis(settings: Settings, level: int, host: str, port: int, console: Any) -> None:
    """The MLflow UI on the level's store, and the address of the workspace's Prefect UI, until Ctrl-C."""
    from filelock import FileLock

    from teaching.infra.processes import NeverAnswered, Readiness, run_owned, signals_as_interrupt
    from teaching.infra.services import (
        STARTUP_TIMEOUT_S,
        mlflow_server,
        running_prefect_api,
        running_prefect_secret_file,
    )
    from teaching.infra.serving import http_ok, port_is_free
    from teaching.infra.stores import check_sqlite_store

    store = settings.layout.mlflow_store(level)
    if not store.exists():
        raise UsageError(
            f"level {level} has no MLflow store yet",
            where=str(store),
            fix=f"run it first: {settings.command('run', level)}",
        )
    # `mlflow server` would migrate a damaged or foreign store, changing it. A `run` creating the store
    # holds this lock while MLflow builds its tables: half-built, the store would look damaged.
    with FileLock(settings.level_dir(level) / ".store.lock", timeout=120):
        check_sqlite_store(store)
        experiment = _classic_view(store, experiment_name(level, settings.student))
    if not port_is_free(port, host):
        raise UsageError(f"port {port} on {host} is taken", fix="pass --port with a free port")
    command, env = mlflow_server(
        f"sqlite:///{store}", settings.layout.artifacts(level), host, port, serve_artifacts=False
    )
    # The server's own request log is noise in a classroom terminal: it goes to a file unless --verbose.
    log = None if settings.verbose else settings.level_dir(level) / "mlflow-ui.log"
    answered: list[bool] = []

    def print_addresses() -> None:
        answered.append(True)
        # the classic view's runs with their metric charts (MLflow 3 opens its GenAI view otherwise); printed
        # whole (soft_wrap): a URL broken across lines is not one a terminal can open
        runs = f"/#/experiments/{experiment}/runs?{CLASSIC_VIEW}" if experiment else ""
        console.print(f"MLflow UI for level {level}: http://{host}:{port}{runs}", highlight=False, soft_wrap=True)
        prefect = running_prefect_api(settings)
        if prefect:
            # Its login asks for the server's secret: where to copy it from, never the secret itself.
            prefect_ui = f"{prefect.removesuffix('/api')}/runs"
            console.print(f"Prefect UI (flow runs):  {prefect_ui}", highlight=False, soft_wrap=True)
            if secret := running_prefect_secret_file(settings):
                console.print(f"Its login asks for the text of {secret}", highlight=False, soft_wrap=True)
        console.print(f"Ctrl-C stops.{f' Server log: {log}' if log else ''}", highlight=False)

    # An address printed before the server listens is refused for the ~11 s MLflow takes to start.
    health = f"http://{_reachable(host)}:{port}/health"
    ready = Readiness(lambda: http_ok(health, timeout=1.0), print_addresses, STARTUP_TIMEOUT_S)
    fix = "read that log, or run it again with --verbose"
    try:
        with signals_as_interrupt():  # a stop signal from here on ends the command cleanly, children too
            console.print(f"Starting the MLflow UI for level {level}…", style="dim", highlight=False)
            code = run_owned(
                command, env, cwd=settings.level_dir(level), log=log, ready=ready
            )  # not the person's folder
    except KeyboardInterrupt:
        return
    except NeverAnswered:
        raise MlopsLevelsError(
            f"the MLflow UI did not answer within {STARTUP_TIMEOUT_S} s (stopped it)",
            where=str(log) if log else None,
            fix=fix,
        ) from None
    if code != 0:
        what = "the MLflow UI stopped" if answered else "the MLflow UI did not start"
        raise MlopsLevelsError(what, where=str(log) if log else None, fix=fix)


def _reachable(host: str) -> str:
    """The address to reach a server bound to `host` from this machine (a wildcard bind answers on loopback)."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
