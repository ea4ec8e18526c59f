"""Each level is a project a student can open alone: it imports nothing of the toolkit, names nothing of it
in its code, and every path or command its text mentions exists in its own folder."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from levels.catalog import load_levels

PROJECTS = [level for level in load_levels() if level.package]
# The toolkit's side: a level that imported any of these would not run, or not read, outside this repository.
TOOLKIT_MODULES = ("cli", "teaching", "levels", "tests", "assess")
TOOLKIT_COMMON = (
    "config", "services", "secrets", "serving", "classroom", "classroom_auth", "classroom_submit", "stores",
    "quiet", "runs", "workspace", "processes", "guardian", "postgres", "stack",
)  # fmt: skip
TOOLKIT_WORDS = ("mlops-levels", "MLOPS_LEVELS", "mlops_levels", "tasks.py")


def _python_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*.py") if ".venv" not in p.parts and "__pycache__" not in p.parts]


def _imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def _forbidden(module: str) -> bool:
    top, _, rest = module.partition(".")
    return top in TOOLKIT_MODULES or (top == "common" and rest.split(".")[0] in TOOLKIT_COMMON)


@pytest.mark.parametrize("level", PROJECTS, ids=lambda lv: f"level_{lv.number}")
def test_a_level_imports_nothing_of_the_toolkit(level):
    bad = [(p.name, m) for p in _python_files(level.folder) for m in _imports(p) if _forbidden(m)]
    assert not bad, f"level {level.number} imports the toolkit: {bad}"


def test_the_import_check_catches_the_toolkit():
    assert _forbidden("teaching.levelproc") and _forbidden("teaching.infra.config") and _forbidden("cli")
    assert not _forbidden("common.datasource") and not _forbidden("taxi_duration.gate")


@pytest.mark.parametrize("level", PROJECTS, ids=lambda lv: f"level_{lv.number}")
def test_a_levels_code_and_build_files_name_nothing_of_the_toolkit(level):
    files = _python_files(level.folder) + [level.folder / n for n in ("Makefile", "Dockerfile", "pyproject.toml")]
    files += sorted(level.folder.glob("*.yml")) + sorted(level.folder.glob("MLproject"))
    said = [(p.name, w) for p in files if p.exists() for w in TOOLKIT_WORDS if w in p.read_text(encoding="utf-8")]
    assert not said, f"level {level.number} names the toolkit: {said}"


MODULE = re.compile(r"python -m (taxi_duration(?:\.\w+)+)")
PATH = re.compile(r"(?<![\w/.])((?:taxi_duration|tests)/[\w/]+\.py)\b")


def _texts(level) -> list[tuple[str, str]]:
    named = [level.folder / "README.md", level.folder / "Makefile", *sorted(level.folder.glob("*.yml"))]
    return [(p.name, p.read_text(encoding="utf-8")) for p in named + _python_files(level.folder) if p.exists()]


@pytest.mark.parametrize("level", PROJECTS, ids=lambda lv: f"level_{lv.number}")
def test_every_module_and_path_a_level_mentions_is_in_that_level(level):
    missing = []
    for name, text in _texts(level):
        for module in MODULE.findall(text):
            if not level.folder.joinpath(*module.split(".")).with_suffix(".py").exists():
                missing.append((name, module))
        for path in PATH.findall(text):
            if not (level.folder / path).exists():
                missing.append((name, path))
    assert not missing, f"level {level.number} mentions what it does not have: {missing}"


def test_the_mention_check_finds_a_stale_command(tmp_path):
    assert MODULE.findall("run: python -m taxi_duration.promote --list") == ["taxi_duration.promote"]
    assert PATH.findall("see taxi_duration/gate.py and levels/level_3/gate.py") == ["taxi_duration/gate.py"]
