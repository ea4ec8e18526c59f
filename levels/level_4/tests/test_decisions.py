"""The decision log is the loop's memory: what it decided, and where a restarted loop resumes. Only the loop
writes it. A line edited by hand into another valid decision was acted on; a month written as a number or
null, or a champion written as text, crashed the loop later with "unexpected error" (exit 1); so did a
store that cannot be written (`chattr +i`). Each now stops the loop with the file and the line (exit 3).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from common.errors import StoreError

CHAMPION = {"version": "1", "train": "2021-01", "val": "2021-02", "baseline_rmse": 5.0}
LOOP = ["--months", "2021-01..2021-03", "--platform-url", "http://127.0.0.1:9"]  # 127.0.0.1:9 answers nothing


def _story() -> Any:
    """This project's story, two months decided by the loop's own DecisionLog."""
    from taxi_duration.automation import decision_log
    from taxi_duration.config import Config

    log = decision_log(Config.from_env(), "2021-01", "linear_regression")
    log.record({"month": "2021-01", "action": "initial training", "champion": CHAMPION})
    log.record({"month": "2021-02", "action": "none", "champion": CHAMPION, "rmse": 5.1})
    return log


def _loop_refuses(capsys: pytest.CaptureFixture[str], where: str, why: str = "") -> None:
    from taxi_duration import automation

    code = automation.main(LOOP)
    err = capsys.readouterr().err
    assert code == 3, err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert where in err and why in err


def _edit(path: Path, line: int, change: Any) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    lines[line - 1] = change(lines[line - 1])
    path.write_bytes(b"".join(lines))


def test_the_decision_log_is_private_and_reads_back_as_written():
    log = _story()
    assert [d["month"] for d in log.read()] == ["2021-01", "2021-02"]
    assert log.read()[0] == {"month": "2021-01", "action": "initial training", "champion": CHAMPION}
    for path in (log.path, log.sealed.key_path, log.sealed.head_path):
        assert oct(os.stat(path).st_mode & 0o777) == "0o600", path


@pytest.mark.parametrize(
    "change",
    [
        lambda line: line.replace(b'"version":"1"', b'"version":"3"'),  # another champion, still a decision
        lambda line: line.replace(b'"action":"none"', b'"action":"retrained and promoted"'),
    ],
    ids=["champion", "action"],
)
def test_a_hand_edited_valid_decision_line_is_refused_at_its_line(capsys, change):
    log = _story()
    _edit(log.path, 2, change)
    assert json.loads(log.path.read_bytes().splitlines()[1])["month"] == "2021-02"  # still reads as a decision
    _loop_refuses(capsys, f"{log.path}:2", "not a record the loop wrote")


def test_an_appended_valid_decision_line_is_refused_at_its_line(capsys):
    log = _story()
    with log.path.open("a") as handle:
        handle.write(json.dumps({"month": "2021-03", "action": "none", "champion": CHAMPION}) + "\n")
    _loop_refuses(capsys, f"{log.path}:3")


WRONG_TYPES = [
    {"month": 202103, "action": "none", "champion": CHAMPION},
    {"month": None, "action": "none", "champion": CHAMPION},
    {"month": "٢٠٢١-٠٣", "action": "none", "champion": CHAMPION},  # Arabic-Indic digits
    {"month": "2021-03", "action": "none", "champion": "1"},
    {"month": "2021-03", "action": None, "champion": CHAMPION},
]
WRONG_IDS = ["month-int", "month-null", "month-not-ascii", "champion-string", "action-null"]


@pytest.mark.parametrize("line", WRONG_TYPES, ids=WRONG_IDS)
def test_a_wrong_typed_decision_line_is_exit_3_at_its_line_not_a_crash(capsys, line):
    log = _story()
    with log.path.open("a") as handle:  # written by hand: no seal
        handle.write(json.dumps(line) + "\n")
    _loop_refuses(capsys, f"{log.path}:3")


@pytest.mark.parametrize("line", WRONG_TYPES, ids=WRONG_IDS)
def test_a_wrong_typed_decision_is_refused_even_with_a_valid_seal(capsys, line):
    log = _story()
    log.sealed.append(line)  # as a bug in the loop would write it: sealed, but not a decision
    _loop_refuses(capsys, f"{log.path}:3", "not a decision the loop wrote")
    with pytest.raises(StoreError, match="cannot be recorded"):  # and the loop itself never writes one
        log.record(line)


def test_a_decision_log_others_can_read_or_write_is_refused_with_the_fix(capsys):
    log = _story()
    log.path.chmod(0o644)
    _loop_refuses(capsys, str(log.path), f"chmod 600 {log.path}")


@contextlib.contextmanager
def _immutable(path: Path) -> Iterator[None]:
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("this file system (or user) cannot make a file immutable")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_an_immutable_decision_log_is_a_store_error_naming_it():
    log = _story()
    with _immutable(log.path), pytest.raises(StoreError) as refused:
        log.record({"month": "2021-03", "action": "none", "champion": CHAMPION})
    assert str(log.path) in refused.value.one_line() and refused.value.exit_code == 3
    assert [d["month"] for d in log.read()] == ["2021-01", "2021-02"]


def test_an_immutable_decisions_folder_stops_the_cycle_with_its_path():
    from taxi_duration.automation import monthly_cycle

    log = _story()
    with _immutable(log.path.parent), pytest.raises(StoreError) as refused:
        monthly_cycle.fn("2021-01", month="2021-03")
    assert str(log.path.parent) in refused.value.one_line()
