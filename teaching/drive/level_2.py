"""`mlops-levels run 2` and `serve 2`: the level's pipeline, then its registry; the service by its command."""

from __future__ import annotations

import shlex
import sys
import time
from typing import Any

from teaching.drive.training import prefect_env, registry_versions, train
from teaching.infra.config import Settings
from teaching.infra.runs import RunReport, RunRequest
from teaching.levelproc import level_folder, serve_command, tracking_uri

LEVEL = 2


def main(request: RunRequest) -> RunReport:
    settings = request.settings
    request.on_step("connect to the workspace's Prefect server (first time: ~10 s to start it)")
    started = time.perf_counter()
    prefect_env(settings)  # started now, so its seconds show as their own step
    server_seconds = time.perf_counter() - started
    request.on_step("load → prepare → train → evaluate → log → register: python -m taxi_duration.pipeline")
    flow_started = time.perf_counter()
    sweep = bool(request.options.get("sweep"))
    result = train(
        LEVEL, settings, request.train_data, request.val_data, request.model, request.features, sweep, request.on_step
    )
    flow_seconds = time.perf_counter() - flow_started
    return request.report(
        LEVEL,
        metrics={
            **result["metrics"],
            "candidates": result["candidates"],
            "rows_dropped_invalid": result["dropped"]["train"]["invalid"] + result["dropped"]["val"]["invalid"],
        },
        artifacts={
            "mlflow run": result["run_id"],
            "registered version": f"{settings.model_name} v{result['model_version']}",
            "tracking uri": tracking_uri(LEVEL, settings),
        },
        details={
            "prefect_server_seconds": round(server_seconds, 2),
            "flow_seconds": round(flow_seconds, 2),
            "best_params": result["params"] or "defaults",
            "registry (newest first)": registry_versions(LEVEL, settings),
        },
        manual_steps=[
            f"promote: {_promote_command(settings, result['model_version'])}",
            f"deploy: restart `{request.settings.command('serve', 2)}` to pick up the new champion",
        ],
        serving={"kind": "registry", "version": str(result["model_version"])},  # once a person promotes it
    )


def _promote_command(settings: Settings, version: object) -> str:
    """Level 2's manual step as a shell line that works as printed: the level's own command, in its folder,
    told where this workspace's store is (on its own it would look for mlflow.db in the level's folder)."""
    env = f"MLFLOW_TRACKING_URI={shlex.quote(tracking_uri(LEVEL, settings))}"
    if settings.student:
        env += f" MODEL_NAME={shlex.quote(settings.model_name)}"
    folder = shlex.quote(str(level_folder(LEVEL)))
    return f"cd {folder} && {env} {shlex.quote(sys.executable)} -m taxi_duration.promote --version {version}"


def serve(settings: Settings, host: str, port: int, options: dict[str, Any]) -> None:
    """`mlops-levels serve 2`: the level's own serve command on the champion (or --version), until Ctrl-C."""
    serve_command(
        LEVEL,
        settings,
        "taxi_duration.serve",
        host,
        port,
        ["--version", options["version"]] if options.get("version") else [],
    )
