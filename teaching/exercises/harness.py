"""Run an exercise's checks against a student's copy, in a process of its own (the runner starts it).

    python -m teaching.exercises.harness RESULT.json ID=COPY [ID=COPY ...]

Why a process of its own: a level's code imports itself as `taxi_duration.…`, so the copy must BE that
package for the check, while `common` and `teaching` stay the installed ones: every copy is put first on
sys.path before anything of the level is imported. While its checks run, the working directory is the
run's own folder and the level's environment (MLFLOW_TRACKING_URI, TAXI_*, PLATFORM_STATE_DIR) points
into it, so nothing a check or the level writes (stores, months, MLflow's ./mlruns) lands in the
student's copy. A fresh process also means a student's endless loop or crash cannot take the CLI down,
and a timeout can stop it.

The warm check server (server.py) runs `run_one` in a forked child of a process that has imported the
stack already; this module's own `main` is the fresh interpreter the CLI falls back to.

Several copies in one process (the test suite, to pay for importing MLflow and Evidently once): before
each copy, `taxi_duration` and every check module is forgotten, so each copy is imported anew.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import shutil
import sqlite3
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
        if m in ("taxi_duration", "test_features")
        or m.startswith(("taxi_duration.", "teaching.exercises.checks.level_"))
    ]:
        del sys.modules[name]
    sys.path[:] = [p for p in sys.path if not _is_copy(Path(p or "."))]
    sys.path.insert(0, str(copy))
    importlib.invalidate_caches()
    checking.REGISTRY.clear()


def _is_copy(folder: Path) -> bool:
    """A student's copy holds a level alone; the project (or an install) holds `teaching/` beside it."""
    return (folder / "taxi_duration").is_dir() and not (folder / "teaching").is_dir()


def seed_store(template: Path, tmp: Path) -> None:
    """The check's store (tmp/mlflow.db) as a copy of the template, with the Default experiment's artifact
    location where a store created in `tmp` would have put it (MLflow writes it at creation)."""
    from mlflow.store.tracking import DEFAULT_LOCAL_FILE_AND_ARTIFACT_PATH
    from mlflow.utils.uri import append_to_uri_path, resolve_uri_if_local

    target = tmp / "mlflow.db"
    shutil.copyfile(template, target)
    root = resolve_uri_if_local(DEFAULT_LOCAL_FILE_AND_ARTIFACT_PATH)  # type: ignore[no-untyped-call]
    location = append_to_uri_path(root, "0")  # type: ignore[no-untyped-call]
    with contextlib.closing(sqlite3.connect(target)) as db, db:
        db.execute("UPDATE experiments SET artifact_location = ? WHERE experiment_id = 0", (str(location),))


def run_one(exercise_id: str, copy: Path, template: Path | None = None) -> dict[str, Any]:
    """Check one copy; with `template` (the warm server's), the run's MLflow store starts as its copy."""
    exercise = get_exercise(exercise_id)
    _forget_previous_copy(copy)
    started = time.perf_counter()
    importlib.import_module(exercise.check_module)
    with tempfile.TemporaryDirectory(prefix=f"check-{exercise_id}-") as tmp:
        context = checking.CheckContext(exercise_id, exercise.level, copy, Path(tmp))
        saved, cwd = dict(os.environ), os.getcwd()
        os.environ.update(context.environment())
        os.chdir(tmp)  # what lands in the working directory (MLflow's ./mlruns beside a sqlite store) stays here
        try:
            if template is not None:  # a migrated store in 0.1 s instead of 7-10 s of migrations
                seed_store(template, Path(tmp))
            results = _run_checks(context, exercise_id, copy)
        finally:
            os.chdir(cwd)
            os.environ.clear()
            os.environ.update(saved)
    return {
        "exercise": exercise_id,
        "passed": bool(results) and all(r["passed"] for r in results),
        "checks": results,
        "seconds": round(time.perf_counter() - started, 2),
    }


def _run_checks(context: checking.CheckContext, exercise_id: str, copy: Path) -> list[dict[str, Any]]:
    results = []
    for name, function in checking.REGISTRY.get(exercise_id, []):
        try:
            function(context)
        except (Exception, SystemExit) as exc:  # anything the student's code raises is a finding, not a crash
            results.append({"name": name, "passed": False, "reason": checking.describe_failure(exc, copy)})
        else:
            results.append({"name": name, "passed": True, "reason": ""})
    return results


def main(argv: list[str]) -> int:
    result_file, pairs = Path(argv[0]), [pair.split("=", 1) for pair in argv[1:]]
    results = [run_one(exercise_id, Path(copy).resolve()) for exercise_id, copy in pairs]
    result_file.write_text(json.dumps(results), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
