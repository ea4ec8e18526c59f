"""Set up and run mlops-levels with nothing but Python 3.11+: `python3 tasks.py demo|test|check|bench|lint|sync|docs`.

Creates ./.venv, installs the project with every dependency pinned (constraints.txt), then runs the task.
Re-running skips the install unless pyproject.toml or constraints.txt changed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".mlops-levels-installed"


def _install_fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def setup() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 (runs on whatever python3 the student has)
        sys.exit(f"mlops-levels needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print("creating .venv …", flush=True)
        venv.create(VENV, with_pip=True)
    if STAMP.exists() and STAMP.read_text() == _install_fingerprint():
        return
    print("installing pinned dependencies (first time: a few minutes) …", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "pip==25.3"], check=True)
    subprocess.run([*pip, "-c", str(ROOT / "constraints.txt"), "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(_install_fingerprint())


def run(*args: str) -> int:
    return subprocess.run([str(PYTHON), *args], cwd=ROOT).returncode


# What CI checks before it tests, in this order: a step that fails stops the rest (fast ones first).
CHECKS = [
    ("lint", ["-m", "ruff", "check", "."]),
    ("format", ["-m", "ruff", "format", "--check", "."]),
    ("types", ["-m", "mypy"]),  # strict on common/, teaching/ and assess/ (pyproject.toml [tool.mypy])
    ("carried copies", ["-m", "levels.carried"]),
    ("level pages", ["-m", "teaching.level_pages"]),
]


def check() -> int:
    for name, args in CHECKS:
        print(f"== {name}: {' '.join(args[1:])}", flush=True)
        if run(*args) != 0:
            print(f"== {name} failed (python3 tasks.py sync / docs rewrite copies and pages)", flush=True)
            return 1
    return 0


def test(extra: list[str]) -> int:
    """The README's test command, and CI's: every check, then the whole suite."""
    return check() or run("-m", "pytest", *extra)


TASKS = {
    "demo": lambda extra: run("-m", "cli", "run", "all", *extra),
    "test": test,
    "check": lambda extra: check(),
    "bench": lambda extra: run("bench/run_all.py", *extra),
    "lint": lambda extra: run("-m", "ruff", "check", ".", *extra),
    "sync": lambda extra: run("-m", "levels.carried", "--write", *extra),
    "docs": lambda extra: run("-m", "teaching.level_pages", "--write", *extra),
}


def main() -> int:
    task, extra = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if task not in TASKS:
        print(__doc__)
        return 2
    setup()
    return TASKS[task](extra)


if __name__ == "__main__":
    sys.exit(main())
