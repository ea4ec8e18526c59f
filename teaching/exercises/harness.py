"""Run an exercise's checks against a student's copy, in a process of its own (the runner starts it).

    python -m teaching.exercises.harness RESULT.json ID=COPY [ID=COPY ...]

Why a process of its own: a level's code imports itself as `taxi_duration.…` (a level not yet a project
of its own: `levels.level_N.…`), so the copy must BE that package for the check, while `common` and
`teaching` stay the installed ones. The runner starts this module with the copy as the working
directory, and every copy is put first on sys.path before anything of the level is imported. A fresh
process also means a student's endless loop or crash cannot take the CLI down, and a timeout can stop it.

Several copies in one process (the test suite, to pay for importing MLflow and Evidently once): before
each copy, every module of a level and every check module is forgotten, so each copy is imported anew.
"""

from __future__ import annotations

import importlib
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from teaching.exercises import checking
from teaching.exercises.catalog import get_exercise


def _forget_previous_copy(copy: Path) -> None:
    for name in [
        m
        for m in sys.modules
        if m in ("levels", "taxi_duration", "test_features")
        or m.startswith(("levels.", "taxi_duration.", "teaching.exercises.checks.level_"))
    ]:
        del sys.modules[name]
    sys.path[:] = [p for p in sys.path if not _is_copy(Path(p or "."))]
    sys.path.insert(0, str(copy))
    importlib.invalidate_caches()
    checking.REGISTRY.clear()


def _is_copy(folder: Path) -> bool:
    """A student's copy holds a level alone; the project (or an install) holds `teaching/` beside it."""
    level = (folder / "taxi_duration" / "__init__.py").is_file() or (folder / "levels" / "__init__.py").is_file()
    return level and not (folder / "teaching").is_dir()


def run_one(exercise_id: str, copy: Path) -> dict[str, Any]:
    exercise = get_exercise(exercise_id)
    _forget_previous_copy(copy)
    started = time.perf_counter()
    importlib.import_module(exercise.check_module)
    results = []
    with tempfile.TemporaryDirectory(prefix=f"check-{exercise_id}-") as tmp:
        context = checking.CheckContext(exercise_id, exercise.level, copy, Path(tmp))
        for name, function in checking.REGISTRY.get(exercise_id, []):
            try:
                function(context)
            except (Exception, SystemExit) as exc:  # anything the student's code raises is a finding, not a crash
                results.append({"name": name, "passed": False, "reason": checking.describe_failure(exc, copy)})
            else:
                results.append({"name": name, "passed": True, "reason": ""})
    return {
        "exercise": exercise_id,
        "passed": bool(results) and all(r["passed"] for r in results),
        "checks": results,
        "seconds": round(time.perf_counter() - started, 2),
    }


def main(argv: list[str]) -> int:
    result_file, pairs = Path(argv[0]), [pair.split("=", 1) for pair in argv[1:]]
    results = [run_one(exercise_id, Path(copy).resolve()) for exercise_id, copy in pairs]
    result_file.write_text(json.dumps(results), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
