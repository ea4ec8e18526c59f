"""Wall time of every suite as a student or CI runs it: the toolkit's (`pytest` at the root), each level's
own in its folder (its `make test`), the quick loop (`tasks.py test --quick`: `-m "not slow"`, every suite,
two at a time, every level touched), and the whole run of `python3 tasks.py test` (checks, then the suites
two at a time).
Targets (issue 20): the whole run under 6 min, the quick loop under 2 min, on 2 cores.
Baseline in the same run: the cost of collecting the toolkit's suite alone (`pytest --collect-only`)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from common_bench import ROOT, save

LEVELS = sorted(p for p in (ROOT / "levels").glob("level_*") if (p / "pyproject.toml").is_file())


def timed(command: list[str], cwd: Path) -> tuple[float, int]:
    started = time.perf_counter()
    code = subprocess.run(command, cwd=cwd, capture_output=True, text=True).returncode
    return time.perf_counter() - started, code


def pytest(cwd: Path, *args: str) -> tuple[float, int]:
    return timed([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd)


def shown(seconds: float, code: int) -> float | str:
    return round(seconds, 1) if code in (0, 5) else f"{seconds:.1f} (failed: {code})"


def main() -> None:
    result: dict = {}
    result["collection alone (s)"] = shown(*pytest(ROOT, "--collect-only"))
    result["toolkit suite (s)"] = shown(*pytest(ROOT))
    for folder in LEVELS:
        result[f"{folder.name} suite (s)"] = shown(*pytest(folder))
    quick = sum(pytest(folder, "-m", "not slow")[0] for folder in [ROOT, *LEVELS])
    result["quick loop, one after another (s)"] = round(quick, 1)
    result["quick loop, tasks.py test --quick (s)"] = shown(
        *timed([sys.executable, "tasks.py", "test", "--quick"], ROOT)
    )
    result["whole run, tasks.py test (s)"] = shown(*timed([sys.executable, "tasks.py", "test"], ROOT))
    result["targets"] = "whole run < 360 s; quick loop < 120 s"
    save("test_suites", result)


if __name__ == "__main__":
    main()
