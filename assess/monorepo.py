"""A folder that holds several unrelated projects (course modules, a collection of examples) is not one
system: its practices must not be added up. It is split when

- the top has no project of its own and nothing that joins the sub-folders (no pyproject.toml,
  requirements, Makefile, justfile, Dockerfile, compose file or GitLab CI at the top),
- at least two sub-folders carry a project marker (pyproject.toml, setup.py, requirements.txt,
  Pipfile, environment.yml …), the outermost one on each path counting,
- every Python file and notebook lies inside one of them, and
- each GitHub workflow at the top works on one of them alone (it names that project's folder and no
  other, as mlops-zoomcamp's do with `working-directory: 06-best-practices/code`): it is then that
  project's CI. A workflow that names none of them, or several, joins them into one system.
"""

from __future__ import annotations

import posixpath
import re

from assess.discover import NOTEBOOK, PROJECT_MARKERS, PYTHON, YAML, Inventory, SourceFile
from assess.model import ReadCounts
from assess.reading import read_text


def sub_projects(inventory: Inventory) -> dict[str, list[SourceFile]]:
    """The folders to assess one by one, each with the top-level workflows that are its own; {} when
    the folder is one project."""
    if inventory.markers.get(""):
        return {}
    folders = sorted(
        (rel for rel, names in inventory.markers.items() if rel and names & PROJECT_MARKERS),
        key=lambda rel: (rel.count("/"), rel),
    )
    outermost: list[str] = []
    for rel in folders:
        if not any(rel.startswith(f"{top}/") for top in outermost):
            outermost.append(rel)
    if len(outermost) < 2:
        return {}
    code = [f.rel for f in inventory.of_kind(PYTHON, NOTEBOOK)]
    if any(not _inside(rel, outermost) for rel in code):
        return {}
    projects: dict[str, list[SourceFile]] = {rel: [] for rel in sorted(outermost)}
    for workflow in inventory.of_kind(YAML):
        if _inside(workflow.rel, outermost):
            continue
        text = read_text(workflow, ReadCounts()) or ""
        named = [rel for rel in outermost if re.search(rf"(?<![\w.-]){re.escape(rel)}(?![\w.-])", text)]
        if len(named) != 1:
            return {}  # CI for the whole folder, or for several of its projects: one system
        projects[named[0]].append(workflow)
    return projects


def _inside(rel: str, folders: list[str]) -> bool:
    return any(rel.startswith(f"{top}/") for top in folders)


def attach(inventory: Inventory, project: str, workflows: list[SourceFile]) -> Inventory:
    """A project's inventory with its top-level workflows, named from the project (`../.github/…`), so
    that evidence, once cited from the whole folder again, points at the real file."""
    up = "../" * (project.count("/") + 1)
    for workflow in workflows:
        inventory.files.append(SourceFile(workflow.path, f"{up}{workflow.rel}", workflow.kind, workflow.size))
    inventory.files.sort(key=lambda f: f.rel)
    return inventory


def cited_from_above(project: str, rel: str) -> str:
    """`06/code` + `../../.github/workflows/ci.yml` -> `.github/workflows/ci.yml`."""
    return posixpath.normpath(f"{project}/{rel}")
