"""The warm check server `exercise check` uses: same outcomes as a fresh interpreter, and whatever a
student's code does (crash, endless loop, a changed global) stays inside the check that ran it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from common.errors import MlopsLevelsError
from teaching.catalog import LEVELS_DIR
from teaching.exercises.catalog import get_exercise
from teaching.exercises.copies import write_copy
from teaching.infra.processes import identity
from tests.conftest import REPO
from tests.exercises.conftest import solve

GATE = "taxi_duration/gate.py"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A workspace whose check server the tests of this module share (one start, ~30 s on a busy machine)."""
    from teaching.exercises.server import stop_server

    workspace = tmp_path_factory.mktemp("served")
    yield workspace
    stop_server(workspace)


def _cli(workspace: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MLOPS_LEVELS_WORKSPACE": str(workspace), "MLOPS_LEVELS_CHECK_SERVER": "on"}
    command = [sys.executable, "-m", "cli", *args]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def _server_pid(workspace: Path) -> int:
    return int(json.loads((workspace / "check-server" / "server.json").read_text())["pid"])


def _copy(root: Path, exercise_id: str, change: str = "", solved: bool = True) -> Path:
    exercise = get_exercise(exercise_id)
    copy = write_copy(root, exercise)
    if solved:
        solve(copy, exercise)
    if change:
        path = copy / exercise.files[0]
        path.write_text(path.read_text() + change)
    return copy


def _check(workspace: Path, exercise_id: str, copy: Path, timeout: float = 300) -> dict:
    from teaching.exercises.runner import run_checks

    return run_checks([(exercise_id, copy)], timeout=timeout, workspace=workspace)[0]


def test_start_warms_the_server_and_check_answers_from_it(served):
    started = _cli(served, "exercise", "start", "gate-rule", "--json")
    assert started.returncode == 0, started.stderr
    assert (served / "check-server" / "server.json").is_file()  # started in the background, not waited for
    assert (served / "check-server").stat().st_mode & 0o777 == 0o700

    failed = _cli(served, "exercise", "check", "gate-rule", "--json")
    result = json.loads(failed.stdout)
    assert failed.returncode == 1 and result["checked_in"] == "warm server" and result["passed"] is False
    assert any("NotImplementedError" in c["reason"] and "gate.py" in c["reason"] for c in result["checks"])

    pid = _server_pid(served)
    edited = served / "exercises" / "gate-rule" / GATE
    edited.write_text((LEVELS_DIR / "level_3" / GATE).read_text())
    passed = _cli(served, "exercise", "check", "gate-rule", "--json")
    assert passed.returncode == 0 and json.loads(passed.stdout)["checked_in"] == "warm server"
    assert _server_pid(served) == pid  # the same server answered both


def test_a_changed_global_does_not_leak_into_the_next_check(served, tmp_path, monkeypatch):
    monkeypatch.setenv("MLOPS_LEVELS_CHECK_SERVER", "on")
    leak = (
        "\nimport os as _os\nimport common.features as _features\n"
        "_features.prepare_features = lambda ride: {}\n_os.environ['TAXI_LEAKED'] = '1'\n"
    )
    leaky = _check(served, "gate-rule", _copy(tmp_path / "a", "gate-rule", leak))
    assert leaky["checked_in"] == "warm server" and leaky["passed"] is True
    # feature-test runs the student's tests against the real prepare_features: a leaked stub fails them.
    after = _check(served, "feature-test", _copy(tmp_path / "b", "feature-test"))
    assert after["checked_in"] == "warm server" and after["passed"] is True, after["checks"]


def test_a_crashing_copy_reads_as_in_a_fresh_interpreter_and_the_server_lives_on(served, tmp_path, monkeypatch):
    monkeypatch.setenv("MLOPS_LEVELS_CHECK_SERVER", "on")
    pid = _server_pid(served)
    crash = _copy(tmp_path / "crash", "gate-rule", "\nimport os as _os\n_os._exit(3)\n")
    with pytest.raises(MlopsLevelsError) as caught:  # the child died without a result: checked afresh
        _check(served, "gate-rule", crash)
    assert "the check harness stopped (exit 3)" in caught.value.one_line()
    monkeypatch.setenv("MLOPS_LEVELS_CHECK_SERVER", "off")
    with pytest.raises(MlopsLevelsError) as fresh:
        _check(served, "gate-rule", crash)
    assert fresh.value.one_line() == caught.value.one_line()
    assert _server_pid(served) == pid and identity(pid) is not None


def test_an_endless_loop_is_stopped_and_the_next_check_runs(served, tmp_path, monkeypatch):
    monkeypatch.setenv("MLOPS_LEVELS_CHECK_SERVER", "on")
    loop = _copy(
        tmp_path / "loop", "gate-rule", "\n\ndef quality_gate(*args, **kwargs):\n    while True:\n        pass\n"
    )
    stopped = _check(served, "gate-rule", loop, timeout=5)
    assert stopped["passed"] is False and "did not finish in 5 s" in stopped["checks"][0]["reason"]
    again = _check(served, "gate-rule", _copy(tmp_path / "ok", "gate-rule"))
    assert again["checked_in"] == "warm server" and again["passed"] is True


def test_a_folder_that_is_not_private_is_never_talked_to(served, tmp_path, monkeypatch):
    monkeypatch.setenv("MLOPS_LEVELS_CHECK_SERVER", "on")
    folder = served / "check-server"
    folder.chmod(0o755)
    try:
        result = _check(served, "gate-rule", _copy(tmp_path / "c", "gate-rule"))
    finally:
        folder.chmod(0o700)
    assert result["checked_in"] == "fresh interpreter" and result["passed"] is True


def test_a_server_started_with_other_code_is_replaced_not_asked(served, tmp_path, monkeypatch):
    from teaching.exercises import server

    monkeypatch.setenv("MLOPS_LEVELS_CHECK_SERVER", "on")
    old = _server_pid(served)
    monkeypatch.setattr(server, "code_version", lambda: "after a git pull")  # the toolkit's files changed
    result = _check(served, "gate-rule", _copy(tmp_path / "new", "gate-rule"))
    assert result["checked_in"] == "warm server" and result["passed"] is True
    assert _server_pid(served) != old and identity(old) is None  # the old code answers no more


def test_stop_ends_the_check_server(served):
    pid = _server_pid(served)
    stopped = _cli(served, "stop")
    assert stopped.returncode == 0 and "stopped the exercise check server" in stopped.stdout
    assert identity(pid) is None
    assert not (served / "check-server" / "sock").exists()


def test_the_servers_code_version_follows_contents_not_file_times(tmp_path):
    """The guide swaps pickup and dropoff in the feature function and reverts it: the server stays warm
    (file times changed, contents did not); a real change still replaces it."""
    import time

    from teaching.exercises.server import code_version

    for package in ("common", "teaching"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "features.py").write_text("def trip_features(): ...\n")
    before = code_version(tmp_path)
    feature = tmp_path / "common" / "features.py"
    feature.write_text("def trip_features(): return 'swapped'\n")
    assert code_version(tmp_path) != before
    time.sleep(0.01)
    feature.write_text("def trip_features(): ...\n")  # reverted: a newer time, the same code
    assert code_version(tmp_path) == before
