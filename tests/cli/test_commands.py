from __future__ import annotations

import json

import pytest

from tests.conftest import REPO, heavy_imports_of


def test_importing_the_cli_pulls_in_no_heavy_library():
    assert heavy_imports_of([], REPO) == []


def test_metadata_commands_import_no_heavy_library(tmp_path):
    commands = [["--help"], ["list"], ["explain", "0"], ["diff", "0", "1", "--stat"], ["run", "--help"]]
    assert heavy_imports_of(commands, tmp_path) == []


def test_help_lists_every_command(invoke):
    result = invoke("--help")
    assert result.exit_code == 0
    # The names in the Commands section itself: the help's prose names some of them too ("mlops-levels list").
    section = result.output.split("Commands:", 1)[1]
    listed = {line.split()[0] for line in section.splitlines() if line.startswith("  ") and line.split()}
    expected = {"list", "explain", "run", "diff", "walkthrough", "test", "serve", "ui", "stop", "data", "clean"}
    assert expected | {"exercise", "stack", "assess", "doctor", "progress"} <= listed


def test_every_command_has_help(invoke):
    for args in (
        ["list"],
        ["explain"],
        ["run"],
        ["diff"],
        ["clean"],
        ["data", "generate"],
        ["data", "show"],
        ["data", "fetch"],
    ):
        result = invoke(*args, "--help")
        assert result.exit_code == 0 and "Usage" in result.output, args


def test_version(invoke):
    result = invoke("--version")
    assert result.exit_code == 0 and "mlops-levels" in result.output


@pytest.mark.slow
def test_list_shows_levels_and_marks_a_level_once_run(invoke):
    first = invoke("list")
    assert first.exit_code == 0 and "No MLOps" in first.output and "Welcome" in first.output
    assert invoke("run", "0").exit_code == 0
    rows = json.loads(invoke("list", "--json").output)["levels"]
    assert rows[0]["level"] == 0 and rows[0]["last_run"]["metrics"]["rmse_val"] > 0
    assert "Welcome" not in invoke("list").output


def test_explain_shows_readme_manual_steps_and_exercises(invoke):
    result = invoke("explain", "0")
    assert result.exit_code == 0
    assert "Still manual" in result.output and "Try this #1" in result.output and "hint:" in result.output


def test_data_generate_then_show(invoke, workspace):
    generated = invoke("data", "generate", "2021-01..2021-02", "--rows", "500")
    assert generated.exit_code == 0, generated.output
    files = sorted((workspace / "data").rglob("*.parquet"))
    assert [f.name for f in files] == ["green_tripdata_2021-01.parquet", "green_tripdata_2021-02.parquet"]
    shown = invoke("data", "show", str(files[0]), "--json")
    summary = json.loads(shown.output)["summary"]
    assert summary["rows"] == 500 and summary["kept 1..60 min"] < 500


def test_clean_removes_the_workspace_but_refuses_a_stranger_folder(invoke, workspace, tmp_path):
    assert invoke("data", "generate", "2021-01", "--rows", "100").exit_code == 0
    assert invoke("clean", "--yes").exit_code == 0
    assert not workspace.exists()
    stranger = tmp_path / "home"
    (stranger / "thesis").mkdir(parents=True)
    refused = invoke("--workspace", str(stranger), "clean", "--yes")
    assert refused.exit_code == 2 and (stranger / "thesis").exists()


def test_an_unexpected_failure_is_one_line_and_verbose_shows_the_traceback(invoke, monkeypatch):
    from teaching import runs

    def explode(number, request):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(runs, "run_level", explode)
    quiet = invoke("run", "0")
    assert quiet.exit_code == 1 and "unexpected error: ZeroDivisionError" in quiet.output
    assert "Traceback" not in quiet.output
    loud = invoke("--verbose", "run", "0")
    assert loud.exit_code == 1 and isinstance(loud.exception, ZeroDivisionError)
