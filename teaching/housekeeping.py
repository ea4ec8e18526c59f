"""`mlops-levels clean`: delete the workspace, but only a folder the toolkit wrote, after stopping its servers."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from typing import Any

from common.errors import UsageError
from teaching.infra.config import Settings


def clean_workspace(settings: Settings, confirm: Callable[[], bool]) -> dict[str, Any]:
    workspace = settings.workspace
    if not workspace.exists():
        return {"workspace": str(workspace), "existed": False, "removed": False}
    strangers = settings.layout.strangers()
    if strangers:
        raise UsageError(
            f"{workspace} holds files the toolkit did not write ({', '.join(strangers[:3])})",
            fix="remove them yourself, or point --workspace at the right folder",
        )
    if not confirm():
        raise UsageError("not confirmed, nothing deleted", fix="answer y, or pass --yes")
    from teaching.exercises.server import stop_server
    from teaching.infra.services import stop_prefect_server
    from teaching.infra.stack import stack_down

    stack_down(settings)
    stop_prefect_server(settings)
    stop_server(workspace)
    if workspace.is_mount():  # a mount point cannot be removed (EBUSY): empty it and leave it mounted
        for entry in list(workspace.iterdir()):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    else:
        shutil.rmtree(workspace)
    return {"workspace": str(workspace), "existed": True, "removed": True}
