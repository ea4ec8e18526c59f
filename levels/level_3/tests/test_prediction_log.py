"""The prediction log under faults it can meet without root: a file-size limit that cuts a write short,
a crash that tears the last line, a line damaged in the middle. (A real full disk: test_disk_full.py.)"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import LEVEL_DIR

from common.errors import DataError, StoreError
from taxi_duration.prediction_log import PredictionLog, read_log

# Runs in a child process: RLIMIT_FSIZE makes the kernel cut a write at the limit (a short write), then
# refuse the next one with EFBIG, the same path a filling disk takes. The parent stays unlimited.
_APPEND_UNTIL_REFUSED = """
import json, resource, signal, sys
from taxi_duration.prediction_log import PredictionLog
from common.errors import StoreError
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), resource.RLIM_INFINITY))
log = PredictionLog(sys.argv[1])
acknowledged, refused = [], []
for i in range(200):
    batch = [{"ride_id": f"r{i}-{j}", "prediction": 1.5} for j in range(1 + i % 4)]
    try:
        log.append(batch)
        acknowledged += [r["ride_id"] for r in batch]
    except StoreError as exc:
        refused.append(exc.one_line())
print(json.dumps({"acknowledged": acknowledged, "refused": refused}))
"""


def test_a_write_cut_short_is_rolled_back_and_refused(tmp_path):
    path = tmp_path / "log.jsonl"
    out = subprocess.run(
        [sys.executable, "-c", _APPEND_UNTIL_REFUSED, str(path), "6000"],
        capture_output=True,
        text=True,
        cwd=LEVEL_DIR,
        check=True,
    )
    result = json.loads(out.stdout)
    assert result["refused"], "the size limit was never reached: the test proves nothing"
    assert "prediction could not be recorded" in result["refused"][0] and "file too large" in result["refused"][0]
    read = read_log(path)
    assert not read.torn_last_line and path.read_bytes().endswith(b"\n")
    assert list(read.records.ride_id) == result["acknowledged"]  # every acknowledged record, and no other


def test_a_torn_last_line_is_reported_then_cut_when_the_log_is_reopened(tmp_path, caplog):
    path = tmp_path / "log.jsonl"
    log = PredictionLog(path)
    log.append([{"ride_id": "a"}])
    log.close()
    with open(path, "ab") as handle:  # the service died in the middle of a write
        handle.write(b'{"ride_id":"b","predic')
    assert read_log(path).torn_last_line
    log = PredictionLog(path)  # the restarted service appends after whole lines only
    log.append([{"ride_id": "c"}])
    log.close()
    read = read_log(path)
    assert list(read.records.ride_id) == ["a", "c"] and not read.torn_last_line
    assert "torn last line" in caplog.text


@pytest.mark.parametrize(
    "damage",
    [b"garbage\n", b'{"ride_id": "x"\n', b"\n", b'{"ride_id": "\xff\xfe"}\n', b"[1, 2]\n"],
    ids=["garbage", "cut-json", "empty-line", "invalid-utf8", "not-an-object"],
)
def test_a_damaged_line_in_the_middle_is_an_error_naming_it(tmp_path, damage):
    path = tmp_path / "log.jsonl"
    path.write_bytes(b'{"ride_id": "a"}\n' + damage + b'{"ride_id": "c"}\n')
    with pytest.raises(DataError, match=r"line 2 is not a prediction record") as caught:
        read_log(path)
    assert str(path) in caught.value.one_line()


def test_a_log_that_cannot_be_opened_is_a_store_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(StoreError, match="cannot open the prediction log"):
        PredictionLog(blocker / "log.jsonl")
