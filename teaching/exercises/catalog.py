"""The exercises, read from exercises.toml: what `exercise list`, `explain N` and the checks know about each.

Standard library only: `exercise list` and `explain N` start in a fraction of a second, and the check
harness, which imports this module before the student's copy, loads nothing of a level with it.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from common.errors import MlopsLevelsError, UsageError

HERE = Path(__file__).resolve().parent
FORMAT_VERSION = 1
ADDED = HERE / "added"  # starting text and reference answer of files an exercise adds to the copy


@dataclass(frozen=True)
class RegionSpec:
    where: str  # "taxi_duration/file.py::function" (or Class.method, or a literal's name): see regions.py
    stub: str  # what replaces the region in the copy (after a TODO line)
    todo: str
    part: str = ""  # "" (the whole body), "finally", or "first..last" statements of the body

    @property
    def file(self) -> str:
        return self.where.split("::")[0]

    @property
    def name(self) -> str:
        return self.where.partition("::")[2]


@dataclass(frozen=True)
class Exercise:
    id: str
    level: int
    practice: str
    title: str
    brief: str
    hints: tuple[str, ...]
    regions: tuple[RegionSpec, ...] = ()
    adds: str | None = None  # a file the exercise adds to the level instead of taking code out
    checks: str = ""  # the module of teaching/exercises/checks holding its checks (default: level_N)

    @property
    def files(self) -> list[str]:
        """The files of the copy the student edits, in the level's folder."""
        named = [r.file for r in self.regions] + ([self.adds] if self.adds else [])
        return list(dict.fromkeys(named))

    @property
    def check_module(self) -> str:
        return f"teaching.exercises.checks.{self.checks or f'level_{self.level}'}"

    def added_text(self, kind: str) -> str:
        """For an exercise that adds a file: its starting text (kind "start") or the reference answer ("solution")."""
        stem = self.id.replace("-", "_")
        return (ADDED / f"{stem}_{kind}.py").read_text(encoding="utf-8")


def _parse(raw: dict[str, Any], where: Path) -> Exercise:
    try:
        regions = tuple(
            RegionSpec(r["where"], r.get("stub", ""), r.get("todo", raw.get("todo", "")), r.get("part", ""))
            for r in raw.get("region", [])
        )
        unnamed = [r.where for r in regions if not r.name]
        if unnamed:
            raise ValueError(f"a region names a function, as file.py::function, not {unnamed[0]!r}")
        return Exercise(
            id=raw["id"],
            level=int(raw["level"]),
            practice=raw["practice"],
            title=raw["title"],
            brief=" ".join(raw["brief"].split()),
            hints=tuple(raw["hints"]),
            regions=regions,
            adds=raw.get("adds"),
            checks=raw.get("checks", ""),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MlopsLevelsError(f"exercise {raw.get('id', '?')} is incomplete ({exc})", where=str(where)) from None


@cache
def load_exercises(path: Path = HERE / "exercises.toml") -> tuple[Exercise, ...]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MlopsLevelsError(f"cannot read the exercises ({exc})", where=str(path)) from None
    if raw.get("format_version") != FORMAT_VERSION:
        raise MlopsLevelsError(f"format_version {raw.get('format_version')} is not {FORMAT_VERSION}", where=str(path))
    return tuple(_parse(entry, path) for entry in raw.get("exercise", []))


def get_exercise(exercise_id: str) -> Exercise:
    known = {e.id: e for e in load_exercises()}
    if exercise_id in known:
        return known[exercise_id]
    close = difflib.get_close_matches(exercise_id, list(known), n=1)
    raise UsageError(
        f"no exercise {exercise_id!r}" + (f" (did you mean {close[0]}?)" if close else ""),
        fix="see them all: mlops-levels exercise list",
    )


def exercises_of(level: int | None = None) -> list[Exercise]:
    return [e for e in load_exercises() if level is None or e.level == level]
