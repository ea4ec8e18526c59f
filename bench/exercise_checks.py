"""`mlops-levels exercise check ID`: median wall time per exercise, as a student waits for it (the CLI,
a fresh interpreter for the checks, every check run on a solved copy). Baseline in the same run: a fresh
interpreter importing the stack the levels stand on (`import sklearn, fastapi, mlflow, prefect`), which
any level-2 script pays before doing anything. Target: no check beyond 2x that baseline (Evidently's
own import, ~7 s, is what drift-report adds)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from common_bench import save, time_command

from levels.catalog import LEVELS_DIR
from teaching.exercises.catalog import load_exercises
from teaching.exercises.copies import write_copy
from teaching.exercises.regions import strip_markers

TARGET_RATIO = 2.0


def solved_workspace(workspace: Path) -> None:
    for exercise in load_exercises():
        folder = write_copy(workspace, exercise) / "levels" / f"level_{exercise.level}"
        for name in exercise.files:
            source = LEVELS_DIR / f"level_{exercise.level}" / name
            text = exercise.added_text("solution") if name == exercise.adds else source.read_text()
            (folder / name).write_text(strip_markers(text))


def main() -> None:
    workspace = Path(tempfile.mkdtemp(prefix="bench-exercises-"))
    env = {**os.environ, "MLOPS_LEVELS_WORKSPACE": str(workspace)}
    cli = [shutil.which("mlops-levels") or os.path.join(os.path.dirname(sys.executable), "mlops-levels")]
    solved_workspace(workspace)
    stack = time_command([sys.executable, "-c", "import sklearn, fastapi, mlflow, prefect"], repeats=3, env=env)
    result: dict[str, object] = {"baseline: import sklearn, fastapi, mlflow, prefect (s)": round(stack, 2)}
    worst = 0.0
    for exercise in load_exercises():
        seconds = time_command([*cli, "exercise", "check", exercise.id], repeats=3, env=env)
        worst = max(worst, seconds / stack)
        result[f"L{exercise.level} {exercise.id} · {exercise.practice}"] = f"{seconds:.2f} s · {seconds / stack:.1f}x"
    result["worst check / baseline"] = round(worst, 1)
    result["target"] = f"every check <= {TARGET_RATIO}x the baseline: {'✓' if worst <= TARGET_RATIO else '✗'}"
    save("exercise_checks", result)
    shutil.rmtree(workspace, ignore_errors=True)


if __name__ == "__main__":
    main()
