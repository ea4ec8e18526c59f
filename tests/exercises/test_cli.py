"""The exercise commands and `progress --export` through the CLI, like a student and an instructor use them."""

from __future__ import annotations

import csv
import json

import pytest

from teaching.catalog import LEVELS_DIR

GATE = "taxi_duration/gate.py"


def _rows(invoke, *args: str) -> dict[str, dict]:
    result = invoke("exercise", "list", "--json", *args)
    assert result.exit_code == 0, result.output
    return {row["exercise"]: row for row in json.loads(result.output)["exercises"]}


def _check(invoke, exercise_id: str) -> tuple[int, dict]:
    result = invoke("exercise", "check", exercise_id, "--json")
    return result.exit_code, json.loads(result.output)


def test_list_shows_every_exercise_with_level_practice_and_status(invoke):
    rows = _rows(invoke)
    assert len(rows) >= 12 and {r["level"] for r in rows.values()} == {1, 2, 3, 4}
    assert all(r["status"] == "not started" and r["attempts"] == 0 and r["practice"] for r in rows.values())
    assert {r["level"] for r in _rows(invoke, "--level", "3").values()} == {3}
    assert _rows(invoke, "--level", "0") == {}
    assert "No checked exercise at level 0" in invoke("exercise", "list", "--level", "0").output


@pytest.mark.slow
def test_start_check_fail_then_pass_records_attempts_and_the_first_pass(invoke, workspace):
    started = invoke("exercise", "start", "gate-rule", "--json")
    assert started.exit_code == 0, started.output
    copy = workspace / "exercises" / "gate-rule"
    edited = copy / GATE
    assert "TODO(exercise gate-rule)" in edited.read_text() and "[exercise:" not in edited.read_text()
    assert (copy / "EXERCISE.md").is_file() and json.loads(started.output)["files"] == [str(edited)]

    code, failed = _check(invoke, "gate-rule")
    assert code == 1 and failed["passed"] is False
    assert any("NotImplementedError" in c["reason"] and "gate.py" in c["reason"] for c in failed["checks"])
    assert _rows(invoke)["gate-rule"]["status"] == "started"

    edited.write_text((LEVELS_DIR / "level_3" / GATE).read_text())
    code, passed = _check(invoke, "gate-rule")
    assert code == 0 and passed["passed"] and passed["attempts"] == 2
    assert passed["next"] == "mlops-levels exercise start deploy-gate"
    row = _rows(invoke)["gate-rule"]
    assert row["status"] == "passed" and row["attempts"] == 2 and row["first_passed_at"]

    edited.write_text(edited.read_text().replace("<= limit", "> limit"))  # broken again after passing
    code, _ = _check(invoke, "gate-rule")
    again = _rows(invoke)["gate-rule"]
    assert code == 1 and again["status"] == "passed" and again["first_passed_at"] == row["first_passed_at"]


def test_start_never_overwrites_work_and_reset_starts_over_after_confirmation(invoke, workspace):
    invoke("exercise", "start", "stable-ab")
    edited = workspace / "exercises" / "stable-ab" / "taxi_duration" / "ab.py"
    edited.write_text(edited.read_text() + "\n# my work\n")
    again = json.loads(invoke("exercise", "start", "stable-ab", "--json").output)
    assert again["already_started"] and "# my work" in edited.read_text()
    from typer.testing import CliRunner

    from cli import app

    kept = CliRunner().invoke(app, ["exercise", "reset", "stable-ab"], input="n\n")
    assert kept.exit_code == 0 and "# my work" in edited.read_text()
    reset = invoke("exercise", "reset", "stable-ab", "--yes")
    assert (
        reset.exit_code == 0
        and "# my work" not in edited.read_text()
        and "TODO(exercise stable-ab)" in edited.read_text()
    )


def test_hints_come_one_after_another_and_the_solution_needs_confirmation(invoke):
    numbers = [json.loads(invoke("exercise", "hint", "run-tags", "--json").output)["number"] for _ in range(4)]
    assert numbers == [1, 2, 3, 3]
    from typer.testing import CliRunner

    from cli import app

    declined = CliRunner().invoke(app, ["exercise", "solution", "run-tags", "--json"], input="n\n")
    assert declined.exit_code == 0 and '"shown": false' in declined.output
    assert _rows(invoke)["run-tags"]["solution_shown"] is False
    shown = CliRunner().invoke(app, ["exercise", "solution", "run-tags"], input="y\n")
    assert shown.exit_code == 0 and "def run_tags" not in shown.output and "git_commit()" in shown.output
    assert _rows(invoke)["run-tags"]["solution_shown"] is True
    assert _rows(invoke)["run-tags"]["hints_read"] == 3


def test_unknown_or_unstarted_exercises_are_one_line_and_exit_2(invoke):
    unknown = invoke("exercise", "start", "gate-rul")
    assert unknown.exit_code == 2 and "did you mean gate-rule" in unknown.output
    unstarted = invoke("exercise", "check", "gate-rule")
    assert unstarted.exit_code == 2 and "mlops-levels exercise start gate-rule" in unstarted.output
    assert invoke("exercise", "reset", "gate-rule", "--yes").exit_code == 2


def test_progress_export_merges_students_and_never_overwrites_a_foreign_file(invoke, tmp_path, monkeypatch):
    target = tmp_path / "class.csv"
    monkeypatch.delenv("MLOPS_LEVELS_STUDENT", raising=False)
    nameless = invoke("progress", "--export", target)
    assert nameless.exit_code == 2 and "--student" in nameless.output and not target.exists()
    invoke("exercise", "hint", "gate-rule")
    assert invoke("progress", "--export", target, "--student", "alice").exit_code == 0
    monkeypatch.setenv("MLOPS_LEVELS_STUDENT", "bob")
    assert invoke("progress", "--export", target).exit_code == 0
    assert invoke("progress", "--export", target, "--student", "alice").exit_code == 0  # again: replaces hers
    rows = list(csv.DictReader(target.open()))
    exercises = len(_rows(invoke))
    assert len(rows) == 2 * exercises and {r["student"] for r in rows} == {"alice", "bob"}
    assert {"student", "exercise", "status", "attempts", "first_passed_at"} <= set(rows[0])
    assert [r["hints_read"] for r in rows if r["exercise"] == "gate-rule"] == ["1", "1"]
    assert invoke("progress", "--export", target, "--student", "Not A Name").exit_code == 2

    foreign = tmp_path / "grades.csv"
    foreign.write_text("name,grade\nalice,A\n")
    refused = invoke("progress", "--export", foreign, "--student", "alice")
    assert refused.exit_code == 2 and foreign.read_text() == "name,grade\nalice,A\n"


def test_explain_lists_the_exercises_and_walkthrough_ends_by_pointing_at_them(invoke):
    explained = json.loads(invoke("explain", "2", "--json").output)
    assert {e["id"] for e in explained["exercises"]} >= {"run-tags", "register-champion"}
    assert "Checked exercises" in invoke("explain", "2").output
    steps = invoke("walkthrough", "2", "--help")
    assert steps.exit_code == 0
    from teaching.walkthrough import build_steps

    last = len(build_steps(2, lambda: None))
    ended = invoke("walkthrough", "2", "--step", last, "--no-pause")
    assert ended.exit_code == 0 and "mlops-levels exercise list --level 2" in ended.output
    assert invoke("exercise", "list", "--level", "2").exit_code == 0


def test_a_file_that_does_not_compile_is_named_with_its_line(invoke, workspace):
    invoke("exercise", "start", "degradation-trigger")
    edited = workspace / "exercises" / "degradation-trigger" / "taxi_duration" / "triggers.py"
    lines = edited.read_text().splitlines()
    todo = next(i for i, line in enumerate(lines) if "TODO(exercise" in line)
    lines[todo + 1] = "    rules = [  # an unclosed bracket"
    edited.write_text("\n".join(lines) + "\n")
    code, result = _check(invoke, "degradation-trigger")
    assert code == 1
    reasons = {c["reason"] for c in result["checks"]}
    assert any(r.startswith("SyntaxError") and "taxi_duration/triggers.py:" in r for r in reasons), reasons


def test_listing_exercises_imports_no_heavy_library(tmp_path):
    from tests.conftest import heavy_imports_of

    commands = [["exercise", "list"], ["exercise", "hint", "gate-rule"], ["progress"], ["explain", "3"]]
    assert heavy_imports_of(commands, tmp_path) == []
