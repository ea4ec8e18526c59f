"""`mlops-levels test N`: a level's suite is `pytest -m levelN`, the same selection as its Makefile's test."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from common.errors import UsageError
from teaching.runs import level_numbers

REPO = Path(__file__).resolve().parents[1]


def suite_command(level: str, fast: bool) -> list[str]:
    """The pytest command line for a level (a marker expression), or for everything with 'all'."""
    numbers = level_numbers(level)
    marker = " or ".join(f"level{n}" for n in numbers) if level != "all" else ""
    if fast:
        marker = f"({marker}) and not slow" if marker else "not slow"
    return [sys.executable, "-m", "pytest", "-q", *(["-m", marker] if marker else [])]


def run_suite(workspace: Path, level: str, fast: bool, console: Any) -> tuple[dict[str, Any], Any]:
    from teaching.state import record_test

    if not (REPO / "tests").is_dir():
        raise UsageError("the test suites are not installed here", fix="run from a clone of the repository")
    command = suite_command(level, fast)
    shown = shlex.join(["python", *command[1:]])
    console.print(f"$ {shown}", markup=False, highlight=False)
    code = subprocess.run(command, cwd=REPO).returncode
    for number in level_numbers(level):
        record_test(workspace, number, code == 0)
    return {"level": level, "passed": code == 0, "exit_code": code, "command": shown}, 0 if code == 0 else 1
