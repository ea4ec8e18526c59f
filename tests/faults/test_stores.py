"""Every store the workspace owns is checked before use: one line, exit 3, nothing lost or half-written.

A damaged tracking store is never replaced by an empty one; a decision log with a line the loop did
not write stops the loop at that line; a read-only or full workspace is said as such.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from teaching.infra.serving import free_port


def _one_line(result) -> str:
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


@pytest.mark.parametrize("damage", ["empty", "truncated", "garbage"])
def test_a_damaged_tracking_store_stops_run_2_and_is_left_as_it_was(invoke, workspace, registries, damage):
    store = workspace / "level_2" / "mlflow.db"
    store.parent.mkdir(parents=True)
    whole = (registries.level_dir(2) / "mlflow.db").read_bytes()
    store.write_bytes({"empty": b"", "truncated": whole[: len(whole) // 2], "garbage": b"not a database" * 100}[damage])
    before = store.read_bytes()
    result = invoke("run", "2")
    assert result.exit_code == 3
    line = _one_line(result)
    assert str(store) in line and "tracking store" in line and "backup" in line
    assert store.read_bytes() == before  # not recreated, not "repaired" into an empty store


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _damage_schema(store: Path, damage: str) -> None:
    """Valid SQLite, damaged MLflow schema: what `sqlite3 mlflow.db` in a student's hands can leave behind."""
    from teaching.infra.stores import mlflow_schema

    older = sorted(mlflow_schema().known - {mlflow_schema().head})[0]
    statement = {
        "a table dropped": "DROP TABLE model_versions",
        "an older MLflow's schema": f"UPDATE alembic_version SET version_num = '{older}'",
        "a newer MLflow's schema": "UPDATE alembic_version SET version_num = 'ffffffffffff'",
        "no schema revision": "DROP TABLE alembic_version",
    }[damage]
    with sqlite3.connect(store) as db:
        db.execute(statement)
    db.close()


SCHEMA_DAMAGE = ["a table dropped", "an older MLflow's schema", "a newer MLflow's schema", "no schema revision"]


@pytest.mark.parametrize("damage", SCHEMA_DAMAGE)
def test_a_damaged_mlflow_schema_stops_run_2_and_leaves_the_file_byte_identical(invoke, workspace, registries, damage):
    store = workspace / "level_2" / "mlflow.db"
    store.parent.mkdir(parents=True)
    shutil.copyfile(registries.level_dir(2) / "mlflow.db", store)
    _damage_schema(store, damage)
    before = _sha256(store)
    result = invoke("run", "2")
    assert result.exit_code == 3, result.output
    line = _one_line(result)
    assert str(store) in line and "tracking store" in line and "mv mlflow.db" in line
    assert _sha256(store) == before  # MLflow never opened it: no migration started, no page changed


def test_ui_refuses_a_damaged_mlflow_schema_before_starting_a_server(invoke, workspace, registries):
    store = workspace / "level_2" / "mlflow.db"
    store.parent.mkdir(parents=True)
    shutil.copyfile(registries.level_dir(2) / "mlflow.db", store)
    _damage_schema(store, "a table dropped")
    before = _sha256(store)
    result = invoke("ui", "2", "--port", "1")  # the store check comes before the server would start
    assert result.exit_code == 3, result.output
    assert "model_versions" in _one_line(result)
    assert _sha256(store) == before


@pytest.mark.parametrize("damage", ["a table dropped", "a newer MLflow's schema", "cut short"])
def test_serve_3_refuses_a_damaged_store_and_leaves_the_file_as_it_was(invoke, workspace, registries, damage):
    """The platform must never start on a damaged store: MLflow would migrate it, or serve from an empty one."""
    shutil.copytree(registries.workspace, workspace, ignore=shutil.ignore_patterns("prefect"))
    store = workspace / "level_3" / "mlflow.db"
    if damage == "cut short":
        store.write_bytes(store.read_bytes()[:4096])
    else:
        _damage_schema(store, damage)
    before = _sha256(store)
    result = invoke("serve", "3", "--port", str(free_port()))
    assert result.exit_code == 3, result.output
    assert "tracking store" in _one_line(result) and "Traceback" not in result.output
    assert _sha256(store) == before


LEVEL_4 = Path(__file__).parents[2] / "levels" / "level_4"
FIRST = {"month": "2021-01", "action": "initial training", "champion": {"version": "1", "train": "2021-01"}}
LOG = "level_4/platform/decisions/synthetic-mild-seed42-2021-01-linear_regression.jsonl"

# Level 4's own loop command, in one interpreter for many workspaces: each case's decisions are recorded by
# the loop's own DecisionLog (sealed with the story's key), its bytes appended by hand, then
# `python -m taxi_duration.automation` runs on it with the environment `run 4` gives it. The log is
# read before the platform is called, so none is started (`run 4` would start one per case: ~1 min each
# on the shared 2-core machine); test_a_damaged_decision_log_stops_run_4_in_one_line drives it end to end.
_LOOP = """
import contextlib, io, json, os, sys
from pathlib import Path
from taxi_duration import automation
from taxi_duration.decisions import DecisionLog
results = []
for case in json.loads(sys.stdin.read()):
    os.environ.clear()
    os.environ.update(case["env"])
    os.chdir(case["cwd"])
    log = DecisionLog(Path(case["log"]))
    for decision in case["decided"]:
        log.record(decision)
    with open(case["log"], "ab") as handle:
        handle.write(bytes.fromhex(case["append"]))
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = automation.main(["--months", case["months"], "--json"])
    results.append({"code": code, "err": err.getvalue()})
print(json.dumps(results))
"""


def _loop_on(root: Path, cases: dict[str, tuple[list[dict], bytes, str]]) -> dict[str, dict]:
    """case -> (decisions the loop recorded, bytes appended by hand, months asked): the loop's exit code, what
    it said on stderr, and its log (path and bytes) afterwards."""
    from teaching.infra.config import Settings
    from teaching.levelproc import level_env, workdir

    batch, logs = [], {}
    for name, (decided, appended, months) in cases.items():
        settings = Settings(workspace=root / name)
        logs[name] = settings.workspace / LOG
        logs[name].parent.mkdir(parents=True)
        env = level_env(4, settings, {"PLATFORM_URL": "http://127.0.0.1:9"})  # nothing answers there
        batch.append(
            {
                "env": env,
                "cwd": str(workdir(4, settings)),
                "log": str(logs[name]),
                "decided": decided,
                "append": appended.hex(),
                "months": months,
            }
        )
    done = subprocess.run(
        [sys.executable, "-c", _LOOP],
        input=json.dumps(batch),
        env=batch[0]["env"],  # the level on PYTHONPATH, as `run 4` puts it
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    said = json.loads(done.stdout)
    return {
        name: {**result, "log": logs[name], "bytes": logs[name].read_bytes()}
        for name, result in zip(cases, said, strict=True)
    }


NOT_WRITTEN_BY_THE_LOOP = {
    "torn": '{"month": "2021-02", "act',
    "garbage": "%%% garbage %%%",
    "json but wrong": '{"month": "2021-02"}',
    "valid but not sealed": '{"month": "2021-02", "action": "none", "champion": {"version": "3"}}',
    "month as int": '{"month": 202102, "action": "none", "champion": {"version": "1"}}',
    "month as null": '{"month": null, "action": "none", "champion": {"version": "1"}}',
    "champion as a string": '{"month": "2021-02", "action": "none", "champion": "1"}',
}
EDITED = {
    "invalid-utf8": (
        b'{"month": "2021-02", "action": "none", "champion": {"version": "1"}, "note": "\xff\xfe"}',
        "not a record",
    ),
    "month-twice": (b'{"month": "2021-01", "action": "none", "champion": {"version": "1"}}', "comes after"),
}
LATER = {"month": "2021-03", "action": "none", "champion": {"version": "1", "train": "2021-01"}, "rmse": 6.0}


@pytest.fixture(scope="module")
def loop_on_damaged_logs(tmp_path_factory) -> dict[str, dict]:
    cases = {
        why: ([FIRST], (line + "\n").encode(), "2021-01..2021-03") for why, line in NOT_WRITTEN_BY_THE_LOOP.items()
    }
    cases["invalid-utf8"] = ([FIRST], EDITED["invalid-utf8"][0] + b"\n", "2021-01..2021-03")
    # sealed by the loop's key, yet a story the loop never writes
    cases["month-twice"] = ([FIRST, json.loads(EDITED["month-twice"][0])], b"", "2021-01..2021-03")
    cases["month before"] = ([FIRST, LATER], b"", "2021-01..2021-04")
    return _loop_on(tmp_path_factory.mktemp("decision-logs"), cases)


def _refused(result: dict, code: int) -> str:
    lines = result["err"].strip().splitlines()
    assert result["code"] == code and len(lines) == 1 and lines[0].startswith("error: "), result
    return lines[0]


@pytest.mark.parametrize("why", list(NOT_WRITTEN_BY_THE_LOOP))
def test_a_decision_log_line_the_loop_did_not_write_stops_it_at_that_line(loop_on_damaged_logs, why):
    result = loop_on_damaged_logs[why]
    assert f"{result['log']}:2" in _refused(result, 3)
    assert result["bytes"].endswith((NOT_WRITTEN_BY_THE_LOOP[why] + "\n").encode())  # nothing appended, nothing re-run


@pytest.mark.parametrize("why", list(EDITED))
def test_a_decision_log_that_was_edited_stops_the_loop_at_its_line(loop_on_damaged_logs, why):
    result = loop_on_damaged_logs[why]
    line = _refused(result, 3)
    assert f"{result['log']}:2" in line and EDITED[why][1] in line


def test_a_month_before_the_last_decided_one_is_refused_not_decided_with_a_later_model(loop_on_damaged_logs):
    result = loop_on_damaged_logs["month before"]
    assert "2021-02 come(s) before 2021-03" in _refused(result, 2)
    assert len(result["bytes"].splitlines()) == 2


def _decided(log: Path, decisions: list[dict]) -> None:
    """Decisions as the loop records them (sealed with the story's key), by level 4's own DecisionLog."""
    code = "import json, sys; from taxi_duration.decisions import DecisionLog as L; from pathlib import Path as P; "
    code += "[L(P(sys.argv[1])).record(d) for d in json.loads(sys.argv[2])]"
    env = {**os.environ, "PYTHONPATH": str(LEVEL_4)}
    subprocess.run([sys.executable, "-c", code, str(log), json.dumps(decisions)], env=env, check=True)


def test_a_damaged_decision_log_stops_run_4_in_one_line(invoke, workspace, prefect_api):
    """`run 4` starts the platform, runs the loop, and says the loop's own line with its own exit code."""
    log = workspace / LOG
    _decided(log, [FIRST])
    with log.open("a") as handle:
        handle.write(NOT_WRITTEN_BY_THE_LOOP["torn"] + "\n")
    before = log.read_bytes()
    result = invoke("run", "4", "--months", "2021-01..2021-03")
    assert result.exit_code == 3, result.output
    assert f"{log}:2" in _one_line(result)
    assert log.read_bytes() == before  # nothing appended after it, nothing re-run


@pytest.mark.slow
def test_clean_empties_a_workspace_that_is_a_mount_point_and_leaves_it_mounted(invoke, mounted):
    disk = mounted("4m")
    assert invoke("--workspace", disk, "run", "0").exit_code == 0
    assert any(disk.iterdir())

    result = invoke("--workspace", disk, "clean", "--yes")

    assert result.exit_code == 0, result.output
    assert disk.is_mount() and list(disk.iterdir()) == []


@pytest.mark.slow
@pytest.mark.server
def test_a_full_disk_under_the_prefect_server_is_said_to_be_full(invoke, mounted, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)  # the workspace's own server, on the small disk
    full = mounted("1m")
    try:
        result = invoke("--workspace", full, "run", "2")
        assert result.exit_code == 3, result.output
        assert "full" in _one_line(result) and "free some space" in result.output
    finally:
        invoke("--workspace", full, "stop")


def test_a_read_only_workspace_is_one_line_exit_3(invoke, mounted):
    read_only = mounted("1m", read_only=True)
    result = invoke("--workspace", read_only, "run", "1")
    assert result.exit_code == 3
    assert "cannot write there" in _one_line(result) and str(read_only) in result.output
    assert "read-only" in _one_line(result) and "free some space" not in result.output  # its own fix


def test_a_full_disk_is_one_line_exit_3_and_leaves_no_half_file(invoke, mounted, monkeypatch):
    monkeypatch.delenv("MLOPS_LEVELS_SYNTHETIC_ROWS")  # a real-sized month (~1 MB) does not fit in 256 KB
    full = mounted("256k")
    result = invoke("--workspace", full, "run", "0")
    assert result.exit_code == 3
    assert "No space left on device" in _one_line(result) and "free some space" in result.output
    assert not [p for p in full.rglob("*") if p.is_file() and p.stat().st_size]  # no partial month, no model


@pytest.mark.parametrize(
    "fault",
    [
        PermissionError(errno.EACCES, "Permission denied"),  # no file name: not the workspace's fault
        ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
    ],
    ids=["permission-without-file", "connection-refused"],
)
def test_an_os_error_that_is_not_the_workspace_is_one_line_too(invoke, workspace, monkeypatch, fault):
    import teaching.state

    def fail(*args, **kwargs):
        raise fault

    monkeypatch.setattr(teaching.state, "levels_with_progress", fail)
    result = invoke("list")
    assert result.exit_code == 1, result.output
    line = _one_line(result)
    assert "unexpected error" in line and "chmod" not in line and "Traceback" not in result.output


def test_a_tracking_server_nobody_runs_is_said_at_once(invoke, workspace):
    from teaching.infra.serving import free_port

    uri = f"http://127.0.0.1:{free_port()}"
    result = invoke("run", "2", "--tracking-uri", uri)
    assert result.exit_code == 1, result.output
    line = _one_line(result)
    assert f"no MLflow server answers at {uri}" in line and "unexpected" not in line
    assert not (workspace / "prefect").exists()  # refused before a Prefect server was started for it
