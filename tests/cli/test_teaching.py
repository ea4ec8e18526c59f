"""The teaching layer through Typer's runner: walkthrough, run all, test, doctor (assess: assess/tests)."""

from __future__ import annotations

import json
import socket

import pytest


@pytest.mark.slow
@pytest.mark.parametrize("level", range(5))
def test_walkthrough_completes_for_every_level(invoke, prefect_api, level):
    result = invoke("walkthrough", str(level), "--no-pause")
    assert result.exit_code == 0, result.output
    assert "Step 1/" in result.output and "Run it" in result.output and "Still manual" in result.output
    assert f"Walkthrough of level {level} done" in result.output


@pytest.mark.slow
def test_walkthrough_4_tells_the_retraining_story_in_files_of_its_own(invoke, workspace, prefect_api):
    result = invoke("walkthrough", "4", "--no-pause")
    assert result.exit_code == 0, result.output
    assert "retrained, serves v" in result.output  # a rule fires: the loop's story, not "no rule fired"
    figures = sorted(p.name for p in (workspace / "level_4" / "platform" / "reports").glob("frozen-vs-automated-*"))
    assert figures == ["frozen-vs-automated-synthetic-traffic-returns-seed7-2021-01-linear_regression.png"], figures


def test_walkthrough_pauses_and_resumes_at_a_step(cli_runner, workspace):
    from cli import app

    # One Enter, then the input ends (a script, </dev/null): it paused once, then went on to the end.
    paused = cli_runner.invoke(app, ["walkthrough", "1", "--step", "5"], input="\n")
    assert paused.exit_code == 0, paused.output
    assert "Step 5/" in paused.output and "Step 1/" not in paused.output and "Enter for step 6" in paused.output
    assert "Walkthrough of level 1 done" in paused.output
    too_far = cli_runner.invoke(app, ["walkthrough", "1", "--step", "99"])
    assert too_far.exit_code == 2


@pytest.mark.slow
def test_test_command_runs_a_level_suite_and_records_it(invoke):
    result = invoke("test", "0", "--fast")
    assert result.exit_code == 0, result.output
    assert "passed" in result.output
    assert json.loads(invoke("list", "--json").output)["levels"][0]["tested"] is True


def test_doctor_reports_each_check_and_a_taken_port(invoke, monkeypatch):
    from teaching import doctor

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setattr(doctor, "PORTS", {port: "a test"})
        result = invoke("doctor", "--json")
    checks = {c["name"]: c for c in json.loads(result.output)}
    assert checks["python"]["ok"] and checks["mlflow"]["ok"] and checks["prefect"]["ok"]
    assert not checks[f"port {port}"]["ok"] and "--port" in checks[f"port {port}"]["fix"]
    assert result.exit_code == 1
