"""Level 2+ · model_registry: every run adds a version of one registered model; aliases name the roles.

Stages (Staging/Production) are deprecated in MLflow 3: a version is `champion` because an alias says
so. At level 2 a person decides which version is champion (promote.py); level 3 automates that. Every
client gets the configured tracking URI explicitly, never whatever an earlier
call left global.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from common.errors import ArtifactError, TaxiDurationError
from taxi_duration.config import Config

CHAMPION = "champion"
VERSION_PATTERN = r"^[1-9][0-9]{0,8}$"  # ASCII digits, no leading zero: "١" and "02" are not how a registry names v2
TRAIN = "python -m taxi_duration.pipeline"


class UnknownVersion(TaxiDurationError):
    """No such version or alias in the registry."""


def registry_client(config: Config) -> MlflowClient:
    return MlflowClient(tracking_uri=config.tracking_uri, registry_uri=config.tracking_uri)


def require_store(config: Config) -> None:
    """For a command that only reads the registry (promote, serve): a sqlite store must exist already.
    MLflow would quietly create an empty one in whatever folder this runs from, then answer "no version
    4", which sends people looking for a lost model instead of for the right folder. Training creates
    the store (tracking.py); a platform may start on an empty one and wait for its first version."""
    parsed = urlparse(config.tracking_uri)
    if parsed.scheme != "sqlite" or parsed.path in ("", "/", "/:memory:"):
        return
    path = Path(unquote(parsed.path[1:]))  # sqlite:///mlflow.db is relative, sqlite:////abs/mlflow.db absolute
    if not path.is_file():
        raise TaxiDurationError(
            f"no MLflow store at {path.absolute()}: nothing was trained into it",
            fix="run this from the folder you trained in, or set MLFLOW_TRACKING_URI=sqlite:////path/to/mlflow.db",
        )


def register_version(config: Config, model_uri: str, run_id: str, model_id: str | None) -> str:
    """Add the logged model as the next version of the registered model (created on first use)."""
    client = registry_client(config)
    try:
        client.create_registered_model(config.model_name)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    created = client.create_model_version(config.model_name, model_uri, run_id=run_id, model_id=model_id)
    return str(created.version)


def resolve_version(config: Config, version_or_alias: str | None, fix: str | None = None) -> Any:
    """A model version by number or alias (default: champion), with a fix when there is none."""
    wanted = version_or_alias or CHAMPION
    client = registry_client(config)
    try:
        if wanted.isascii() and wanted.isdigit():
            return client.get_model_version(config.model_name, wanted)
        return client.get_model_version_by_alias(config.model_name, wanted)
    except MlflowException:
        raise UnknownVersion(
            f"model {config.model_name} has no version {wanted!r}", fix=fix or f"train one: {TRAIN}"
        ) from None


def model_location(config: Config, version: Any) -> str:
    """Where a version's model files are: a local folder, or a URI the tracking server resolves."""
    client = registry_client(config)
    model_id = str(version.source).removeprefix("models:/")
    try:
        location = str(client.get_logged_model(model_id).artifact_location)
    except MlflowException:
        location = str(version.source)
    parsed = urlparse(location)
    if parsed.scheme not in ("", "file"):  # a tracking server's artifact: load_version fetches it through it
        return location
    path = Path(unquote(parsed.path))  # MLflow 3 keeps a local store's locations as plain paths
    if not path.exists():
        raise ArtifactError(
            f"the files of {config.model_name} v{version.version} are missing",
            where=str(path),
            fix=f"restore them from a backup, or register a new version: {TRAIN}",
        )
    return str(path)


def load_version(config: Config, version: str) -> Any:
    """The fitted model of a registered version; a missing or unreadable artifact is an ArtifactError."""
    import mlflow.artifacts
    import mlflow.sklearn

    found = resolve_version(config, version)
    location = model_location(config, found)
    try:
        if not Path(location).exists():  # a tracking server's artifact: fetch it through that server
            location = mlflow.artifacts.download_artifacts(artifact_uri=location, tracking_uri=config.tracking_uri)
        return mlflow.sklearn.load_model(location)
    except Exception as exc:  # unpickling and file errors all mean one thing to the person reading
        raise ArtifactError(
            f"cannot load {config.model_name} v{found.version} ({type(exc).__name__})",
            where=location,
            fix=f"register a new version: {TRAIN}",
        ) from None
