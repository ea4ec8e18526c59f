"""`mlops-levels exercise check ID`: median wall time per exercise, as a student waits for it (the CLI,
a fresh interpreter for the checks, every check run on a solved copy). Baseline in the same run: a fresh
interpreter importing the stack the levels stand on (`import sklearn, fastapi, mlflow, prefect`), which
any level-2 script pays before doing anything. Target: no check beyond 2x that baseline (Evidently's
own import, ~7 s, is what drift-report adds).

    .venv/bin/python bench/exercise_checks.py                                # every exercise, median of 3
    .venv/bin/python bench/exercise_checks.py --exercise gate-rule --repeats 1   # a short run
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from common_bench import save, time_command

from levels.catalog import LEVELS_DIR
from teaching.exercises.catalog import Exercise, get_exercise, load_exercises
from teaching.exercises.copies import write_copy

TARGET_RATIO = 2.0


def solved_workspace(workspace: Path, exercises: list[Exercise]) -> None:
    """A copy of each exercise with the level's own code (or the reference answer) put back."""
    for exercise in exercises:
        folder = write_copy(workspace, exercise)  # the copy's root is the level's folder
        for name in exercise.files:
            source = LEVELS_DIR / f"level_{exercise.level}" / name
            text = exercise.added_text("solution") if name == exercise.adds else source.read_text()
            (folder / name).write_text(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--exercise", action="append", metavar="ID", help="time only this exercise (repeatable)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each command, after a warm-up (3)")
    args = parser.parse_args(argv)
    exercises = [get_exercise(i) for i in args.exercise] if args.exercise else list(load_exercises())
    workspace = Path(tempfile.mkdtemp(prefix="bench-exercises-"))
    env = {**os.environ, "MLOPS_LEVELS_WORKSPACE": str(workspace)}
    cli = [shutil.which("mlops-levels") or os.path.join(os.path.dirname(sys.executable), "mlops-levels")]
    try:
        solved_workspace(workspace, exercises)
        stack = time_command([sys.executable, "-c", "import sklearn, fastapi, mlflow, prefect"], args.repeats, env)
        result: dict[str, object] = {"baseline: import sklearn, fastapi, mlflow, prefect (s)": round(stack, 2)}
        worst = 0.0
        for exercise in exercises:
            seconds = time_command([*cli, "exercise", "check", exercise.id], repeats=args.repeats, env=env)
            worst = max(worst, seconds / stack)
            result[f"L{exercise.level} {exercise.id} · {exercise.practice}"] = (
                f"{seconds:.2f} s · {seconds / stack:.1f}x"
            )
        result["worst check / baseline"] = round(worst, 1)
        result["target"] = f"every check <= {TARGET_RATIO}x the baseline: {'✓' if worst <= TARGET_RATIO else '✗'}"
        save("exercise_checks", result)
    finally:
        shutil.rmtree(workspace, ignore_errors=True)


if __name__ == "__main__":
    main()
