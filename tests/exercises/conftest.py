"""Copies of every exercise, fresh and solved (plus a few wrong answers), checked once per session.

Every copy is checked as `exercise check` checks a student's: on the workspace's warm check server, in a
forked child of its own (so MLflow, Prefect and Evidently are imported once, not 30 times). Other tests
here check in a fresh interpreter (MLOPS_LEVELS_CHECK_SERVER=off), the path the CLI falls back to, and
test_server.py compares the two.
"""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

import pytest

from teaching.exercises.catalog import Exercise, get_exercise, load_exercises
from teaching.exercises.copies import level_source, write_copy

# Plausible mistakes, each of which one named check must catch: (exercise, file, level's code, mistake, check).
WRONG_ANSWERS = {
    "gate-rule/strict": (
        "taxi_duration/gate.py",
        "passed = candidate_rmse <= limit",
        "passed = candidate_rmse < limit",
        "better, or worse within the tolerance, passes",
    ),
    "stable-ab/python-hash": (
        "taxi_duration/ab.py",
        'return int.from_bytes(digest, "big") / 2**64',
        "return (hash(ride_id) % 2**32) / 2**32",
        "the same ride gets the same bucket in another process",
    ),
    "degradation-trigger/at-the-limit": (
        "taxi_duration/triggers.py",
        "if month_rmse > champion_rmse",
        "if month_rmse >= champion_rmse",
        "degradation fires beyond the tolerance only",
    ),
    "resume-from-log/skips-bad-lines": (
        "taxi_duration/decisions.py",
        "problem = shape_error(decision)\n            if problem:",
        "problem = None\n            if problem:",
        "a sealed decision of the wrong shape stops the loop, naming file and line",
    ),
    "register-champion/no-existence-check": (
        "taxi_duration/promote.py",
        '    resolve_version(config, version, fix="list them with: python -m taxi_duration.promote --list")\n',
        "",
        "promoting a version that does not exist is refused",
    ),
}
WEAK_FEATURE_TEST = """from common.features import prepare_features


def test_pair_only():
    assert prepare_features({"PULocationID": 74, "DOLocationID": 75, "trip_distance": 2.0})["PU_DO"] == "74_75"
"""


def solve(copy: Path, exercise: Exercise) -> Path:
    """Put the level's own code (or the reference answer) back into the edited files of a copy."""
    for name in exercise.files:
        text = exercise.added_text("solution") if name == exercise.adds else (level_source(exercise) / name).read_text()
        (copy / name).write_text(text)
    return copy


def _wrong(root: Path, key: str) -> Path:
    exercise_id = key.split("/")[0]
    exercise = get_exercise(exercise_id)
    copy = solve(write_copy(root, exercise), exercise)
    name, right, wrong, _ = WRONG_ANSWERS[key]
    path = copy / name
    text = path.read_text()
    assert text.count(right) == 1, (key, right)
    path.write_text(text.replace(right, wrong))
    return copy


@pytest.fixture(scope="session")
def checked(tmp_path_factory) -> dict[str, dict]:
    """Results keyed "<id>/fresh", "<id>/solved", and "<id>/<mistake>" for the wrong answers."""
    from teaching.exercises.runner import run_checks

    pairs: list[tuple[str, Path]] = []
    keys: list[str] = []
    for exercise in load_exercises():
        fresh = write_copy(tmp_path_factory.mktemp("fresh"), exercise)
        solved = solve(write_copy(tmp_path_factory.mktemp("solved"), exercise), exercise)
        pairs += [(exercise.id, fresh), (exercise.id, solved)]
        keys += [f"{exercise.id}/fresh", f"{exercise.id}/solved"]
    for key in WRONG_ANSWERS:
        pairs.append((key.split("/")[0], _wrong(tmp_path_factory.mktemp("wrong"), key)))
        keys.append(key)
    weak = write_copy(tmp_path_factory.mktemp("weak"), get_exercise("feature-test"))
    (weak / "tests" / "test_features.py").write_text(WEAK_FEATURE_TEST)
    pairs.append(("feature-test", weak))
    keys.append("feature-test/weak")
    before = {copy: _files(copy) for _, copy in pairs}
    from teaching.exercises.server import stop_server

    workspace = tmp_path_factory.mktemp("checks-workspace")
    try:
        with mock.patch.dict(os.environ, {"MLOPS_LEVELS_CHECK_SERVER": "on"}):
            checked = [run_checks([pair], timeout=600, workspace=workspace)[0] for pair in pairs]
    finally:
        stop_server(workspace)
    results = dict(zip(keys, checked, strict=True))
    for key, (_, copy) in zip(keys, pairs, strict=True):
        results[key]["left_in_copy"] = sorted(_files(copy) - before[copy])
    return results


@pytest.fixture(autouse=True)
def _fresh_interpreter_unless_asked(monkeypatch):
    """A test that starts a workspace would start its check server in the background (~30 s of CPU on a
    busy machine): the CLI tests here check in a fresh interpreter; test_server.py turns the server on."""
    monkeypatch.setenv("MLOPS_LEVELS_CHECK_SERVER", "off")


def _files(copy: Path) -> set[str]:
    return {p.relative_to(copy).as_posix() for p in copy.rglob("*")}
