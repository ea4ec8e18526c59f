"""The class server's commands used wrongly: one clear line and exit 2, before anything starts."""

from __future__ import annotations

import pytest


def test_adding_students_without_a_class_server_says_how(invoke):
    result = invoke("stack", "users", "add", "alice")
    assert result.exit_code == 2 and "stack up --class" in result.output


def test_a_worker_needs_to_know_its_class_server(invoke, monkeypatch):
    monkeypatch.delenv("MLOPS_LEVELS_STACK_URL", raising=False)
    result = invoke("stack", "worker")
    assert result.exit_code == 2 and "MLOPS_LEVELS_STACK_URL" in result.output


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "MLOPS_LEVELS_STUDENT"),
        ({"MLOPS_LEVELS_STUDENT": "alice"}, "MLFLOW_TRACKING_USERNAME"),
        ({"MLOPS_LEVELS_STUDENT": "Alice Smith"}, "not a student name"),
    ],
)
def test_joining_a_class_without_who_you_are_says_what_is_missing(invoke, monkeypatch, env, expected):
    for name in ("MLOPS_LEVELS_STUDENT", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = invoke("run", "2", "--stack-url", "http://127.0.0.1:9/api")
    assert result.exit_code == 2 and expected in result.output


def test_a_roster_skips_blank_lines_and_comments(tmp_path):
    from teaching.infra.classroom import read_roster

    roster = tmp_path / "roster.txt"
    roster.write_text("# class of 2026\nalice\n\nbob  # late\n")
    assert read_roster(roster) == ["alice", "bob"]
