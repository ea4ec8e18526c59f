"""Each level is a project a student can open alone: it imports nothing of the toolkit, names nothing of it
in its code, and every path or command its text mentions exists in its own folder. levels/ holds these
projects and nothing else: the toolkit's modules (catalog, runner, carried, notebook) live in teaching/."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from teaching.catalog import LEVEL_NUMBERS, LEVELS_DIR, load_levels
from tests.conftest import REPO

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


def _stray_in_levels(folder: Path) -> list[str]:
    """What levels/ holds besides the level projects (and a README): the toolkit's modules live in teaching/."""
    allowed = {f"level_{n}" for n in LEVEL_NUMBERS}
    return sorted(
        p.name
        for p in folder.iterdir()
        if not (p.is_dir() and p.name in allowed)
        and p.name != "README.md"
        and p.name != "__pycache__"  # bytecode a checkout from before the move may still hold
        and not p.name.startswith(".")
    )


def test_levels_holds_only_the_level_projects():
    assert LEVELS_DIR == REPO / "levels"
    assert _stray_in_levels(LEVELS_DIR) == []


def test_the_levels_folder_check_catches_a_toolkit_module(tmp_path):
    for name in ("level_0", "level_4", "__pycache__"):
        (tmp_path / name).mkdir()
    assert _stray_in_levels(tmp_path) == []
    (tmp_path / "catalog.py").write_text("")
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "level_5").mkdir()
    assert _stray_in_levels(tmp_path) == ["__init__.py", "catalog.py", "level_5"]


def test_nothing_imports_levels_as_a_package():
    """levels/ is no package: the toolkit's code names its catalog, runner, carried and notebook in teaching/."""
    sources = [REPO / "cli.py", REPO / "tasks.py"] + [
        p
        for folder in ("teaching", "assess", "tests", "bench")
        for p in (REPO / folder).rglob("*.py")
        if "fixtures" not in p.parts and "__pycache__" not in p.parts
    ]
    bad = [(p.relative_to(REPO).as_posix(), m) for p in sources for m in _imports(p) if m.split(".")[0] == "levels"]
    assert not bad, f"levels is imported as a package: {bad}"


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
