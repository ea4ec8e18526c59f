"""A level's install brings everything its code imports. Its modules are imported in a process where only
the distributions its pyproject.toml (and common's) install are importable, as in a student's fresh venv
of that level: a library probing an optional extra gets an ImportError and goes on, as it would there,
and a module that only an extra of a dependency brings (uvicorn's httptools) fails the import here, not
on a student's laptop."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, distribution

import pytest
from packaging.requirements import Requirement

from teaching.catalog import load_levels
from tests.conftest import REPO

PROJECTS = [level for level in load_levels() if level.package]
ONLY_INSTALLED = """
import importlib, importlib.abc, json, pkgutil, re, sys
from importlib.metadata import packages_distributions
allowed = set(json.loads(sys.argv[1]))
owners = packages_distributions()
refused = set()

class OnlyInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        dists = {re.sub(r"[-_.]+", "-", d).lower() for d in owners.get(top, [])}
        if dists and not dists & allowed:
            refused.add(top)
            raise ModuleNotFoundError(f"No module named {top!r} (not in this level's venv)", name=top)
        return None

sys.meta_path.insert(0, OnlyInstalled())
import taxi_duration
for module in pkgutil.iter_modules(taxi_duration.__path__):
    importlib.import_module(f"taxi_duration.{module.name}")
print(json.dumps(sorted(refused)))
"""


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def _declared(pyproject) -> list[str]:
    return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]


def closure(requirements: list[str]) -> set[str]:
    """Every distribution these requirements install (no extras), by following installed metadata."""
    seen: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        requirement = todo.pop()
        name = _name(requirement.name)
        if name in seen or (requirement.marker and not requirement.marker.evaluate({"extra": ""})):
            continue
        seen.add(name)
        try:
            todo += [Requirement(r) for r in distribution(name).requires or []]
        except PackageNotFoundError:
            pass
    return seen


@pytest.mark.slow
@pytest.mark.parametrize("level", PROJECTS, ids=lambda lv: f"level_{lv.number}")
def test_a_levels_install_brings_every_distribution_its_code_imports(level):
    installed = closure(_declared(level.folder / "pyproject.toml") + _declared(REPO / "common" / "pyproject.toml"))
    allowed = sorted(installed | {"taxi-common", f"taxi-duration-level-{level.number}", "mlops-levels"})
    imported = subprocess.run(
        [sys.executable, "-c", ONLY_INSTALLED, json.dumps(allowed)], cwd=level.folder, capture_output=True,
        text=True, timeout=300, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(level.folder)},
    )  # fmt: skip
    assert imported.returncode == 0, f"level {level.number}'s own venv could not import it:\n{imported.stderr[-1500:]}"


def test_the_closure_leaves_out_what_only_an_extra_brings():
    assert "httptools" not in closure(["uvicorn==0.54.0"])
    assert {"fastapi", "starlette", "pydantic"} <= closure(["fastapi==0.150.0"])
