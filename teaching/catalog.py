"""Read each level's level.toml without importing the level: what the CLI lists, explains and diffs.

Only the standard library is imported here, so `mlops-levels list` starts in a fraction of a second.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

# the fixed vocabulary of practices, shared with the scorer (re-exported: explain, render and copies read it here)
from assess.catalogue import PRACTICES as PRACTICES
from common.errors import MlopsLevelsError

FORMAT_VERSION = 1
# The repository's levels/ folder (this module lives in teaching/, beside it): levels/ holds only the projects.
LEVELS_DIR = Path(__file__).resolve().parents[1] / "levels"
LEVEL_NUMBERS = range(5)


@dataclass(frozen=True)
class Practice:
    id: str
    where: str  # "file.py" or "file.py::function"
    why: str

    @property
    def title(self) -> str:
        return PRACTICES[self.id]

    @property
    def file(self) -> str:
        return self.where.split("::")[0]


@dataclass(frozen=True)
class Exercise:
    task: str
    hint: str


@dataclass(frozen=True)
class Divergence:
    """A file that started as a copy of an earlier level's and differs from it on purpose."""

    origin: int
    why: str


@dataclass(frozen=True)
class LevelInfo:
    number: int
    slug: str
    title: str
    summary: str
    files: tuple[str, ...]
    practices: tuple[Practice, ...]
    lineage: dict[str, str] = field(default_factory=dict)
    # A level with code names its package (the same at every level: taxi_duration); the toolkit runs the
    # level's commands from outside (teaching/drive/level_N.py). Level 0 is a notebook: no package.
    package: str | None = None
    services: tuple[str, ...] = ()
    still_manual: tuple[str, ...] = ()
    # What makes this level's RMSE differ from the level below's (`diff` shows it): a number names its cause.
    numbers: str = ""
    exercises: tuple[Exercise, ...] = ()
    # Files this level carries unchanged from an earlier level (name -> that level's number). A level
    # is self-contained, so it holds its own copy; `tasks.py sync` rewrites copies from their origin.
    carried: dict[str, int] = field(default_factory=dict)
    diverged: dict[str, Divergence] = field(default_factory=dict)
    root: Path = LEVELS_DIR
    # The `run` options this level uses; any other is refused (it would silently do nothing).
    run_options: tuple[str, ...] = ()
    models: tuple[str, ...] = ()  # empty: every model of the factory

    @property
    def folder(self) -> Path:
        return self.root / f"level_{self.number}"

    @property
    def practice_ids(self) -> list[str]:
        return [p.id for p in self.practices]

    @property
    def readme(self) -> str:
        return (self.folder / "README.md").read_text(encoding="utf-8")


def _parse(path: Path) -> LevelInfo:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MlopsLevelsError(f"cannot read level metadata ({exc})", where=str(path)) from None
    if raw.get("format_version") != FORMAT_VERSION:
        raise MlopsLevelsError(
            f"format_version {raw.get('format_version')} is not {FORMAT_VERSION}",
            where=str(path),
            fix="update mlops-levels (pip install -U mlops-levels)",
        )
    practices = tuple(Practice(**p) for p in raw.get("practices", []))
    unknown = [p.id for p in practices if p.id not in PRACTICES]
    if unknown:
        raise MlopsLevelsError(
            f"unknown practice ids {unknown}", where=str(path), fix=f"use the vocabulary in {__file__}"
        )
    return LevelInfo(
        number=raw["number"],
        slug=raw["slug"],
        title=raw["title"],
        summary=raw["summary"],
        files=tuple(raw["files"]),
        practices=practices,
        lineage=dict(raw.get("lineage", {})),
        package=raw.get("package"),
        services=tuple(raw.get("services", [])),
        still_manual=tuple(raw.get("still_manual", [])),
        numbers=raw.get("numbers", ""),
        exercises=tuple(Exercise(**e) for e in raw.get("try", [])),
        carried=dict(raw.get("carried", {})),
        diverged={name: Divergence(d["from"], d["why"]) for name, d in raw.get("diverged", {}).items()},
        root=path.parent.parent,
        run_options=tuple(raw.get("run_options", [])),
        models=tuple(raw.get("models", [])),
    )


@cache
def load_levels(root: Path = LEVELS_DIR) -> tuple[LevelInfo, ...]:
    """Every level that has a level.toml, in order (levels still being built are simply absent)."""
    found = [root / f"level_{n}" / "level.toml" for n in LEVEL_NUMBERS]
    return tuple(_parse(path) for path in found if path.exists())


def get_level(number: int) -> LevelInfo:
    for level in load_levels():
        if level.number == number:
            return level
    built = ", ".join(str(level.number) for level in load_levels())
    raise MlopsLevelsError(f"level {number} is not built yet", fix=f"levels available: {built}")
