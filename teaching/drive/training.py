"""Levels 2-4 train with their own pipeline command (`python -m taxi_duration.pipeline`), from outside.

Around it the toolkit does what the level need not know about: the workspace's Prefect server, the check
of the workspace's MLflow store before MLflow touches it (a damaged store is one line, never migrated),
and, on a class server, the submission of the level's flow to the class's work pool.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from teaching.infra.config import Settings
from teaching.infra.secrets import lineage_env
from teaching.levelproc import level_folder, run_json, tracking_uri

PIPELINE = "taxi_duration.pipeline"


@contextlib.contextmanager
def store_ready(number: int, settings: Settings) -> Iterator[None]:
    """The level's sqlite store checked, and held for this command while MLflow may be creating it."""
    if settings.tracking_uri:  # a tracking server looks after its own store
        yield
        return
    from filelock import FileLock

    from teaching.infra.stores import check_sqlite_store

    settings.level_dir(number).mkdir(parents=True, exist_ok=True)
    # The first run builds the store (MLflow's migrations); `ui N` checks it under the same lock.
    with FileLock(settings.level_dir(number) / ".store.lock", timeout=600):
        store = settings.layout.mlflow_store(number)
        if store.exists():
            check_sqlite_store(store, thorough=True)
        yield


def prefect_env(settings: Settings) -> dict[str, str]:
    """The Prefect server a level's flow reports to (the class's, the person's, or the workspace's own), and
    the secret its API asks for."""
    from teaching.infra.services import prefect_client_env

    return prefect_client_env(settings)


def train(
    number: int,
    settings: Settings,
    train_data: str,
    val_data: str,
    model: str,
    features: str = "pu_do",
    sweep: bool = False,
    on_step: Callable[[str], None] = lambda step: None,
) -> dict[str, Any]:
    """Train, evaluate, log and register one version with level NUMBER's pipeline; what it reports."""
    if settings.work_pool:  # a class server: a worker runs the level's flow with its own credentials
        from teaching.infra.classroom_submit import submit_and_wait
        from teaching.infra.services import prefect_settings

        parameters = {"train_data": train_data, "val_data": val_data, "model": model, "features": features}
        with prefect_settings(settings):  # this process's Prefect client talks to the class server
            return submit_and_wait(number, level_folder(number), settings, parameters | {"sweep": sweep}, on_step)
    args = ["--train-data", train_data, "--val-data", val_data, "--model", model, "--features", features, "--json"]
    # From level 3 the pipeline signs the lineage of what it registers, with the workspace's private key.
    signing = lineage_env(settings, signs=True) if number >= 3 else {}
    with store_ready(number, settings):
        extra = {**prefect_env(settings), **signing}
        return run_json(number, PIPELINE, args + (["--sweep"] if sweep else []), settings, extra)


def registry_versions(number: int, settings: Settings, limit: int = 5) -> list[dict[str, str]]:
    """The newest versions in the level's registry, as a table's rows (the toolkit reads the store itself)."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient(tracking_uri=tracking_uri(number, settings), registry_uri=tracking_uri(number, settings))
    try:
        found = client.search_model_versions(f"name='{settings.model_name}'")
    except MlflowException:
        return []
    newest = sorted(found, key=lambda v: int(v.version), reverse=True)[:limit]
    rows = []
    for version in newest:  # search results leave the aliases out; fetching each version brings them
        full = client.get_model_version(settings.model_name, str(version.version))
        rows.append(
            {"version": str(full.version), "aliases": ", ".join(full.aliases) or "—", "run": (full.run_id or "")[:8]}
        )
    return rows


def load_registered(number: int, settings: Settings, version: str) -> Any:
    """A version from level NUMBER's registry, loaded by the toolkit itself (to score it on later months)."""
    import mlflow.artifacts
    import mlflow.sklearn
    from mlflow import MlflowClient

    # A client of its own, not mlflow.set_tracking_uri: that would leave MLFLOW_TRACKING_URI set in this
    # process, for the next command to take for the person's choice.
    uri = tracking_uri(number, settings)
    source = MlflowClient(tracking_uri=uri, registry_uri=uri).get_model_version_download_uri(
        settings.model_name, version
    )
    return mlflow.sklearn.load_model(mlflow.artifacts.download_artifacts(artifact_uri=source, tracking_uri=uri))
