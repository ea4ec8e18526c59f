"""A folder that holds several unrelated projects (course modules, a collection of examples) is not one
system: its practices must not be added up. It is split when

- the top has no project of its own and nothing that joins the sub-folders (no pyproject.toml,
  requirements, Makefile, Dockerfile, compose file or CI at the top),
- at least two sub-folders carry a project marker (pyproject.toml, setup.py, requirements.txt,
  Pipfile, environment.yml …), the outermost one on each path counting, and
- every Python file and notebook lies inside one of them.
"""

from __future__ import annotations

from assess.discover import NOTEBOOK, PROJECT_MARKERS, PYTHON, Inventory


def sub_projects(inventory: Inventory) -> list[str]:
    """The folders to assess one by one, or [] when the folder is one project."""
    if inventory.markers.get(""):
        return []
    folders = sorted(
        (rel for rel, names in inventory.markers.items() if rel and names & PROJECT_MARKERS),
        key=lambda rel: (rel.count("/"), rel),
    )
    outermost: list[str] = []
    for rel in folders:
        if not any(rel.startswith(f"{top}/") for top in outermost):
            outermost.append(rel)
    if len(outermost) < 2:
        return []
    code = [f.rel for f in inventory.of_kind(PYTHON, NOTEBOOK)]
    if any(not any(rel.startswith(f"{top}/") for top in outermost) for rel in code):
        return []
    return sorted(outermost)
