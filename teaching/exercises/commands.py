"""What `mlops-levels exercise start|check|hint|solution|reset` do, as data (the CLI prints it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from common.errors import UsageError
from teaching.exercises.catalog import Exercise, get_exercise
from teaching.exercises.copies import copy_root, edited_paths, solution_code, write_copy
from teaching.exercises.progress import next_exercise, now
from teaching.state import exercises_progress, update_exercise


def _described(workspace: Path, exercise: Exercise) -> dict[str, Any]:
    return {
        "exercise": exercise.id,
        "level": exercise.level,
        "practice": exercise.practice,
        "title": exercise.title,
        "brief": exercise.brief,
        "copy": str(copy_root(workspace, exercise)),
        "files": [str(p) for p in edited_paths(workspace, exercise)],
    }


def start(workspace: Path, exercise_id: str) -> dict[str, Any]:
    """Write the working copy, unless one exists already (a student's work is never overwritten here)."""
    exercise = get_exercise(exercise_id)
    existed = copy_root(workspace, exercise).exists()
    if not existed:
        write_copy(workspace, exercise)
        update_exercise(workspace, exercise.id, lambda e: e.setdefault("started_at", now()))
    _warm_up(workspace)
    return {**_described(workspace, exercise), "already_started": existed}


def _warm_up(workspace: Path) -> None:
    """Start the workspace's check server in the background: warm by the time the student first checks."""
    from teaching.exercises import server
    from teaching.exercises.runner import check_environment
    from teaching.infra.secrets import without_secrets

    server.start_in_background(workspace, without_secrets(check_environment()))


def started_copy(workspace: Path, exercise: Exercise) -> Path:
    root = copy_root(workspace, exercise)
    if not root.exists():
        raise UsageError(
            f"exercise {exercise.id} is not started in this workspace",
            where=str(root),
            fix=f"start it: mlops-levels exercise start {exercise.id}",
        )
    return root


def check(workspace: Path, exercise_id: str) -> dict[str, Any]:
    """Run the exercise's checks on the student's copy and record the attempt."""
    from teaching.exercises.runner import check_copy

    exercise = get_exercise(exercise_id)
    result = check_copy(exercise.id, started_copy(workspace, exercise), workspace=workspace)

    def record(entry: dict[str, Any]) -> None:
        entry["attempts"] = int(entry.get("attempts", 0)) + 1
        entry["last_checked_at"] = now()
        entry["last_passed"] = result["passed"]
        if result["passed"] and not entry.get("first_passed_at"):
            entry["first_passed_at"] = entry["last_checked_at"]

    entry = update_exercise(workspace, exercise.id, record)
    return {
        **result,
        "title": exercise.title,
        "attempts": entry["attempts"],
        "files": [str(p) for p in edited_paths(workspace, exercise)],
        "next": next_exercise(workspace, exercise.id) if result["passed"] else None,
    }


def hint(workspace: Path, exercise_id: str) -> dict[str, Any]:
    """The next hint (the last one again once all were read)."""
    exercise = get_exercise(exercise_id)
    read = int(exercises_progress(workspace).get(exercise.id, {}).get("hints_read", 0))
    shown = min(read, len(exercise.hints) - 1)
    update_exercise(workspace, exercise.id, lambda e: e.update(hints_read=max(read, shown + 1)))
    return {
        "exercise": exercise.id,
        "hint": exercise.hints[shown],
        "number": shown + 1,
        "of": len(exercise.hints),
        "last": shown + 1 == len(exercise.hints),
    }


def solution(workspace: Path, exercise_id: str, confirm: Callable[[], bool]) -> dict[str, Any]:
    """The level's own code for the exercise, once the student confirms (it is recorded)."""
    exercise = get_exercise(exercise_id)
    if not confirm():
        return {"exercise": exercise.id, "shown": False, "code": []}
    update_exercise(workspace, exercise.id, lambda e: e.setdefault("solution_shown_at", now()))
    return {"exercise": exercise.id, "level": exercise.level, "shown": True, "code": solution_code(exercise)}


def reset(workspace: Path, exercise_id: str, confirm: Callable[[], bool]) -> dict[str, Any]:
    """A fresh copy in place of the student's (after confirmation); the record of attempts stays."""
    exercise = get_exercise(exercise_id)
    started_copy(workspace, exercise)
    if not confirm():
        return {"exercise": exercise.id, "reset": False, "copy": str(copy_root(workspace, exercise))}
    write_copy(workspace, exercise)
    update_exercise(workspace, exercise.id, lambda e: e.update(reset_at=now()))
    return {**_described(workspace, exercise), "reset": True}
