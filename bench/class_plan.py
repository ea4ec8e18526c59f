"""The two-hour class, timed: every command the instructor's guide plans, in its order, on a fresh workspace.

docs/instructor-guide.md's "A class in two hours" takes its minutes from this script's output: the
pre-warm (done before the class: doctor, `run all`, the exercise check server) and each step run in
front of the class, wall seconds each, with the load average and a same-run baseline (`python -c pass`
and `mlops-levels list`, the CLI's floor). The gate demo must show the gate refusing the worse
versions on their RMSE ("409 refused", "worse than" in the gate's table; the run itself succeeds, exit 0),
or the script says so.

    .venv/bin/python bench/class_plan.py            # ~4 minutes on a quiet 2-core laptop
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from typing import Any

from common_bench import ROOT, save

CLI = [sys.executable, "-m", "cli"]
# (when, what the class sees, the command's arguments, the exit code expected, texts the output must hold)
PLAN: list[tuple[str, str, list[str], int, tuple[str, ...]]] = [
    ("pre-warm", "doctor: versions, ports, disk", ["doctor"], 0, ()),
    ("pre-warm", "run all: the story, and the Prefect server started", ["run", "all"], 0, ("Every level",)),
    ("pre-warm", "the exercise check server warmed", ["exercise", "start", "request-metrics"], 0, ()),
    ("class", "level 0: what it is", ["explain", "0"], 0, ("No MLOps",)),
    ("class", "level 0: the notebook, run by hand", ["run", "0"], 0, ()),
    ("class", "level 0: the notebook, read", ["walkthrough", "0"], 0, ()),
    ("class", "level 1: train, serve, send rides", ["run", "1"], 0, ()),
    (
        "class",
        "level 1: what changes, and what changes the numbers",
        ["diff", "0", "1"],
        0,
        ("What changes the numbers",),
    ),
    ("class", "level 1: its tests (test 1, quick)", ["test", "1", "--fast"], 0, ()),
    ("class", "level 2: the pipeline, tracked and registered", ["run", "2"], 0, ()),
    ("class", "level 3: two versions, A/B, monitoring, the gate", ["run", "3"], 0, ()),
    (
        "class",
        "gate demo: a worse model (zones as two features) refused on RMSE",
        ["run", "3", "--features", "pu_and_do"],
        0,
        ("409 refused", "worse than"),
    ),
    ("class", "diff 3 4: what closing the loop takes", ["diff", "3", "4", "--stat"], 0, ()),
    (
        "class",
        "level 4: the loop over returning traffic",
        # Seed 7: `run all` decided seed 42's months in the pre-warm, and a second run of them only replays
        # its decision log ("resumed"); the class is to watch level 4 decide.
        ["run", "4", "--scenario", "traffic-returns", "--months", "2021-01..2021-06", "--seed", "7"],
        0,
        ("retrained",),
    ),
    ("class", "the exercises, listed", ["exercise", "list"], 0, ("request-metrics",)),
    ("class", "an exercise checked (warm server)", ["exercise", "check", "request-metrics"], 1, ()),
]


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    started = time.perf_counter()
    # stdin closed: a step that pauses for Enter (walkthrough) goes on, as in a script, never waits unseen
    done = subprocess.run(
        command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=1800, check=False
    )
    return time.perf_counter() - started, done.returncode, done.stdout + done.stderr


def main() -> int:
    result: dict[str, Any] = {"load average before": " ".join(f"{x:.1f}" for x in os.getloadavg())}
    with tempfile.TemporaryDirectory(prefix="class-plan-") as workspace:
        env = {**os.environ, "MLOPS_LEVELS_WORKSPACE": workspace, "COLUMNS": "100"}
        env.pop("MLOPS_LEVELS_SYNTHETIC_ROWS", None)  # the class runs full-size months
        result["baseline python -c pass (s)"] = round(_timed([sys.executable, "-c", "pass"], env)[0], 2)
        result["baseline mlops-levels list (s)"] = round(_timed([*CLI, "list"], env)[0], 2)
        failed = []
        totals = {"pre-warm": 0.0, "class": 0.0}
        try:
            for when, what, args, expected, must_say in PLAN:
                seconds, code, output = _timed([*CLI, *args], env)
                ok = code == expected and all(text in output for text in must_say)
                ok = ok and not (when == "class" and "resumed:" in output)  # in class, work is done, not replayed
                totals[when] += seconds
                result[f"{when}: {what} ({' '.join(args)})"] = f"{seconds:.1f} s" + ("" if ok else f" ✗ exit {code}")
                if not ok:
                    failed.append(f"{' '.join(args)}: exit {code}, {output.strip().splitlines()[-1:]}")
        finally:
            subprocess.run([*CLI, "stop"], cwd=ROOT, env=env, capture_output=True, check=False)
    result["pre-warm total (min)"] = round(totals["pre-warm"] / 60, 1)
    result["commands in class total (min)"] = round(totals["class"] / 60, 1)
    result["load average after"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    save("class_plan", result)
    for failure in failed:
        print(f"✗ {failure}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
