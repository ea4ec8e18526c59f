"""A student's progress: which levels ran (with their last metrics), which suites and exercises passed.

Only the CLI writes it, to <workspace>/state.json, atomically.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common.atomic import write_text_atomic
from teaching.infra.config import command_for
from teaching.infra.workspace import Workspace


def load_state(workspace: Path) -> dict[str, Any]:
    path = Workspace(workspace).state_file
    try:
        state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"levels": {}}
    return state


def _save(workspace: Path, state: dict[str, Any]) -> None:
    write_text_atomic(Workspace(workspace).state_file, json.dumps(state, indent=2, sort_keys=True))


def _update_level(workspace: Path, level: int, fields: dict[str, Any]) -> None:
    """Read, change and write the state under a lock: `run all` records levels from two threads at once, and
    two CLI commands may finish together; without it one level's record is lost."""
    from filelock import FileLock

    path = Workspace(workspace).state_file
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock", timeout=30):
        state = load_state(workspace)
        state["levels"].setdefault(str(level), {}).update(fields)
        _save(workspace, state)


def record_run(workspace: Path, level: int, report: dict[str, Any], data: str | None = None) -> None:
    """Keep a level's last run; `data` (where its months came from) tells whether two runs can be compared."""
    last_run = {k: report[k] for k in ("train", "val", "model", "metrics", "wall_seconds")} | {"data": data}
    _update_level(workspace, level, {"ran_at": time.strftime("%Y-%m-%d %H:%M:%S"), "last_run": last_run})


def record_test(workspace: Path, level: int, passed: bool) -> None:
    _update_level(workspace, level, {"tested": passed, "tested_at": time.strftime("%Y-%m-%d %H:%M:%S")})


def level_state(workspace: Path, level: int) -> dict[str, Any]:
    entry: dict[str, Any] = load_state(workspace)["levels"].get(str(level), {})
    return entry


def levels_with_progress(workspace: Path) -> dict[str, Any]:
    """What `list` shows: every level with the student's progress, and the next thing to do."""
    from teaching.catalog import load_levels

    progress = load_state(workspace)["levels"]
    rows = [
        {
            "level": lv.number,
            "slug": lv.slug,
            "title": lv.title,
            "summary": lv.summary,
            "practices": lv.practice_ids,
            **progress.get(str(lv.number), {}),
        }
        for lv in load_levels()
    ]
    pending = [row["level"] for row in rows if not row.get("ran_at")]
    if pending:
        following = (
            f"{command_for(workspace, 'explain', pending[0])}   then   {command_for(workspace, 'run', pending[0])}"
        )
    elif not (Workspace(workspace).report / "index.html").exists():
        following = f"{command_for(workspace, 'run', 'all')}   (every level on the same months, compared)"
    else:
        following = f"{command_for(workspace, 'exercise', 'list')}   (take a practice out of a level and put it back)"
    return {"first_visit": not progress, "levels": rows, "next": following}


def exercises_progress(workspace: Path) -> dict[str, dict[str, Any]]:
    """Each exercise's record: started, attempts, first pass, hints and solution seen."""
    entries: dict[str, dict[str, Any]] = load_state(workspace).get("exercises", {})
    return entries


def update_exercise(workspace: Path, exercise_id: str, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Apply `change` to one exercise's record and save the state (atomically, like every other record)."""
    state = load_state(workspace)
    entry: dict[str, Any] = state.setdefault("exercises", {}).setdefault(exercise_id, {})
    change(entry)
    _save(workspace, state)
    return entry
