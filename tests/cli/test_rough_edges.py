"""The CLI's rough edges, each seen by a reviewer once and each kept from coming back by a test."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO


def test_flags_show_as_flags_in_help(invoke):
    text = invoke("list", "--help").output
    assert "--json" in text and "<bool>" not in text


def test_a_closed_pipe_ends_quietly(workspace):
    env = {"MLOPS_LEVELS_WORKSPACE": str(workspace), "PATH": "/usr/bin:/bin"}
    command = f"{sys.executable} -m cli list --json | head -1; exit ${{PIPESTATUS[0]}}"
    out = subprocess.run(["bash", "-c", command], cwd=REPO, capture_output=True, text=True, env=env)
    assert out.returncode == 0 and out.stdout.strip() == "{"
    assert "error" not in out.stderr.lower()


def test_the_test_command_prints_the_command_it_runs(invoke, monkeypatch):
    from teaching import suites

    monkeypatch.setattr(suites.subprocess, "run", lambda command, cwd: subprocess.CompletedProcess(command, 0))
    assert "$ cd levels/level_1 && python -m pytest -q\n" in invoke("test", "1").output  # a project: in its folder
    assert "$ python -m pytest -q -m level0\n" in invoke("test", "0").output  # the notebook: the toolkit runs it


def test_diff_statuses_name_what_happened(invoke):
    files = {f["new"] or f["old"]: f for f in json.loads(invoke("diff", "0", "1", "--json").output)["files"]}
    train, serve = files["taxi_duration/train.py"], files["taxi_duration/serve.py"]
    assert train["status"] == "renamed and changed" and train["old"] == "duration_prediction.ipynb"
    assert serve["status"] == "added"
    body = invoke("diff", "0", "1", "--file", "taxi_duration/serve.py").output
    assert "--- /dev/null" in body and "level_0//dev/null" not in body


def test_diff_refuses_a_downward_pair_instead_of_swapping_it(invoke):
    result = invoke("diff", "3", "1")
    assert result.exit_code == 2 and "diff 1 3" in result.output


def test_explain_says_still_manual_once_and_does_not_point_at_itself(invoke):
    text = invoke("explain", "3").output
    assert text.count("Still manual") == 1
    assert "See `mlops-levels explain 3`" not in text and "See mlops-levels explain 3" not in text


def test_the_last_level_does_not_promise_a_next_level(invoke):
    assert "what the next level automates" in invoke("explain", "3").output
    text = invoke("explain", "4").output
    assert "Still manual" in text and "next level" not in text


def test_explain_3_says_each_ride_goes_to_one_arm_not_to_both(invoke):
    words = [word for word in invoke("explain", "3").output.split() if word not in ("│", "┃", "|")]
    text = " ".join(words)  # a table cell wraps: read its words in order, without the borders
    assert "compared on the same rides" not in text and "each ride" in text


@pytest.mark.slow
def test_walkthrough_numbers_code_as_the_file_does(invoke):
    from teaching.catalog import get_level

    level = get_level(1)
    practice = next(p for p in level.practices if p.id == "packaged_service")
    source = (level.folder / practice.file).read_text().splitlines()
    line = next(i for i, text in enumerate(source, 1) if text.startswith("def create_app"))
    text = invoke("walkthrough", "1", "--no-pause", "--step", "5").output
    assert f"line {line}" in text or re.search(rf"^\s*{line}\s+.*def create_app", text, re.MULTILINE)


@pytest.mark.parametrize("width", [80])
def test_views_fit_80_columns_without_breaking_identifiers(width, invoke, monkeypatch):
    monkeypatch.setenv("COLUMNS", str(width))
    for args in (["list"], ["explain", "4"], ["diff", "2", "3", "--stat"], ["doctor"]):
        text = invoke(*args).output
        for line in text.splitlines():
            overflow = line[width:]
            assert not overflow.strip() or " " not in overflow.strip(), (args, line)  # only one long identifier
        for name in ("platform_api.py", "deployer.py", "mlops-levels", "continuous_delivery"):
            assert not re.search(rf"{name[:6]}\n\S*{name[6:]}", text), (args, name)


def test_a_run_report_spells_values_out_instead_of_printing_python(invoke, monkeypatch):
    from teaching import render

    report = {
        "level": 2,
        "train": "2021-01",
        "val": "2021-02",
        "model": "ridge",
        "wall_seconds": 1.0,
        "metrics": {"rmse_val": 6.1},
        "artifacts": {"mlflow run": "abc"},
        "manual_steps": [],
        "details": {
            "best_params": {"alpha": 1.0},
            "serving_after": [{"name": "champion", "version": "3"}],
            "empty": {},
        },
    }
    from rich.console import Console

    console = Console(width=80, record=True)
    console.print(render.run_report_view(report))
    text = console.export_text()
    assert "alpha=1" in text and "{'" not in text and "[{" not in text


def test_hints_repeat_the_workspace_the_person_chose(invoke, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    chosen = invoke("-w", "my ws", "list").output
    assert "mlops-levels -w 'my ws' explain 0" in chosen and "mlops-levels -w 'my ws' run 0" in chosen
    refused = invoke("-w", "my ws", "ui", "3")
    assert refused.exit_code == 2 and "mlops-levels -w 'my ws' run 3" in refused.output
    assert "mlops-levels explain 0" in invoke("list").output  # the workspace a bare command finds: no -w


def test_diff_says_what_changes_the_numbers_between_the_levels_it_compares(invoke):
    def words(*args: str) -> str:
        return " ".join(w for w in invoke(*args).output.split() if w not in ("│", "┃", "|"))

    first = words("diff", "0", "1", "--stat")
    assert "What changes the numbers" in first and "are dropped" in first and "not because of tests, CI" in first
    assert "Level 2:" not in first  # only the levels between the two compared
    assert "not what it predicts" in words("diff", "1", "2", "--stat")
    assert all(f"Level {n}:" in words("diff", "0", "4", "--stat") for n in (1, 2, 3, 4))


@pytest.mark.parametrize(("a", "b"), [(0, 1), (3, 4)])
def test_diff_prints_every_line_count_whole_at_80_columns(a, b, invoke, monkeypatch):
    # A table wider than the terminal once shrank every column evenly: each count became "…" or nothing.
    monkeypatch.setenv("COLUMNS", "80")
    files = json.loads(invoke("diff", a, b, "--json").output)["files"]
    rows = [line for line in invoke("diff", a, b, "--stat").output.splitlines() if re.search(r"[+−]\d+ │", line)]
    counts = [re.findall(r"([+−]\d+) │", row) for row in rows]
    assert counts == [[f"+{f['added']}", f"−{f['removed']}"] for f in files]
    assert "…" not in "".join(rows)


def test_diff_says_when_the_last_runs_it_puts_side_by_side_ran_on_different_data(invoke, workspace):
    # Level 0's `run 0` on the mild scenario beside level 1's run from `run all` on returning traffic: the
    # table compared their RMSEs without a word about the data.
    from teaching.state import load_state, record_run

    assert invoke("run", "0", "--scenario", "traffic-returns").exit_code == 0
    ran = load_state(workspace)["levels"]["0"]["last_run"]
    assert ran["data"] == "synthetic months, traffic-returns scenario, seed 42"

    report = {"train": "2021-01", "val": "2021-02", "model": "linear_regression", "metrics": {"rmse_val": 7.0}}
    record_run(workspace, 1, {**report, "wall_seconds": 1.0}, "synthetic months, mild scenario, seed 42")
    text = invoke("diff", "0", "1", "--stat").output
    assert "mild scenario" in text and "traffic-returns" in text
    assert "used different data, so their numbers are not comparable" in text and "mlops-levels run all" in text

    record_run(workspace, 1, {**report, "wall_seconds": 1.0}, ran["data"])
    assert "not comparable" not in invoke("diff", "0", "1", "--stat").output


def test_walkthrough_0_ends_on_a_next_step_that_exists(invoke):
    # It pointed at `exercise list --level 0`, which answers that level 0 has no checked exercise.
    last = invoke("walkthrough", "0", "--no-pause", "--step", "4").output.splitlines()[-1]
    assert last.endswith("Next: mlops-levels diff 0 1"), last
    last = invoke("walkthrough", "1", "--no-pause", "--step", "8").output.splitlines()[-1]
    assert last.endswith("Next: mlops-levels exercise list --level 1"), last


def test_exercise_list_suggests_checking_the_exercise_started_rather_than_starting_another(invoke, monkeypatch):
    from teaching.exercises import commands

    monkeypatch.setattr(commands, "_warm_up", lambda workspace: None)  # its check server plays no part here
    assert (
        json.loads(invoke("exercise", "list", "--json").output)["next"] == "mlops-levels exercise start request-metrics"
    )
    assert invoke("exercise", "start", "request-metrics").exit_code == 0
    assert (
        json.loads(invoke("exercise", "list", "--json").output)["next"] == "mlops-levels exercise check request-metrics"
    )
    assert "mlops-levels exercise check request-metrics" in invoke("exercise", "list").output


def test_levels_recorded_at_once_are_all_kept(tmp_path):
    """`run all` records levels from two threads: each record survives the other's write."""
    from concurrent.futures import ThreadPoolExecutor

    from teaching.state import load_state, record_run

    report = {"train": "2021-01", "val": "2021-02", "model": "linear_regression", "metrics": {}, "wall_seconds": 1.0}
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda level: record_run(tmp_path, level, report, "synthetic"), range(40)))
    assert sorted(int(level) for level in load_state(tmp_path)["levels"]) == list(range(40))
