"""Run every benchmark in order; each prints its own table and writes bench/results/<name>.json."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# classroom.py is left out: it needs PostgreSQL and takes ~13 minutes (run it on its own).
BENCHMARKS = [
    "cli_startup.py",
    "train_throughput.py",
    "serving.py",
    "run_levels.py",
    "hostile_body.py",
    "synthetic_realism.py",
    "assess_speed.py",
    "exercise_checks.py",
]


def main() -> int:
    failed = []
    for name in BENCHMARKS:
        if (HERE / name).exists() and subprocess.run([sys.executable, str(HERE / name)], cwd=HERE).returncode:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
