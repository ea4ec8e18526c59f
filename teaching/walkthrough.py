"""Classroom mode: a level, step by step. Each step is an explanation, the code or command it is
about, and (for the run step) the result. The CLI shows them one at a time and pauses for Enter."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from levels.catalog import LevelInfo, Practice, get_level
from levels.notebook import as_script

WALKTHROUGH_OPTIONS = {4: {"months": "2021-01..2021-03"}}  # a short fast-forward for the classroom


@dataclass
class Step:
    title: str
    text: str
    code: str | None = None
    lexer: str = "python"
    action: Callable[[], Any] | None = None
    start_line: int = 1  # the code's first line number in its file, so a student can find it


def readme_section(level: LevelInfo, heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", level.readme, re.MULTILINE | re.DOTALL)
    return match.group(1).strip() if match else ""


def practice_code(level: LevelInfo, practice: Practice, max_lines: int = 40) -> tuple[str, int]:
    """The source of the function or class a practice points at (or the file's head), and its first line."""
    source = (level.folder / practice.file).read_text(encoding="utf-8")
    if "::" in practice.where and practice.file.endswith(".py"):
        name = practice.where.split("::")[1]
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name == name:
                start = min([d.lineno for d in node.decorator_list] + [node.lineno])
                lines = source.splitlines()[start - 1 : node.end_lineno]
                return "\n".join(lines[:max_lines] + (["    …"] if len(lines) > max_lines else [])), start
    return "\n".join(source.splitlines()[:max_lines]), 1


def _lexer(filename: str) -> str:
    return {"Dockerfile": "docker", "Makefile": "make", "MLproject": "yaml"}.get(
        filename, "yaml" if filename.endswith(".yml") else "python"
    )


def build_steps(number: int, run: Callable[[], Any]) -> list[Step]:
    level = get_level(number)
    below = get_level(number - 1) if number > 0 else None
    changes = readme_section(level, "What changes from the level below")
    steps = [Step(f"Level {number} · {level.title}", f"{level.summary}\n\n{changes}")]
    if number == 0:
        notebook = level.folder / level.files[0]
        steps.append(
            Step(
                "The notebook",
                f"`{notebook.name}`: cells run top to bottom by hand (open it in Jupyter or VS Code). "
                "Parameters are hard-coded in a cell; the model ends up as a pickle.",
                "\n".join(as_script(notebook).splitlines()[:60]),
            )
        )
    gained = [p for p in level.practices if below is None or p.id not in below.practice_ids]
    for practice in gained:
        code, start_line = practice_code(level, practice)
        steps.append(
            Step(
                f"Practice: {practice.title}",
                f"{practice.why}\n\nWhere: `{practice.where}`, line {start_line}",
                code,
                _lexer(practice.file),
                start_line=start_line,
            )
        )
    extra = " ".join(f"--{k} {v}" for k, v in WALKTHROUGH_OPTIONS.get(number, {}).items())
    steps.append(
        Step(
            "Run it",
            "The whole level, end to end, on the embedded synthetic data.",
            f"mlops-levels run {number} {extra}".strip(),
            "bash",
            run,
        )
    )
    manual = "\n".join(f"- {item}" for item in level.still_manual)
    following = f"Next: `mlops-levels walkthrough {number + 1}`" if number < 4 else "You have reached the top."
    steps.append(Step("Still manual", f"{manual}\n\n{following}"))
    return steps
