"""`exercise check --watch` checks again when a file of the copy changes; bounded waits, no fixed sleeps."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest

from teaching.catalog import LEVELS_DIR
from tests.conftest import REPO

DEADLINE = 60  # seconds for a whole test; each wait below ends as soon as its event arrives


def test_a_save_during_the_first_check_is_not_missed(tmp_path):
    from teaching.exercises.watch import watch_checks

    edited = tmp_path / "taxi_duration" / "gate.py"
    edited.parent.mkdir(parents=True)
    edited.write_text("x = 1\n")
    stop, shown, calls = threading.Event(), queue.Queue(), []

    def run_check() -> int:
        calls.append(1)
        if len(calls) == 1:
            edited.write_text("x = 2\n")  # the student saves while the first check runs
        return len(calls)

    watcher = threading.Thread(target=watch_checks, args=(tmp_path, run_check, shown.put, stop), daemon=True)
    watcher.start()
    try:
        assert shown.get(timeout=DEADLINE) == 1
        assert shown.get(timeout=DEADLINE) == 2, "the save made during the first check was missed"
    finally:
        stop.set()
        watcher.join(timeout=DEADLINE)
    assert not watcher.is_alive()


def _lines(stream, into: queue.Queue) -> None:
    for line in stream:
        into.put(line)


def _next_result(lines: queue.Queue, deadline: float) -> dict:
    """The next JSON document the watcher printed (one per check, indented, closed by a "}" line)."""
    text = ""
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
        text += line
        if line == "}\n":
            return json.loads(text)
    raise AssertionError(f"no check result in time; output so far:\n{text[-2000:]}")


@pytest.mark.slow
def test_watch_checks_again_when_the_file_is_saved_and_stops_on_ctrl_c(invoke, workspace):
    assert invoke("exercise", "start", "gate-rule").exit_code == 0
    edited = workspace / "exercises" / "gate-rule" / "taxi_duration" / "gate.py"
    env = {**os.environ, "MLOPS_LEVELS_WORKSPACE": str(workspace)}
    command = [sys.executable, "-m", "cli", "exercise", "check", "gate-rule", "--watch", "--json"]
    watcher = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_lines, args=(watcher.stdout, lines), daemon=True).start()
    deadline = time.monotonic() + DEADLINE
    try:
        first = _next_result(lines, deadline)
        assert first["passed"] is False and "NotImplementedError" in first["checks"][0]["reason"]
        edited.write_text((LEVELS_DIR / "level_3" / "taxi_duration" / "gate.py").read_text())
        assert _next_result(lines, deadline)["passed"] is True
        watcher.send_signal(signal.SIGINT)
        assert watcher.wait(timeout=max(1, deadline - time.monotonic())) == 0
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
    state = json.loads((workspace / "state.json").read_text())["exercises"]["gate-rule"]
    assert state["attempts"] == 2 and state["first_passed_at"]
