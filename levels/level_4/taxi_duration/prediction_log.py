"""Level 3+ · model_monitoring: every prediction appended to a log that monitoring reads later.

One JSON line per prediction, appended to a file opened O_APPEND. Ground truth arrives later and is
joined on ride_id. A prediction the log could not record is never answered with 200:

- Write side: a batch is written whole or not at all. On a full, read-only or failing disk (or a
  short write) the file is cut back to where the batch began, so no torn line is left, and a
  StoreError is raised; the service answers it with 503 and the reason (common.http).
- Read side: a last line without its newline is what a crash in the middle of a write leaves; it is
  left out and reported (`LogRead.torn_last_line`). Any other unreadable line means the file was
  damaged, and is a DataError naming the file and the line: a monitoring report never silently
  rests on part of the log.
- Reopening a log whose last line is torn cuts that line off first (it was never acknowledged), so
  that a restart after a crash does not bury it in the middle of the file.

Not fsync'd per request: the records survive a crash of the service, not a power cut.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from common.errors import DataError, StoreError

_log = logging.getLogger(__name__)
_FIX = "free space on the disk (or make it writable), then send the request again"


class PredictionLog:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise StoreError(
                f"cannot open the prediction log ({_reason(exc)})", where=str(self.path), fix=_FIX
            ) from None
        self._cut_torn_tail()

    def append(self, records: list[dict[str, Any]]) -> None:
        """Append the records whole, or raise StoreError with the file as it was."""
        now = time.time()
        data = "".join(json.dumps({"ts": now, **r}, separators=(",", ":")) + "\n" for r in records).encode()
        fcntl.flock(self._fd, fcntl.LOCK_EX)  # two worker processes on one file: no write between ours
        try:
            start = os.fstat(self._fd).st_size
            try:
                _write_all(self._fd, data)
            except OSError as exc:
                self._roll_back(start)
                raise StoreError(
                    f"a prediction could not be recorded ({_reason(exc)})", where=str(self.path), fix=_FIX
                ) from None
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self._fd)

    def _roll_back(self, end: int) -> None:
        try:
            os.ftruncate(self._fd, end)
        except OSError as exc:  # the torn tail stays: the reader reports it, and the next open cuts it
            _log.error("%s: could not cut a partly written batch (%s)", self.path, _reason(exc))

    def _cut_torn_tail(self) -> None:
        size = os.fstat(self._fd).st_size
        if size == 0 or os.pread(self._fd, 1, size - 1) == b"\n":
            return
        tail_start = _start_of_last_line(self._fd, size)
        _log.warning("%s: cut a torn last line of %d bytes left by a crash", self.path, size - tail_start)
        self._roll_back(tail_start)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written == 0:  # a regular file never does this unless the device is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[written:]


def _start_of_last_line(fd: int, size: int) -> int:
    position = size
    while position > 0:
        block = os.pread(fd, min(65536, position), max(0, position - 65536))
        position -= len(block)
        newline = block.rfind(b"\n")
        if newline >= 0:
            return position + newline + 1
    return 0


def _reason(exc: OSError) -> str:
    return exc.strerror.lower() if exc.strerror else type(exc).__name__


@dataclass(frozen=True)
class LogRead:
    """The whole records of a prediction log, and whether a crash left its last line torn."""

    records: pd.DataFrame
    torn_last_line: bool = False


def read_log(path: Path) -> LogRead:
    """All whole records. A torn last line is left out and reported; a bad line elsewhere is a DataError."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return LogRead(pd.DataFrame())
    except OSError as exc:
        raise StoreError(f"cannot read the prediction log ({_reason(exc)})", where=str(path)) from None
    lines = data.split(b"\n")
    torn = lines.pop() != b""  # the text after the last newline: empty unless a write was cut
    rows = []
    for number, line in enumerate(lines, start=1):
        try:
            row = json.loads(line)
        except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
            row = None
        if not isinstance(row, dict):
            raise DataError(
                f"line {number} is not a prediction record",
                where=str(path),
                fix="the log was damaged: restore it, or move it away and replay that month",
            )
        rows.append(row)
    return LogRead(pd.DataFrame(rows), torn_last_line=torn)
