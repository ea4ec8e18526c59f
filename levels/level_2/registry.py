"""Level 2+ · model_registry: every run adds a version of one registered model; aliases name the roles.

Stages (Staging/Production) are deprecated in MLflow 3: a version is `champion` because an alias says
so. At level 2 a person decides which version is champion (`promote.py`); level 3 automates that.

Every client gets the level's tracking URI explicitly (never whatever an earlier call left global),
and a version's files are found through the workspace, so a workspace moved to another folder still
serves the models it holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from common.config import Settings
from common.errors import ArtifactError, MlopsLevelsError
from levels.level_2.tracking import tracking_uri

LEVEL = int(__name__.split(".")[1].removeprefix("level_"))  # carried forward unchanged into levels 3-4
CHAMPION = "champion"
VERSION_PATTERN = r"^[1-9][0-9]{0,8}$"  # ASCII digits, no leading zero: "١" and "02" are not how a registry names v2


class UnknownVersion(MlopsLevelsError):
    """No such version or alias in the registry."""


def registry_client(settings: Settings) -> MlflowClient:
    return MlflowClient(tracking_uri=tracking_uri(settings), registry_uri=tracking_uri(settings))


def register_version(settings: Settings, model_uri: str, run_id: str, model_id: str | None) -> str:
    """Add the logged model as the next version of the registered model (created on first use)."""
    client = registry_client(settings)  # [exercise: register-champion]
    try:
        client.create_registered_model(settings.model_name)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    created = client.create_model_version(settings.model_name, model_uri, run_id=run_id, model_id=model_id)
    return str(created.version)  # [/exercise: register-champion]


# [model_registry]
def promote(settings: Settings, version: str, alias: str = CHAMPION) -> None:  # [exercise: register-champion]
    client = registry_client(settings)
    resolve_version(settings, version, fix="list them with: python levels/level_2/promote.py --list")
    client.set_registered_model_alias(settings.model_name, alias, version)


def resolve_version(settings: Settings, version_or_alias: str | None, fix: str | None = None) -> Any:
    """A model version by number or alias (default: champion), with a fix when there is none."""
    wanted = version_or_alias or CHAMPION
    client = registry_client(settings)
    try:
        if wanted.isascii() and wanted.isdigit():
            return client.get_model_version(settings.model_name, wanted)
        return client.get_model_version_by_alias(settings.model_name, wanted)
    except MlflowException:
        raise UnknownVersion(
            f"model {settings.model_name} has no version {wanted!r}", fix=fix or f"train one: mlops-levels run {LEVEL}"
        ) from None


def latest_versions(settings: Settings, limit: int = 10) -> list[Any]:
    client = registry_client(settings)
    try:
        versions = client.search_model_versions(f"name='{settings.model_name}'")
    except MlflowException:
        return []
    newest = sorted(versions, key=lambda v: int(v.version), reverse=True)[:limit]
    # search results leave the aliases out; fetching each version brings them
    return [client.get_model_version(settings.model_name, str(v.version)) for v in newest]


def model_location(settings: Settings, version: Any) -> str:
    """Where a version's model files are: a local folder (found through this workspace) or a remote URI."""
    client = registry_client(settings)
    model_id = str(version.source).removeprefix("models:/")
    try:
        location = str(client.get_logged_model(model_id).artifact_location)
    except MlflowException:
        location = str(version.source)
    if not location.startswith("file:"):
        return location
    path = Path(unquote(urlparse(location).path))
    # The store keeps absolute paths. Resolving them through this workspace keeps a moved or copied
    # workspace serving its own files (never the files of the folder it was copied from).
    marker = "mlartifacts"
    if marker in path.parts:
        here = settings.layout.artifacts(LEVEL).joinpath(*path.parts[path.parts.index(marker) + 1 :])
        if here.exists():
            return str(here)
        path = here
    elif path.exists():
        return str(path)
    raise ArtifactError(
        f"the files of {settings.model_name} v{version.version} are missing",
        where=str(path),
        fix="restore the workspace from a backup, or register a new version: mlops-levels run " + str(LEVEL),
    )


def load_version(settings: Settings, version: str) -> Any:
    """The fitted model of a registered version; a missing or unreadable artifact is an ArtifactError."""
    import mlflow.artifacts
    import mlflow.sklearn

    found = resolve_version(settings, version)
    location = model_location(settings, found)
    try:
        if not Path(location).exists():  # a tracking server's artifact: fetch it through that server
            location = mlflow.artifacts.download_artifacts(artifact_uri=location, tracking_uri=tracking_uri(settings))
        return mlflow.sklearn.load_model(location)
    except Exception as exc:  # unpickling and file errors all mean one thing to the person reading
        raise ArtifactError(
            f"cannot load {settings.model_name} v{found.version} ({type(exc).__name__})",
            where=location,
            fix="register a new version: mlops-levels run " + str(LEVEL),
        ) from None
