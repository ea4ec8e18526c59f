"""A student's progress: which levels ran (with their last metrics) and which suites passed.

Only the CLI writes it, to <workspace>/state.json, atomically.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from common.atomic import write_text_atomic

STATE_FILE = "state.json"


def load_state(workspace: Path) -> dict[str, Any]:
    path = workspace / STATE_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"levels": {}}


def _save(workspace: Path, state: dict[str, Any]) -> None:
    write_text_atomic(workspace / STATE_FILE, json.dumps(state, indent=2, sort_keys=True))


def record_run(workspace: Path, level: int, report: dict[str, Any]) -> None:
    state = load_state(workspace)
    entry = state["levels"].setdefault(str(level), {})
    entry["ran_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    entry["last_run"] = {k: report[k] for k in ("train", "val", "model", "metrics", "wall_seconds")}
    _save(workspace, state)


def record_test(workspace: Path, level: int, passed: bool) -> None:
    state = load_state(workspace)
    entry = state["levels"].setdefault(str(level), {})
    entry["tested"] = passed
    entry["tested_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    _save(workspace, state)


def level_state(workspace: Path, level: int) -> dict[str, Any]:
    return load_state(workspace)["levels"].get(str(level), {})
