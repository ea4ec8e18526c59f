"""The teaching artefacts of every serving level are checked like code: Dockerfile, CI workflow, Makefile."""

from __future__ import annotations

import ast
import json
import re

import pytest
import yaml

from teaching.catalog import load_levels
from tests.conftest import REPO

SERVING = [level for level in load_levels() if level.number >= 1]
PROJECTS = [level for level in SERVING if level.package]
TOOLKIT = ("cli.py", "teaching", "levels/", "tests/", "mlops-levels", "MLOPS_LEVELS")


def _defines(path, name: str) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name for node in tree.body)


@pytest.mark.parametrize("level", PROJECTS, ids=lambda lv: f"level_{lv.number}")
def test_a_projects_image_is_built_from_its_folder_and_the_shared_code_only(level):
    text = (level.folder / "Dockerfile").read_text()
    for line in re.findall(r"^COPY (.+)$", text, re.MULTILINE):
        *sources, _ = line.split()
        if sources[0] == "--from=common":
            assert all((REPO / "common" / s).exists() for s in sources[1:]), line
        else:
            assert all((level.folder / s).exists() for s in sources), line
    assert not [name for name in TOOLKIT if name in text.split("# Build")[0] + text.split("FROM", 1)[1]]
    command = json.loads(re.search(r"^CMD (.+)$", text, re.MULTILINE).group(1))
    module_name, function = command[command.index("--factory") - 1].split(":")
    assert module_name.startswith(f"{level.package}.")
    assert _defines(level.folder.joinpath(*module_name.split(".")).with_suffix(".py"), function)
    assert "--build-context common=../../common" in text and "-c constraints.txt" in text


@pytest.mark.parametrize("level", PROJECTS, ids=lambda lv: f"level_{lv.number}")
def test_a_projects_makefile_runs_inside_its_folder(level):
    text = (level.folder / "Makefile").read_text()
    assert not [name for name in TOOLKIT if name in text], "a level's Makefile uses nothing of the toolkit"
    for module in re.findall(rf"-m ({level.package}\.\w+)", text):
        assert level.folder.joinpath(*module.split(".")).with_suffix(".py").exists(), module
    assert {"test", "train", "serve"} <= set(re.findall(r"^([a-z-]+):", text, re.MULTILINE))


@pytest.mark.parametrize(
    "level", [lv for lv in load_levels() if (lv.folder / "MLproject").exists()], ids=lambda lv: f"level_{lv.number}"
)
def test_mlproject_runs_this_levels_pipeline(level):
    project = yaml.safe_load((level.folder / "MLproject").read_text())
    assert project["name"] == "nyc-taxi-duration"  # the same project at every level (carried as is)
    assert project["entry_points"]["main"]["command"].startswith("python -m taxi_duration.pipeline")
