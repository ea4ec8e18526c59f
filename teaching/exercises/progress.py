"""Where a student stands on each exercise, and the class file an instructor collects.

A record per exercise lives in the workspace's state.json (teaching/state.py): when it was started,
how many checks ran (`attempts`, --watch included), the time of the first pass, how many hints were
read and whether the solution was shown. Status: `passed` once a check has passed (a later failing
check does not undo it), `started` while a copy exists, else `not started`.

`progress --export class.csv` writes one row per exercise for this student into a CSV that may hold
other students' rows already: theirs are kept, this student's are replaced. So a class can export into
one shared file; a lock keeps two students from writing it at the same moment.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from typing import Any

from common.atomic import write_text_atomic
from common.errors import UsageError
from teaching.exercises.catalog import Exercise, exercises_of, load_exercises
from teaching.exercises.copies import copy_root
from teaching.state import exercises_progress

COLUMNS = [
    "student",
    "exercise",
    "level",
    "practice",
    "status",
    "attempts",
    "first_passed_at",
    "last_checked_at",
    "hints_read",
    "solution_shown",
]


def now() -> str:
    """Local time with its offset: a class's exports from several time zones still sort and compare."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


def status(workspace: Path, exercise: Exercise, entry: dict[str, Any]) -> str:
    if entry.get("first_passed_at"):
        return "passed"
    return "started" if copy_root(workspace, exercise).exists() else "not started"


def exercise_rows(workspace: Path, level: int | None = None, student: str | None = None) -> list[dict[str, Any]]:
    records = exercises_progress(workspace)
    rows = []
    for exercise in exercises_of(level):
        entry = records.get(exercise.id, {})
        rows.append(
            {
                "student": student or "",
                "exercise": exercise.id,
                "level": exercise.level,
                "practice": exercise.practice,
                "status": status(workspace, exercise, entry),
                "attempts": int(entry.get("attempts", 0)),
                "first_passed_at": entry.get("first_passed_at", ""),
                "last_checked_at": entry.get("last_checked_at", ""),
                "hints_read": int(entry.get("hints_read", 0)),
                "solution_shown": bool(entry.get("solution_shown_at")),
            }
        )
    return rows


def next_exercise(workspace: Path, after: str | None = None) -> str | None:
    """The command for the next exercise to do: after `after` in curriculum order, else the first not passed."""
    rows = exercise_rows(workspace)
    ids = [r["exercise"] for r in rows]
    start = ids.index(after) + 1 if after in ids else 0
    pending = [r["exercise"] for r in rows[start:] + rows[:start] if r["status"] != "passed"]
    return f"mlops-levels exercise start {pending[0]}" if pending else None


def list_exercises(workspace: Path, level: int | None, student: str | None) -> dict[str, Any]:
    rows = exercise_rows(workspace, level, student)
    for row, exercise in zip(rows, exercises_of(level), strict=True):
        row["title"] = exercise.title
    done = sum(r["status"] == "passed" for r in rows)
    # One started and not yet passed is the one to finish: starting the next would leave it behind.
    started = next((r["exercise"] for r in rows if r["status"] == "started"), None)
    pending = next((r["exercise"] for r in rows if r["status"] != "passed"), None)
    if started:
        following: str | None = f"mlops-levels exercise check {started}"
    else:
        following = f"mlops-levels exercise start {pending}" if pending else None
    return {"student": student, "level": level, "exercises": rows, "passed": done, "next": following}


def export_progress(workspace: Path, student: str | None, target: Path) -> dict[str, Any]:
    """Write (or merge into) the class CSV: this student's rows replaced, everyone else's kept."""
    from filelock import FileLock

    if not student:
        raise UsageError(
            "the export needs the student's name", fix="pass --student NAME, or set MLOPS_LEVELS_STUDENT=NAME"
        )
    mine = exercise_rows(workspace, None, student)
    target = target.expanduser().absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock", timeout=30):
        others = [row for row in _read_export(target) if row["student"] != student]
        order = {e.id: index for index, e in enumerate(load_exercises())}
        rows = sorted(others + mine, key=lambda r: (r["student"], order.get(r["exercise"], len(order))))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        write_text_atomic(target, buffer.getvalue())
    students = sorted({r["student"] for r in rows})
    return {"file": str(target), "student": student, "rows": len(mine), "students": students}


def _read_export(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"cannot read it ({exc})", where=str(path), fix="choose another file") from None
    if reader.fieldnames != COLUMNS:
        raise UsageError(
            "this file is not a progress export (its columns differ), and it is not overwritten",
            where=str(path),
            fix="choose another file name",
        )
    return rows
