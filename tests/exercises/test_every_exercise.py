"""Every exercise can fail and can pass: a fresh copy fails its check, the level's own code passes it,
and plausible mistakes are caught by the check that names them."""

from __future__ import annotations

import pytest

from teaching.exercises.catalog import load_exercises
from tests.exercises.conftest import WRONG_ANSWERS

IDS = [e.id for e in load_exercises()]


def _failed(result: dict) -> dict[str, str]:
    return {c["name"]: c["reason"] for c in result["checks"] if not c["passed"]}


@pytest.mark.parametrize("exercise_id", IDS)
def test_a_fresh_copy_fails_its_check_and_says_why(checked, exercise_id):
    result = checked[f"{exercise_id}/fresh"]
    assert result["checks"], "an exercise without checks would pass untouched"
    assert result["passed"] is False
    failed = _failed(result)
    assert failed and all(reason.strip() for reason in failed.values())
    assert all(len(reason) <= 240 and "\n" not in reason for reason in failed.values()), failed


@pytest.mark.parametrize("exercise_id", IDS)
def test_the_levels_own_code_passes_its_check(checked, exercise_id):
    result = checked[f"{exercise_id}/solved"]
    assert result["passed"] is True, _failed(result)


def test_every_copy_was_checked_on_the_warm_server(checked):
    """The outcomes above are the warm server's (a forked child per copy), the path students use."""
    assert {key: r["checked_in"] for key, r in checked.items() if r["checked_in"] != "warm server"} == {}


def test_a_check_leaves_nothing_in_the_students_copy(checked):
    """Stores, months and the platform's state go to the check's own folder (the harness sets the level's
    environment), never into the copy the student edits and the watcher watches."""
    left = {key: result["left_in_copy"] for key, result in checked.items() if result["left_in_copy"]}
    assert left == {}


@pytest.mark.parametrize("key", list(WRONG_ANSWERS))
def test_a_plausible_mistake_is_caught_by_the_check_named_for_it(checked, key):
    result = checked[key]
    assert result["passed"] is False
    assert WRONG_ANSWERS[key][3] in _failed(result), _failed(result)


def test_a_test_that_misses_the_distance_is_caught(checked):
    failed = _failed(checked["feature-test/weak"])
    assert "your tests pass on the real prepare_features" not in failed
    assert {
        "your tests catch a function that rounds the distance",
        "your tests catch a function that forgets the distance",
    } <= set(failed)
    assert "your tests catch a function that drops the underscore" not in failed
