"""Set up and run mlops-levels with nothing but Python 3.11+: `python3 tasks.py demo|test|check|bench|lint|sync|docs`
(`test --quick`: every suite without its slow tests, no checks: the developer's loop).

Creates ./.venv, installs the project with every dependency pinned (constraints.txt), then runs the task.
Re-running skips the install unless pyproject.toml or constraints.txt changed.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".mlops-levels-installed"


def _install_fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt", "common/pyproject.toml"):
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
    # common/ is a package of its own (each level depends on it); the toolkit installs it beside itself.
    subprocess.run(
        [*pip, "-c", str(ROOT / "constraints.txt"), "-e", str(ROOT / "common"), "-e", f"{ROOT}[dev]"], check=True
    )
    STAMP.write_text(_install_fingerprint())


def run(*args: str) -> int:
    return subprocess.run([str(PYTHON), *args], cwd=ROOT).returncode


# What CI checks before it tests, in this order: a step that fails stops the rest (fast ones first).
CHECKS = [
    ("lint", ["-m", "ruff", "check", "."]),
    ("format", ["-m", "ruff", "format", "--check", "."]),
    ("types", ["-m", "mypy"]),  # strict on common/, teaching/ and assess/ (pyproject.toml [tool.mypy])
    ("carried copies", ["-m", "teaching.carried"]),
    ("level pages", ["-m", "teaching.level_pages"]),
]


def check() -> int:
    level_types = [(f"types: {f.name}", ["-m", "mypy"], f) for f in level_projects()]  # each from its folder
    for name, args, folder in [(name, args, ROOT) for name, args in CHECKS] + level_types:
        print(f"== {name}: {' '.join(args[1:])}", flush=True)
        if subprocess.run([str(PYTHON), *args], cwd=folder).returncode != 0:
            print(f"== {name} failed (python3 tasks.py sync / docs rewrite copies and pages)", flush=True)
            return 1
    return 0


def level_projects() -> list[Path]:
    """Levels that are projects of their own: each has its suite in its folder (same package name in each)."""
    return sorted(folder for folder in (ROOT / "levels").glob("level_*") if (folder / "pyproject.toml").is_file())


# Suites side by side, two at a time: most of a suite's time is spent waiting on servers it started
# (Prefect, MLflow, uvicorn), so two of them share a 2-core machine well. Each writes to a log of its own,
# printed whole when it ends, so the outputs never interleave.
SUITES_AT_ONCE = int(os.environ.get("MLOPS_LEVELS_SUITES_AT_ONCE", "2"))
COUNTED = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed|deselected)")


# The toolkit's suite is the long pole (its tests drive every level end to end), so it runs as two
# processes of about equal length, each with its own session fixtures (a Prefect server apiece): side by
# side with the levels' suites, two at a time, the whole run ends when the longest part does.
# Together the parts are the toolkit's testpaths (pyproject.toml); tests/test_tasks.py checks that.
TOOLKIT_PARTS = {
    "toolkit: cli": ["tests/cli", "tests/level_0", "tests/common"],
    "toolkit: faults, stack, exercises, levels, assess": [
        "tests/faults",
        "tests/stack",
        "tests/exercises",
        "tests/levels",
        "assess/tests",
    ],
}


def suites(quick: bool = False) -> list[tuple[str, Path, list[str]]]:
    """The toolkit's suite (in parts), then each level's own, in its folder: every level's package is named
    taxi_duration, so no two levels can share an interpreter. Longest first, so none starts last: in the
    quick loop the toolkit's parts are the short ones (their end-to-end tests are slow) and the levels'
    (each builds its store and models once, ~25 s) go first."""
    toolkit = [(name, ROOT, paths) for name, paths in TOOLKIT_PARTS.items()]
    levels = [(folder.name, folder, []) for folder in reversed(level_projects())]
    return [*levels, *toolkit] if quick else [*toolkit, *levels]


def _run_suite(
    name: str, folder: Path, paths: list[str], extra: list[str], logs: Path
) -> tuple[str, int, dict[str, int], str]:
    log = logs / f"{name.replace(':', '').replace(', ', '-').replace(' ', '-')}.log"
    started = time.monotonic()
    with open(log, "w", encoding="utf-8") as out:
        code = subprocess.run(
            [str(PYTHON), "-m", "pytest", *extra, *paths], cwd=folder, stdout=out, stderr=subprocess.STDOUT
        ).returncode
    text = log.read_text(encoding="utf-8", errors="replace")
    last = next((line for line in reversed(text.splitlines()) if COUNTED.search(line)), "")
    counts = {kind.rstrip("s") if kind.startswith("error") else kind: int(n) for n, kind in COUNTED.findall(last)}
    return name, code, counts, f"{text}== tests: {name}: exit {code} in {time.monotonic() - started:.0f} s\n"


QUICK = ["-m", "not slow"]


def test(extra: list[str]) -> int:
    """The README's test command, and CI's: every check, then every suite (the toolkit's, and each level's
    in its folder), two at a time. `--quick`: the developer's loop, no checks and no slow test, every suite."""
    quick = "--quick" in extra
    extra = [arg for arg in extra if arg != "--quick"]
    if quick:
        extra = [*QUICK, *extra]
    elif check():
        return 1
    logs = Path(tempfile.mkdtemp(prefix="mlops-levels-suites-"))
    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=SUITES_AT_ONCE) as pool:
        order = suites(quick)
        running = [pool.submit(_run_suite, name, folder, paths, extra, logs) for name, folder, paths in order]
        print(f"== tests: {'; '.join(name for name, _, _ in order)} ({SUITES_AT_ONCE} at once)", flush=True)
        for future in concurrent.futures.as_completed(running):
            name, code, counts, output = future.result()
            print(output, end="", flush=True)
            results.append((name, code, counts))
    total = {kind: sum(c.get(kind, 0) for _, _, c in results) for kind in ("passed", "failed", "skipped", "error")}
    failed = [f"{name} (exit {code})" for name, code, _ in results if code not in (0, 5)]
    if failed:
        print(f"== failed: {', '.join(failed)}", flush=True)
    # One closing line for the whole run, as a test runner's own would read.
    print(
        f"{total['passed']} passed, {total['failed'] + total['error']} failed, {total['skipped']} skipped", flush=True
    )
    return 1 if failed else 0


TASKS = {
    "demo": lambda extra: run("-m", "cli", "run", "all", *extra),
    "test": test,
    "check": lambda extra: check(),
    "bench": lambda extra: run("bench/run_all.py", *extra),
    "lint": lambda extra: run("-m", "ruff", "check", ".", *extra),
    "sync": lambda extra: run("-m", "teaching.carried", "--write", *extra),
    "docs": lambda extra: run("-m", "teaching.level_pages", "--write", *extra),
}


def main() -> int:
    task, extra = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if task in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    if task not in TASKS:
        print(__doc__)
        return 2
    setup()
    return TASKS[task](extra)


if __name__ == "__main__":
    sys.exit(main())
