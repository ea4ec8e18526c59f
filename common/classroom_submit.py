"""Submit a level's flow to the class's work pool, wait while a worker runs it, and fetch what it produced.

The flow is deployed by module path (`levels.level_2.pipeline.training_pipeline`), so any worker with
the toolkit installed can import it; no code is shipped and no image built. Parameters carry data
months, model and settings, never a credential: the worker logs to MLflow with its own. If the
worker dies mid-run (its heartbeats stop, the server marks the run Crashed), the run is submitted
once more and whichever worker is alive takes it. The result is read back from MLflow, where the
flow tagged its run with the flow run's id.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from common.config import Settings
from common.errors import MlopsLevelsError

if TYPE_CHECKING:
    from prefect import Flow
    from prefect.client.schemas.objects import FlowRun, State

RESULT_TAG = "mlops_levels.result"
FLOW_RUN_TAG = "prefect_flow_run_id"
# What a worker must not inherit from the laptop: where it keeps files, and whether to submit again.
LAPTOP_ONLY = ("workspace", "verbose", "stack_url", "work_pool")
POLL_S = 1.0
WAIT_LIMIT_S = 3600


def flow_parameters(settings: Settings, **parameters: Any) -> dict[str, Any]:
    plain = {name: value for name, value in settings.as_plain().items() if name not in LAPTOP_ONLY}
    return {**parameters, "settings": plain}


def deployment_name(flow: Flow[..., Any]) -> str:
    """One deployment per level: `levels.level_2.pipeline` -> `level-2`."""
    return flow.fn.__module__.split(".")[1].replace("_", "-")


def deploy(flow: Flow[..., Any], work_pool: str) -> str:
    from prefect.deployments.runner import EntrypointType

    # deploy() prints a table of deployments; the laptop's output is the CLI's own.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        flow.deploy(
            name=deployment_name(flow),
            work_pool_name=work_pool,
            entrypoint_type=EntrypointType.MODULE_PATH,
            build=False,
            push=False,
            print_next_steps=False,
            ignore_warnings=True,
        )
    return f"{flow.name}/{deployment_name(flow)}"


def submit_and_wait(
    flow: Flow[..., Any],
    settings: Settings,
    experiment_id: str,
    parameters: dict[str, Any],
    on_step: Callable[[str], None] = lambda step: None,
    attempts: int = 2,
) -> dict[str, Any]:
    from common.classroom import student_queue

    name = deploy(flow, str(settings.work_pool))
    queue = student_queue(settings.student) if settings.student else None
    for attempt in range(1, attempts + 1):
        flow_run = _start(name, flow_parameters(settings, **parameters), queue)
        state = _wait(flow_run.id, flow_run.name, on_step)
        if state.is_completed():
            return result_from_mlflow(experiment_id, str(flow_run.id))
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


def result_from_mlflow(experiment_id: str, flow_run_id: str) -> dict[str, Any]:
    """The flow's return value, as it tagged its parent run (the tracking URI is already set)."""
    from mlflow import MlflowClient

    found = MlflowClient().search_runs([experiment_id], filter_string=f"tags.{FLOW_RUN_TAG} = '{flow_run_id}'")
    runs = [run for run in found if RESULT_TAG in run.data.tags]  # the parent run; sweep candidates are nested
    if not runs:
        raise MlopsLevelsError(f"flow run {flow_run_id} completed but left no tracked run", where=experiment_id)
    result: dict[str, Any] = json.loads(runs[0].data.tags[RESULT_TAG])
    return result
