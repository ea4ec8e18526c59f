"""Run an exercise's checks and read back what they found: on the workspace's warm check server when it can
answer (server.py: a forked child of a process that imported the stack once), else in a fresh interpreter
(harness.py), which is also what a server that cannot start, or a check whose process died, falls back to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import teaching
from common.errors import MlopsLevelsError

# The project's root (the folder holding common/, levels/ and teaching/): the harness imports
# `teaching` and `common` from there even when the toolkit is not installed in the interpreter.
PROJECT_ROOT = Path(teaching.__file__).resolve().parents[1]
CHECK_TIMEOUT = 300  # seconds: the slowest check imports Evidently (~8 s); far longer means a loop
QUIET = {
    "PYTHONDONTWRITEBYTECODE": "1",  # no __pycache__ in the student's copy (a watcher would see it)
    "PREFECT_LOGGING_LEVEL": "ERROR",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "MLFLOW_LOGGING_LEVEL": "WARNING",  # a new store's "Creating initial MLflow database tables" is noise here
    "DO_NOT_TRACK": "true",
    "PYTHONWARNINGS": "ignore",
}
OUTPUT_LINES = 30


def check_environment() -> dict[str, str]:
    """The environment the checks run in (the student's, quieter, with the project importable)."""
    python_path = os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, **QUIET, "PYTHONPATH": python_path}


def run_checks(
    pairs: list[tuple[str, Path]], timeout: float = CHECK_TIMEOUT, workspace: Path | None = None
) -> list[dict[str, Any]]:
    """Check each (exercise id, copy root); one result per pair. With a workspace, on its warm server."""
    started = time.perf_counter()
    if workspace is not None:
        from teaching.exercises import server

        if server.enabled():
            from teaching.infra.secrets import without_secrets

            pairs = [(exercise_id, copy.resolve()) for exercise_id, copy in pairs]
            answered = server.check_on_server(workspace, pairs, timeout, without_secrets(check_environment()))
            if answered is not None:
                return _timed(*answered, started, "warm server")
    with tempfile.TemporaryDirectory(prefix="mlops-levels-check-") as tmp:
        result_file = Path(tmp) / "result.json"
        env = {**check_environment(), "TMPDIR": tmp}
        command = [sys.executable, "-m", "teaching.exercises.harness", str(result_file)]
        command += [f"{exercise_id}={copy.resolve()}" for exercise_id, copy in pairs]
        try:
            finished = subprocess.run(
                command, cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            return [_stopped(pairs[0][0], f"the checks did not finish in {timeout:.0f} s (an endless loop?)")]
        output = (finished.stdout + finished.stderr).splitlines()[-OUTPUT_LINES:]
        if finished.returncode != 0 or not result_file.exists():
            last = next((line for line in reversed(output) if line.strip()), "no output")
            raise MlopsLevelsError(
                f"the check harness stopped (exit {finished.returncode}): {last[:200]}",
                fix="run again with --verbose, and report it if it is not your code",
            )
        results: list[dict[str, Any]] = json.loads(result_file.read_text(encoding="utf-8"))
    return _timed(results, output, started, "fresh interpreter")


def _timed(results: list[dict[str, Any]], output: list[str], started: float, how: str) -> list[dict[str, Any]]:
    for result in results:
        result["checked_in"] = how
    if len(results) == 1:  # what the student waited for, interpreter start and imports included
        results[0]["seconds"] = round(time.perf_counter() - started, 2)
        results[0]["output"] = output
    return results


def _stopped(exercise_id: str, reason: str) -> dict[str, Any]:
    return {"exercise": exercise_id, "passed": False, "checks": [{"name": "runs", "passed": False, "reason": reason}]}


def check_copy(
    exercise_id: str, copy: Path, timeout: float = CHECK_TIMEOUT, workspace: Path | None = None
) -> dict[str, Any]:
    return run_checks([(exercise_id, copy)], timeout, workspace)[0]
