"""Wall time of each suite (`pytest -m levelN`, `-m common`, `-m teaching`) and of the whole suite, as a
student or CI runs them. Targets: each level's suite under 30 s on 2 cores, the whole suite under 6 min.
Baseline in the same run: the cost of collecting the suite alone (`pytest --collect-only`)."""

from __future__ import annotations

import subprocess
import sys
import time

from common_bench import ROOT, save

SUITES = ["level0", "level1", "level2", "level3", "level4", "common", "teaching"]


def timed(args: list[str]) -> tuple[float, int]:
    started = time.perf_counter()
    code = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).returncode
    return time.perf_counter() - started, code


def main() -> None:
    result: dict = {}
    collect, _ = timed(["--collect-only"])
    result["collection alone (s)"] = round(collect, 1)
    for suite in SUITES:
        seconds, code = timed(["-m", suite])
        result[f"pytest -m {suite} (s)"] = round(seconds, 1) if code == 0 else f"{seconds:.1f} (failed: {code})"
    seconds, code = timed([])
    result["whole suite (s)"] = round(seconds, 1) if code == 0 else f"{seconds:.1f} (failed: {code})"
    result["targets"] = "each level < 30 s; whole suite < 360 s"
    save("test_suites", result)


if __name__ == "__main__":
    main()
