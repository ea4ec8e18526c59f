"""`mlops-levels exercise check ID` as a student waits for it: the CLI in a process of its own, on a solved
copy of every exercise, answered by the workspace's warm check server (teaching/exercises/server.py).

Reported separately: the first check of a workspace (it starts the server: imports, template store), the
warm checks (median of --repeats per exercise, then the median and the maximum over exercises), and, with
--fresh, each check in a fresh interpreter (MLOPS_LEVELS_CHECK_SERVER=off: the path before the server, and
what it falls back to). Baselines in the same run: `python -c pass`, `mlops-levels exercise list` (the
CLI's own floor) and a fresh interpreter importing the stack the levels stand on. The load average is
printed: on a shared 2-core machine it is most of the story, so each check's CPU seconds are too (the
CLI's and the check's forked child's: about what it takes on an idle machine).
Target (issue 21): warm median <= 2 s, no warm check over 5 s.

    .venv/bin/python bench/exercise_checks.py                       # every exercise, median of 3
    .venv/bin/python bench/exercise_checks.py --fresh               # and the fresh-interpreter path, once each
    .venv/bin/python bench/exercise_checks.py --exercise gate-rule --repeats 1
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common_bench import ROOT, save, time_command

from teaching.catalog import LEVELS_DIR
from teaching.exercises.catalog import Exercise, get_exercise, load_exercises
from teaching.exercises.copies import write_copy

TARGET_MEDIAN_S = 2.0
TARGET_MAX_S = 5.0


def solved_workspace(workspace: Path, exercises: list[Exercise]) -> None:
    """A copy of each exercise with the level's own code (or the reference answer) put back."""
    for exercise in exercises:
        folder = write_copy(workspace, exercise)  # the copy's root is the level's folder
        for name in exercise.files:
            source = LEVELS_DIR / f"level_{exercise.level}" / name
            text = exercise.added_text("solution") if name == exercise.adds else source.read_text()
            (folder / name).write_text(text)


def timed_check(cli: list[str], exercise_id: str, env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds of one `exercise check ID --json`, its CPU seconds (the CLI's and, on the server, the
    check's forked child's: what it would take on an idle machine), and where it ran."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([*cli, "exercise", "check", exercise_id, "--json"], capture_output=True, env=env, cwd=ROOT)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = json.loads(done.stdout)
    if not result.get("passed"):
        failed = [c for c in result.get("checks", []) if not c["passed"]]
        raise SystemExit(f"{exercise_id}: the solved copy failed its check: {failed[:2]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return seconds, cpu + float(result.get("check_cpu_seconds", 0.0)), str(result.get("checked_in"))


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--exercise", action="append", metavar="ID", help="time only this exercise (repeatable)")
    parser.add_argument("--repeats", type=int, default=3, help="warm checks of each exercise (3)")
    parser.add_argument("--fresh", action="store_true", help="also time each check in a fresh interpreter, once")
    args = parser.parse_args(argv)
    exercises = [get_exercise(i) for i in args.exercise] if args.exercise else list(load_exercises())
    workspace = Path(tempfile.mkdtemp(prefix="bench-exercises-"))
    env = {**os.environ, "MLOPS_LEVELS_WORKSPACE": str(workspace), "MLOPS_LEVELS_CHECK_SERVER": "on"}
    cli = [shutil.which("mlops-levels") or os.path.join(os.path.dirname(sys.executable), "mlops-levels")]
    result: dict[str, object] = {"load average at start (1, 5, 15 min)": load()}
    try:
        solved_workspace(workspace, exercises)
        result["baseline: python -c pass (s)"] = round(time_command([sys.executable, "-c", "pass"], 3, env), 2)
        floor = time_command([*cli, "exercise", "list"], 3, env)  # the CLI itself: typer, rich, the state file
        result["baseline: mlops-levels exercise list (s)"] = round(floor, 2)
        stack = time_command([sys.executable, "-c", "import sklearn, fastapi, mlflow, prefect"], 3, env)
        result["baseline: import sklearn, fastapi, mlflow, prefect (s)"] = round(stack, 2)

        first, _, how = timed_check(cli, exercises[0].id, env)  # starts the server, waits for it
        log = (workspace / "check-server" / "server.log").read_text(errors="replace").strip().splitlines()
        result[f"first check ({exercises[0].id}), server start included"] = f"{first:.2f} s · {how}"
        result["server start (its log)"] = next((line for line in log if line.startswith("ready")), "?")

        medians: dict[str, float] = {}
        for exercise in exercises:
            samples, cpus, where = [], [], set()
            for _ in range(args.repeats):
                seconds, cpu, how = timed_check(cli, exercise.id, env)
                samples.append(seconds)
                cpus.append(cpu)
                where.add(how)
            medians[exercise.id] = statistics.median(samples)
            result[f"warm L{exercise.level} {exercise.id}"] = (
                f"{medians[exercise.id]:.2f} s (max {max(samples):.2f}) · CPU {statistics.median(cpus):.2f} s"
                f" · {'/'.join(sorted(where))}"
            )
        if args.fresh:
            fresh_env = {**env, "MLOPS_LEVELS_CHECK_SERVER": "off"}
            for exercise in exercises:
                seconds, cpu, how = timed_check(cli, exercise.id, fresh_env)
                result[f"fresh L{exercise.level} {exercise.id}"] = f"{seconds:.2f} s · CPU {cpu:.2f} s · {how}"
        median, worst = statistics.median(medians.values()), max(medians.values())
        result["warm median over exercises (s)"] = round(median, 2)
        result["warm slowest exercise (s)"] = f"{worst:.2f} ({max(medians, key=medians.__getitem__)})"
        result["warm median / python -c pass"] = round(median / float(result["baseline: python -c pass (s)"]), 1)
        ok = median <= TARGET_MEDIAN_S and worst <= TARGET_MAX_S
        result["target"] = f"warm median <= {TARGET_MEDIAN_S} s and none over {TARGET_MAX_S} s: {'✓' if ok else '✗'}"
        result["load average at end (1, 5, 15 min)"] = load()
        save("exercise_checks", result)
    finally:
        subprocess.run([*cli, "stop"], capture_output=True, env=env, cwd=ROOT)
        shutil.rmtree(workspace, ignore_errors=True)


if __name__ == "__main__":
    main()
