"""Level 3+ · model_monitoring: every prediction appended to a log that monitoring reads later.

One JSON line per prediction, written with a single os.write on a file opened O_APPEND: a crash can
cut at most the last line, and the reader skips a line that is not whole. Ground truth arrives later
and is joined on ride_id.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pandas as pd


class PredictionLog:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def append(self, records: list[dict[str, Any]]) -> None:
        now = time.time()
        data = "".join(json.dumps({"ts": now, **r}, separators=(",", ":")) + "\n" for r in records)
        os.write(self._fd, data.encode())

    def close(self) -> None:
        os.close(self._fd)


def read_log(path: Path) -> pd.DataFrame:
    """All whole records; a torn last line (a crash mid-write) is skipped, never half-read."""
    rows = []
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return pd.DataFrame()
    for line in text.split("\n"):
        if not line:
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return pd.DataFrame(rows)
