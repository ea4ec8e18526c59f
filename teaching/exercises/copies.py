"""A student's working copy of an exercise: the level's own folder with one practice taken out.

    <workspace>/exercises/<id>/
        EXERCISE.md                 what to do, which file, how to check
        taxi_duration/, tests/, …   the whole level, a project of its own; the exercised file starts
                                    with a short brief and holds a TODO where the practice was

Every other file is the level's own, byte for byte, so the copy reads like the level itself. A copy is
written beside its place and renamed into it: a crash never leaves half a copy.
"""

from __future__ import annotations

import shutil
import textwrap
import time
from pathlib import Path
from typing import Any

from teaching.catalog import LEVELS_DIR, PRACTICES
from teaching.exercises.catalog import Exercise, RegionSpec
from teaching.exercises.regions import Region, find_region, region_code, take_out
from teaching.infra.workspace import Workspace

RULE = "# " + "─" * 98


def copy_root(workspace: Path, exercise: Exercise) -> Path:
    return Workspace(workspace).exercises / exercise.id


def level_source(exercise: Exercise) -> Path:
    """The level's own folder, which a copy starts from."""
    return LEVELS_DIR / f"level_{exercise.level}"


def edited_paths(workspace: Path, exercise: Exercise) -> list[Path]:
    return [copy_root(workspace, exercise) / name for name in exercise.files]


def brief_header(exercise: Exercise) -> str:
    practice = PRACTICES.get(exercise.practice, exercise.practice)
    lines = [RULE, f"# Exercise {exercise.id} · level {exercise.level} · {practice}", f"# {exercise.title}", "#"]
    lines += [f"# {line}" for line in textwrap.wrap(" ".join(exercise.brief.split()), 96)]
    lines += [
        "#",
        "# Write the code at the TODO below, then check it (--watch checks again on every save):",
        f"#     mlops-levels exercise check {exercise.id}",
        f"# Stuck? mlops-levels exercise hint {exercise.id}",
        RULE,
    ]
    return "\n".join(lines) + "\n"


def exercised_text(exercise: Exercise, name: str) -> str:
    """The starting text of an edited file: the brief, then the level's code with the region(s) taken out."""
    if name == exercise.adds:
        return brief_header(exercise) + exercise.added_text("start")
    source = level_source(exercise) / name
    text = source.read_text(encoding="utf-8")
    regions = [(_region(text, r, source), r.todo, r.stub) for r in exercise.regions if r.file == name]
    return brief_header(exercise) + take_out(text, exercise.id, regions, str(source))


def solution_code(exercise: Exercise) -> list[dict[str, object]]:
    """The level's own code for each region (or the reference answer of an added file)."""
    if exercise.adds:
        return [{"file": exercise.adds, "line": 1, "code": exercise.added_text("solution")}]
    found = []
    for spec in exercise.regions:
        source = level_source(exercise) / spec.file
        text = source.read_text(encoding="utf-8")
        region = _region(text, spec, source)
        found.append({"file": spec.file, "line": region.start + 1, "code": region_code(text, region)})
    return sorted(found, key=lambda f: (exercise.files.index(str(f["file"])), int(str(f["line"]))))


def _region(text: str, spec: RegionSpec, source: Path) -> Region:
    return find_region(text, spec.name, spec.part, str(source))


def write_copy(workspace: Path, exercise: Exercise) -> Path:
    """Write a fresh copy (replacing any earlier one) and return its root."""
    target = copy_root(workspace, exercise)
    staging = target.with_name(f".{exercise.id}.new")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(level_source(exercise), staging, ignore=_not_copied(level_source(exercise)))
    for name in exercise.files:
        (staging / name).parent.mkdir(parents=True, exist_ok=True)
        (staging / name).write_text(exercised_text(exercise, name), encoding="utf-8")
    (staging / "EXERCISE.md").write_text(exercise_page(exercise), encoding="utf-8")
    if target.exists():
        retired = target.with_name(f".{exercise.id}.old-{time.time_ns()}")
        target.rename(retired)
        shutil.rmtree(retired, ignore_errors=True)
    staging.rename(target)
    return target


def _not_copied(folder: Path) -> Any:
    """What git leaves out of the level (its .gitignore: stores, months, venv) and the tools' caches."""
    ignored = folder / ".gitignore"
    lines = ignored.read_text(encoding="utf-8").splitlines() if ignored.is_file() else []
    patterns = [line.strip().rstrip("/") for line in lines if line.strip() and not line.startswith(("#", "!"))]
    return shutil.ignore_patterns("__pycache__", "*.pyc", ".*_cache", *patterns)


def exercise_page(exercise: Exercise) -> str:
    files = "\n".join(f"- `{name}`" for name in exercise.files)
    return (
        f"# {exercise.title}\n\n"
        f"Exercise `{exercise.id}` · level {exercise.level} · {PRACTICES.get(exercise.practice, exercise.practice)}\n\n"
        f"{exercise.brief}\n\n## Edit\n\n{files}\n\n## Check\n\n"
        f"    mlops-levels exercise check {exercise.id}           # once\n"
        f"    mlops-levels exercise check {exercise.id} --watch   # again on every save\n"
        f"    mlops-levels exercise hint {exercise.id}            # the next hint\n"
        f"    mlops-levels exercise reset {exercise.id}           # start over\n"
    )
