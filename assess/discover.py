"""Walk a project folder and list the files a detector may need, without opening any of them.

The walk uses `os.scandir` (the file type comes with the directory entry, no stat per file) and only
stats the files it keeps, for their size. Folders that never hold a project's own code are skipped
whole (version control, virtual environments, caches, tracking stores, data folders); every file it
passes over is counted with the reason, so "level 0" can never mean "read nothing".
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from assess.model import ReadCounts

SKIPPED_DIRS: dict[str, str] = {
    **dict.fromkeys((".git", ".hg", ".svn"), "version control"),
    **dict.fromkeys((".venv", "venv", "site-packages", "conda-meta", "node_modules"), "dependencies"),
    **dict.fromkeys(
        ("__pycache__", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints", ".cache"),
        "caches",
    ),
    **dict.fromkeys(("build", "dist", ".eggs"), "build output"),
    **dict.fromkeys(
        ("mlruns", "mlartifacts", "wandb", "lightning_logs", ".dvc", "mlops-workspace", ".prefect"), "run outputs"
    ),
}
# Folders by these names hold data, not code, unless they hold Python files themselves
# (cookiecutter's `src/data/make_dataset.py` is code, `data/raw/` is not).
DATA_DIRS = {"data", "datasets", "dataset", "raw", "processed", "interim", "images", "outputs"}

PYTHON, NOTEBOOK, YAML, MAKEFILE, DOCKERFILE, TOML, SHELL, TEXT = (
    "python",
    "notebook",
    "yaml",
    "makefile",
    "dockerfile",
    "toml",
    "shell",
    "text",
)
# Bytes read at most per kind: bigger files are generated or data, and are counted as skipped.
SIZE_CAPS = {PYTHON: 1_000_000, NOTEBOOK: 20_000_000}
CONFIG_CAP = 512_000
EXACT_NAMES = {
    "Makefile": MAKEFILE,
    "makefile": MAKEFILE,
    "GNUmakefile": MAKEFILE,
    "justfile": MAKEFILE,
    "Justfile": MAKEFILE,
    ".justfile": MAKEFILE,
    "MLproject": YAML,
    "Jenkinsfile": TEXT,
    "Procfile": TEXT,
    "crontab": TEXT,
}


@dataclass(frozen=True)
class SourceFile:
    path: Path
    rel: str  # posix, relative to the assessed folder
    kind: str
    size: int


# Files that make a folder a project of its own (its own dependencies, its own build).
PROJECT_MARKERS = {
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "requirements.txt",
    "Pipfile",
    "environment.yml",
    "environment.yaml",
    "conda.yaml",
}
# Files at the top that join sub-folders into one system: a build, a CI, an image of the whole.
JOINING = {"Makefile", "makefile", "justfile", "Dockerfile", "docker-compose.yml", "compose.yaml", ".gitlab-ci.yml"}


@dataclass
class Inventory:
    root: Path
    files: list[SourceFile] = field(default_factory=list)
    counts: ReadCounts = field(default_factory=ReadCounts)
    markers: dict[str, set[str]] = field(default_factory=dict)  # folder ("" the root) -> project markers in it

    def of_kind(self, *kinds: str) -> list[SourceFile]:
        return [f for f in self.files if f.kind in kinds]


def classify(name: str) -> str | None:
    """The kind of file a detector reads, from its name alone; None for files no detector needs."""
    if name in EXACT_NAMES:
        return EXACT_NAMES[name]
    lower = name.lower()
    suffix = os.path.splitext(lower)[1]
    if suffix == ".py":
        return PYTHON
    if suffix == ".ipynb":
        return NOTEBOOK
    if suffix in (".yml", ".yaml"):
        return YAML
    if suffix == ".toml":
        return TOML
    if suffix == ".sh":
        return SHELL
    if lower == "dockerfile" or lower.startswith("dockerfile.") or lower.endswith(".dockerfile"):
        return DOCKERFILE
    if suffix == ".mk" or suffix == ".cron":
        return MAKEFILE if suffix == ".mk" else TEXT
    return None


def _skipped_dir_reason(entry: os.DirEntry[str]) -> str | None:
    if entry.name in SKIPPED_DIRS:
        return SKIPPED_DIRS[entry.name]
    if entry.name.endswith(".egg-info"):
        return "build output"
    return None


def _is_environment(names: set[str]) -> bool:
    return "pyvenv.cfg" in names or "conda-meta" in names


def _holds_code(entries: list[os.DirEntry[str]]) -> bool:
    return any(e.name.endswith((".py", ".ipynb")) for e in entries if not e.is_dir(follow_symlinks=False))


def _count_files_below(entries: list[os.DirEntry[str]]) -> int:
    total = 0
    stack = list(entries)
    while stack:
        entry = stack.pop()
        if entry.is_dir(follow_symlinks=False):
            try:
                stack.extend(os.scandir(entry.path))
            except OSError:
                continue
        else:
            total += 1
    return total


def discover(root: Path) -> Inventory:
    """Every file under root that some detector reads, with counts of everything else."""
    inventory = Inventory(root)
    counts = inventory.counts
    stack: list[tuple[str, str]] = [(str(root), "")]
    while stack:
        folder, rel = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            counts.folders_skipped["unreadable"] += 1
            continue
        names = {e.name for e in entries}
        found = names & (PROJECT_MARKERS | JOINING if not rel else PROJECT_MARKERS)
        if found:
            inventory.markers[rel] = found
        if rel and _is_environment(names):
            counts.folders_skipped["dependencies"] += 1
            continue
        if rel and Path(rel).name.lower() in DATA_DIRS and not _holds_code(entries):
            counts.folders_skipped["data"] += 1
            files = _count_files_below(entries)
            counts.files_seen += files
            counts.skip("in a data folder", files)
            continue
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            if entry.is_dir(follow_symlinks=False):
                reason = _skipped_dir_reason(entry)
                if reason:
                    counts.folders_skipped[reason] += 1
                else:
                    stack.append((entry.path, child))
                continue
            if entry.is_symlink():
                continue
            counts.files_seen += 1
            _keep(inventory, entry, child)
    inventory.files.sort(key=lambda f: f.rel)
    return inventory


def _keep(inventory: Inventory, entry: os.DirEntry[str], rel: str) -> None:
    kind = classify(entry.name)
    if kind is None:
        inventory.counts.skip("not needed by any detector")
        return
    try:
        size = entry.stat(follow_symlinks=False).st_size
    except OSError:
        inventory.counts.skip("unreadable")
        return
    cap = SIZE_CAPS.get(kind, CONFIG_CAP)
    if size > cap:
        inventory.counts.cannot_read(rel, "too large", f"{size:,} bytes, over the {cap:,} read for a {kind} file")
        return
    inventory.files.append(SourceFile(Path(entry.path), rel, kind, size))
