"""Files a level carries from an earlier one: declared in level.toml, compared, and rewritten on demand.

Each level is a complete project a student can open alone, so a practice that level 2 introduced is a
file in levels 3 and 4 as well. Those copies are a teaching device only while they stay true copies:
`[carried] "taxi_duration/gate.py" = 3` in level 4's level.toml says level 4's gate.py is level 3's,
byte for byte (every level names its package taxi_duration). A test fails on any drift, and
`python3 tasks.py sync` rewrites every carried file from its origin. Each project also pins its
install with a copy of the course's lock file (constraints.txt), kept the same way.

    python -m teaching.carried          # list drifted copies (exit 1 if any)
    python -m teaching.carried --write  # rewrite them from their origin
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from teaching.catalog import LEVELS_DIR, load_levels


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


LOCK = "constraints.txt"
PACKAGE = "taxi_duration"


def lock_copies(root: Path = LEVELS_DIR) -> list[Path]:
    """Each level that is a project pins its install with a copy of the course's lock file."""
    return [folder / LOCK for folder in sorted(root.glob("level_*")) if (folder / PACKAGE).is_dir()]


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
        if not carried.path.exists() or carried.path.read_bytes() != carried.origin_path.read_bytes():
            out.append(carried)
    return out


def drifted_locks(root: Path = LEVELS_DIR) -> list[Path]:
    lock = (root.parent / LOCK).read_bytes()
    return [path for path in lock_copies(root) if not path.exists() or path.read_bytes() != lock]


def sync(root: Path = LEVELS_DIR) -> list[CarriedFile]:
    """Rewrite every drifted copy from its origin; returns what was rewritten."""
    rewritten = drifted(root)
    for carried in rewritten:
        carried.path.write_bytes(carried.origin_path.read_bytes())
    for path in drifted_locks(root):
        path.write_bytes((root.parent / LOCK).read_bytes())
    return rewritten


def main(argv: list[str]) -> int:
    if "--write" in argv:
        for carried in sync():
            print(f"rewrote levels/level_{carried.level}/{carried.name} from level {carried.origin}")
        return 0
    drift = drifted()
    for carried in drift:
        print(f"levels/level_{carried.level}/{carried.name} differs from level {carried.origin}'s")
    locks = drifted_locks()
    for path in locks:
        print(f"{path.relative_to(LEVELS_DIR.parent)} differs from the course's {LOCK}")
    return 1 if drift or locks else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
