"""Submit a level's flow to the class's work pool, wait while a worker runs it, and fetch what it produced.

The level's flow is deployed from its own folder with Prefect's own command (`prefect deploy
taxi_duration/pipeline.py:training_pipeline`, run there), the ordinary way: a worker on the class's host
runs it from that folder; no code is shipped and no image built. Parameters carry data months, model and
this student's names, never a credential: the worker logs to MLflow with its own. If the worker dies
mid-run (its heartbeats stop, the server marks the run Crashed), the run is submitted once more and
whichever worker is alive takes it. The result is read back from MLflow, where the flow tagged its run
with the flow run's id.
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from common.errors import MlopsLevelsError
from teaching.infra.config import Settings, experiment_name

if TYPE_CHECKING:
    from prefect.client.schemas.objects import FlowRun, State

FLOW_RUN_TAG = "prefect_flow_run_id"  # the levels' pipeline tags its run with it (taxi_duration/pipeline.py)
FLOW = "train-taxi-duration"
ENTRYPOINT = "taxi_duration/pipeline.py:training_pipeline"
POLL_S = 1.0
WAIT_LIMIT_S = 3600


def deploy(number: int, folder: Path, settings: Settings) -> str:
    """The level's training flow as a deployment of the class's pool; its name."""
    from teaching.infra.services import prefect_auth

    name = f"level-{number}"
    command = [sys.executable, "-m", "prefect", "--no-prompt", "deploy", ENTRYPOINT, "--name", name]
    env = {**os.environ, "PREFECT_API_URL": str(settings.stack_url), "PYTHONPATH": str(folder)}
    if auth := prefect_auth(settings, str(settings.stack_url)):  # the environment's, or the class host's file
        env["PREFECT_API_AUTH_STRING"] = auth
    done = subprocess.run(
        [*command, "--pool", str(settings.work_pool)], cwd=folder, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise MlopsLevelsError(
            f"cannot deploy level {number}'s flow to the class's pool: {said[-1] if said else done.returncode}",
            where=str(settings.stack_url),
        )
    return f"{FLOW}/{name}"


def submit_and_wait(
    number: int,
    folder: Path,
    settings: Settings,
    parameters: dict[str, Any],
    on_step: Callable[[str], None] = lambda step: None,
    attempts: int = 2,
) -> dict[str, Any]:
    from teaching.infra.classroom import student_queue

    name = deploy(number, folder, settings)
    queue = student_queue(settings.student) if settings.student else None
    experiment = experiment_name(number, settings.student)
    data = settings.data
    months = {"source": data.source, "color": data.color, "scenario": data.scenario, "seed": data.seed}
    names = {"model_name": settings.model_name, "experiment": experiment, "months": months}
    if data.synthetic_rows:
        months["synthetic_rows"] = data.synthetic_rows
    for attempt in range(1, attempts + 1):
        flow_run = _start(name, {**parameters, **names}, queue)
        state = _wait(flow_run.id, flow_run.name, on_step)
        if state.is_completed():
            return result_from_mlflow(str(settings.tracking_uri), experiment, str(flow_run.id))
        if not (state.is_crashed() and attempt < attempts):
            raise MlopsLevelsError(
                f"flow run {flow_run.name} ended {state.name}: {(state.message or '')[:200]}",
                fix="read its logs in the Prefect UI or `prefect flow-run logs`",
            )
        on_step(f"{flow_run.name} crashed (its worker was lost); submitting it again")
    raise AssertionError("unreachable")


def _start(name: str, parameters: dict[str, Any], queue: str | None) -> FlowRun:
    """Schedule a run of the deployment and return at once (timeout=0)."""
    from prefect.deployments import run_deployment

    flow_run = run_deployment(name, parameters=parameters, timeout=0, work_queue_name=queue)
    # Prefect's async_dispatch returns a coroutine only to a caller inside an event loop; this one never is.
    assert not inspect.isawaitable(flow_run)
    return flow_run


def _wait(flow_run_id: UUID, label: str, on_step: Callable[[str], None]) -> State:
    from prefect.client.orchestration import get_client

    deadline, shown = time.monotonic() + WAIT_LIMIT_S, ""
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            state = client.read_flow_run(flow_run_id).state
            if state is not None and state.is_final():
                return state
            if state is not None and state.name and state.name != shown:
                shown = state.name
                on_step(f"{label}: {shown.lower()} on the class's workers")
            time.sleep(POLL_S)
    raise MlopsLevelsError(f"flow run {label} did not finish within {WAIT_LIMIT_S} s", fix="is any worker running?")


def result_from_mlflow(tracking_uri: str, experiment: str, flow_run_id: str) -> dict[str, Any]:
    """What the flow returned, read back from the run it tagged with the flow run's id."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    found = client.get_experiment_by_name(experiment)
    runs = (
        client.search_runs([found.experiment_id], filter_string=f"tags.{FLOW_RUN_TAG} = '{flow_run_id}'")
        if found
        else []
    )
    parents = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]  # sweep candidates are nested
    versions = client.search_model_versions(f"run_id = '{parents[0].info.run_id}'") if parents else []
    if not parents or not versions:
        raise MlopsLevelsError(f"flow run {flow_run_id} completed but left no registered version", where=experiment)
    run, params = parents[0], parents[0].data.params
    return {
        "run_id": run.info.run_id,
        "experiment_id": run.info.experiment_id,
        "model_version": str(versions[0].version),
        "metrics": {name: run.data.metrics[name] for name in ("rmse_train", "rmse_val")},
        "params": {k: v for k, v in params.items() if k not in LOGGED_FACTS},
        "candidates": max(1, len(runs) - 1),  # a sweep's parent run holds one nested run per candidate
        "dropped": {role: {"invalid": int(params.get(f"{role}_rows_dropped_invalid", 0))} for role in ("train", "val")},
    }


# What the pipeline logs as parameters besides the model's own hyperparameters.
LOGGED_FACTS = {
    "model",
    "features",
    "train_data",
    "val_data",
    "train_rows",
    "val_rows",
    "train_rows_dropped_invalid",
    "val_rows_dropped_invalid",
}
