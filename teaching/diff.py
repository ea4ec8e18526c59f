"""What level B adds to level A: practices gained and files paired by lineage, with unified diffs."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from common.errors import UsageError
from teaching.catalog import LevelInfo, Practice, get_level
from teaching.notebook import as_script


@dataclass
class FilePair:
    old: str | None  # file in level A (None: added in B)
    new: str | None  # file in level B (None: removed by B)
    added: int = 0
    removed: int = 0
    diff: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        changed = bool(self.added or self.removed)
        if self.old != self.new:
            return "renamed and changed" if changed else "renamed"
        return "changed" if changed else "unchanged"


@dataclass
class LevelDiff:
    a: LevelInfo
    b: LevelInfo
    gained: list[Practice]
    files: list[FilePair]


def ancestor(levels: dict[int, LevelInfo], name: str, b: int, a: int) -> str | None:
    """Follow the lineage maps from level b down to level a; None if the file is new since a."""
    current = name
    for number in range(b, a, -1):
        below = levels[number - 1]
        current = levels[number].lineage.get(current, current)
        if current not in below.files:
            return None
    return current


def _first_appearance(levels: dict[int, LevelInfo], practice_id: str, a: int, b: int) -> Practice:
    """The practice as the level that introduced it explains it (its `why` is the original reason)."""
    for number in range(a + 1, b + 1):
        for practice in levels[number].practices:
            if practice.id == practice_id:
                return practice
    raise KeyError(practice_id)


def _read(level: LevelInfo, name: str) -> list[str]:
    """A file's lines; a notebook's cells as a `# %%` script, so it diffs like code."""
    path = level.folder / name
    text = as_script(path) if path.suffix == ".ipynb" else path.read_text(encoding="utf-8")
    return text.splitlines(keepends=True)


def compare_levels(a: int, b: int, context: int = 3, only_file: str | None = None) -> LevelDiff:
    if a == b:
        raise UsageError("the two levels are the same", fix="diff two different levels, e.g. diff 0 1")
    if a > b:
        raise UsageError(
            f"diff shows what a higher level adds, and {a} is above {b}",
            fix=f"write the lower level first: diff {b} {a}",
        )
    levels = {n: get_level(n) for n in range(a, b + 1)}
    level_a, level_b = levels[a], levels[b]
    # where: in level B (the files shown); why: as the level that introduced the practice explained it
    gained = [
        Practice(p.id, p.where, _first_appearance(levels, p.id, a, b).why)
        for p in level_b.practices
        if p.id not in level_a.practice_ids
    ]
    pairs, used = [], set()
    for name in level_b.files:
        old = ancestor(levels, name, b, a)
        used.add(old)
        pairs.append(_pair(level_a, level_b, old, name, context))
    pairs += [
        FilePair(old=name, new=None, removed=len(_read(level_a, name))) for name in level_a.files if name not in used
    ]
    if only_file:
        pairs = [p for p in pairs if only_file in (p.old, p.new)]
        if not pairs:
            raise UsageError(f"no file {only_file!r} in level {a} or {b}", fix="see the file list: diff A B --stat")
    return LevelDiff(a=level_a, b=level_b, gained=gained, files=pairs)


def _pair(level_a: LevelInfo, level_b: LevelInfo, old: str | None, new: str, context: int) -> FilePair:
    new_lines = _read(level_b, new)
    old_lines = _read(level_a, old) if old else []
    diff = list(
        difflib.unified_diff(
            old_lines,
            new_lines,
            fromfile=f"level_{level_a.number}/{old}" if old else "/dev/null",
            tofile=f"level_{level_b.number}/{new}",
            n=context,
        )
    )
    added = sum(1 for line in diff if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in diff if line.startswith("-") and not line.startswith("---"))
    return FilePair(old=old, new=new, added=added, removed=removed, diff=diff)


def same_data(runs: list[dict[str, Any]]) -> bool | None:
    """Whether runs trained and validated on the same rides; None when a run's record does not say
    (one recorded before runs kept their data). Level 4's validation is every month its loop served:
    its RMSE is the first month's, the one compared."""
    if any(run.get("data") is None for run in runs):
        return None
    seen = {(run["data"], run.get("train"), str(run.get("val", "")).split("..")[0]) for run in runs}
    return len(seen) == 1


def diff_to_dict(
    result: LevelDiff, last_runs: dict[int, dict[str, Any]] | None = None, with_lines: bool = False
) -> dict[str, Any]:
    runs = {n: run for n, run in sorted((last_runs or {}).items()) if run.get("metrics")}
    return {
        "from": result.a.number,
        "to": result.b.number,
        "practices_gained": [{"id": p.id, "title": p.title, "where": p.where, "why": p.why} for p in result.gained],
        "files": [
            {"old": f.old, "new": f.new, "status": f.status, "added": f.added, "removed": f.removed}
            | ({"diff": f.diff} if with_lines else {})
            for f in result.files
        ],
        "numbers": {str(n): get_level(n).numbers for n in range(result.a.number + 1, result.b.number + 1)},
        "last_metrics": {str(n): run["metrics"] for n, run in runs.items()},
        "last_data": {str(n): {k: run.get(k) for k in ("data", "train", "val")} for n, run in runs.items()},
        "same_data": same_data(list(runs.values())) if len(runs) > 1 else None,
    }
