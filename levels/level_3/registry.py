"""Level 2+ · model_registry: every run adds a version of one registered model; aliases name the roles.

Stages (Staging/Production) are deprecated in MLflow 3: a version is `champion` because an alias says
so. At level 2 a person decides which version is champion (`promote.py`); level 3 automates that.
"""

from __future__ import annotations

from typing import Any

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from common.errors import MlopsLevelsError

CHAMPION = "champion"


# [model_registry]
def promote(model_name: str, version: str, alias: str = CHAMPION) -> None:
    client = MlflowClient()
    try:
        client.get_model_version(model_name, version)
    except MlflowException:
        raise MlopsLevelsError(
            f"model {model_name} has no version {version}", fix="list them with: mlops-levels ui 2"
        ) from None
    client.set_registered_model_alias(model_name, alias, version)


LEVEL = int(__name__.split(".")[1].removeprefix("level_"))  # copied forward unchanged into levels 3-4


def resolve_version(model_name: str, version_or_alias: str | None, fix: str | None = None) -> Any:
    """A model version by number or alias (default: champion), with a fix when there is none."""
    client = MlflowClient()
    wanted = version_or_alias or CHAMPION
    try:
        if wanted.isdigit():
            return client.get_model_version(model_name, wanted)
        return client.get_model_version_by_alias(model_name, wanted)
    except MlflowException:
        raise MlopsLevelsError(
            f"model {model_name} has no version {wanted!r}", fix=fix or f"train one: mlops-levels run {LEVEL}"
        ) from None


def latest_versions(model_name: str, limit: int = 10) -> list[Any]:
    client = MlflowClient()
    try:
        versions = client.search_model_versions(f"name='{model_name}'")
    except MlflowException:
        return []
    newest = sorted(versions, key=lambda v: int(v.version), reverse=True)[:limit]
    # search results leave the aliases out; fetching each version brings them
    return [client.get_model_version(model_name, str(v.version)) for v in newest]
