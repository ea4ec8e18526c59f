"""Files a level carries from an earlier one: declared in level.toml, compared, and rewritten on demand.

Each level is a complete project a student can open alone, so a practice that level 2 introduced is a
file in levels 3 and 4 as well. Those copies are a teaching device only while they stay true copies:
`[carried] "gate.py" = 3` in level 4's level.toml says level 4's gate.py is level 3's, with the level's
own package name (`level_3` -> `level_4`) as the only difference. A test fails on any drift, and
`python3 tasks.py sync` rewrites every carried file from its origin.

    python -m levels.carried            # list drifted copies (exit 1 if any)
    python -m levels.carried --write    # rewrite them from their origin
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from levels.catalog import LEVELS_DIR, load_levels


@dataclass(frozen=True)
class CarriedFile:
    level: int
    name: str
    origin: int
    root: Path = LEVELS_DIR

    @property
    def path(self) -> Path:
        return self.root / f"level_{self.level}" / self.name

    @property
    def origin_path(self) -> Path:
        return self.root / f"level_{self.origin}" / self.name


def as_carried(text: str, origin: int, level: int) -> str:
    """The origin's text as the carrying level holds it: only the level's own name changes."""
    return re.sub(rf"\blevel([_-]){origin}\b", rf"level\g<1>{level}", text)


def carried_files(root: Path = LEVELS_DIR) -> list[CarriedFile]:
    return [
        CarriedFile(level.number, name, origin, root)
        for level in load_levels(root)
        for name, origin in sorted(level.carried.items())
    ]


def levels_carrying(origin: int, name: str) -> list[int]:
    """The origin level and every level that carries its `name`: where a module's unit tests must run."""
    return [origin] + [c.level for c in carried_files() if c.origin == origin and c.name == name]


def drifted(root: Path = LEVELS_DIR) -> list[CarriedFile]:
    """Carried files whose text is not their origin's (or that are missing)."""
    out = []
    for carried in carried_files(root):
        expected = as_carried(carried.origin_path.read_text(encoding="utf-8"), carried.origin, carried.level)
        if not carried.path.exists() or carried.path.read_text(encoding="utf-8") != expected:
            out.append(carried)
    return out


def sync(root: Path = LEVELS_DIR) -> list[CarriedFile]:
    """Rewrite every drifted copy from its origin; returns what was rewritten."""
    rewritten = drifted(root)
    for carried in rewritten:
        text = carried.origin_path.read_text(encoding="utf-8")
        carried.path.write_text(as_carried(text, carried.origin, carried.level), encoding="utf-8")
    return rewritten


def main(argv: list[str]) -> int:
    if "--write" in argv:
        for carried in sync():
            print(f"rewrote levels/level_{carried.level}/{carried.name} from level {carried.origin}")
        return 0
    drift = drifted()
    for carried in drift:
        print(f"levels/level_{carried.level}/{carried.name} differs from level {carried.origin}'s")
    return 1 if drift else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
