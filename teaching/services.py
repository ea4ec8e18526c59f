"""`serve N` and `ui N`: long-running commands that hold servers until Ctrl-C (or SIGTERM, or a closed terminal).

Whatever such a command starts dies with it: a student who closes the terminal must not leave an
`mlflow server` holding port 5000 for the next class.
"""

from __future__ import annotations

import contextlib
import importlib
import signal
import subprocess
from collections.abc import Iterator
from typing import Any

from common.config import Settings
from common.errors import MlopsLevelsError, UsageError
from levels.catalog import get_level


class Stopped(Exception):
    """SIGTERM or SIGHUP arrived: unwind like Ctrl-C so that `finally` blocks stop the children."""


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    def raise_stopped(signum: int, frame: Any) -> None:
        raise Stopped(signal.Signals(signum).name)

    previous = {s: signal.signal(s, raise_stopped) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    except (Stopped, KeyboardInterrupt):
        pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def stop_child(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """End a child started in its own process group, with everything it started, and wait for it."""
    import os

    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout)


def serve_level(settings: Settings, level: int, host: str, port: int, options: dict[str, Any]) -> None:
    from common.serving import port_is_free

    info = get_level(level)
    if not info.serve:
        raise UsageError(f"level {level} has no service", fix="levels 1 to 4 serve predictions")
    if not port_is_free(port, host):
        raise UsageError(f"port {port} on {host} is taken", fix="pass --port with a free port")
    module_name, _, function = info.serve.partition(":")
    serve = getattr(importlib.import_module(f"levels.level_{level}.{module_name}"), function)
    print(f"Serving level {level} on http://{host}:{port} (Ctrl-C stops)", flush=True)
    with stop_on_signals():
        serve(settings, host, port, options)


def open_uis(settings: Settings, level: int, host: str, port: int, console: Any) -> None:
    """The MLflow UI on the level's store, and the address of the workspace's Prefect UI, until Ctrl-C."""
    from common.services import mlflow_server, running_prefect_api
    from common.serving import http_ok, port_is_free

    store = settings.layout.mlflow_store(level)
    if not store.exists():
        raise UsageError(
            f"level {level} has no MLflow store yet", where=str(store), fix=f"run it first: mlops-levels run {level}"
        )
    if not port_is_free(port, host):
        raise UsageError(f"port {port} on {host} is taken", fix="pass --port with a free port")
    command, env = mlflow_server(f"sqlite:///{store}", settings.layout.artifacts(level), host, port)
    log = settings.level_dir(level) / "mlflow-ui.log"
    with open(log, "ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        with stop_on_signals():
            console.print(f"MLflow UI for level {level}: http://{host}:{port}", highlight=False)
            prefect = running_prefect_api(settings)
            if prefect:
                console.print(f"Prefect UI (flow runs):  {prefect.removesuffix('/api')}/runs", highlight=False)
            console.print("Ctrl-C stops.")
            if process.wait() != 0 and not http_ok(f"http://{host}:{port}/health"):
                raise MlopsLevelsError("the MLflow UI stopped", where=str(log), fix="read the log")
    finally:
        stop_child(process)
