"""`mlops-levels test N`: a level's own suite, run as its Makefile's `test` target runs it.

A level that is a project of its own is tested in its folder (`python -m pytest`, its pyproject.toml
configures it); a level not yet moved is `pytest -m levelN` from the repository root. `test all` runs
the toolkit's suite, then each level's, each in a process of its own (every level's package has the same
name, so no two levels can share an interpreter).
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.errors import UsageError
from teaching.catalog import get_level
from teaching.choices import level_numbers

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Suite:
    label: str
    folder: Path
    command: list[str]

    @property
    def shown(self) -> str:
        where = "" if self.folder == REPO else f"cd {self.folder.relative_to(REPO)} && "
        return where + shlex.join(["python", *self.command[1:]])


def suites(level: str, fast: bool) -> list[Suite]:
    """The suites `test LEVEL` runs, in order: for 'all', the toolkit's first, then each level's."""
    pytest = [sys.executable, "-m", "pytest", "-q"]
    quick = ["-m", "not slow"] if fast else []
    found = []
    if level == "all":  # tests/: the toolkit's, and those of levels not yet moved into their folder
        found.append(Suite("toolkit", REPO, [*pytest, *quick]))
    for number in level_numbers(level):
        info = get_level(number)
        if info.package:
            found.append(Suite(f"level {number}", info.folder, [*pytest, *quick]))
        elif level != "all":
            marker = f"level{number} and not slow" if fast else f"level{number}"
            found.append(Suite(f"level {number}", REPO, [*pytest, "-m", marker]))
    return found


def run_suite(workspace: Path, level: str, fast: bool, console: Any) -> tuple[dict[str, Any], Any]:
    from teaching.state import record_test

    if not (REPO / "tests").is_dir():
        raise UsageError("the test suites are not installed here", fix="run from a clone of the repository")
    codes = {}
    for suite in suites(level, fast):
        console.print(f"$ {suite.shown}", markup=False, highlight=False)
        codes[suite.label] = subprocess.run(suite.command, cwd=suite.folder).returncode
    passed = all(code in (0, 5) for code in codes.values())  # 5: a selection with no test in it
    for number in level_numbers(level):
        record_test(workspace, number, codes.get(f"level {number}", 0) in (0, 5))
    shown = "; ".join(suite.shown for suite in suites(level, fast))
    return {"level": level, "passed": passed, "exit_code": 0 if passed else 1, "command": shown}, 0 if passed else 1
