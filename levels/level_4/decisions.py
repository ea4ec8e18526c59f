"""Level 4 · automated_retraining: every monthly decision, recorded (what was measured, which rule
fired, what was trained, what the gate said, which version serves now). The same log tells a restarted
loop where it stopped: months already recorded are not done again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


class DecisionLog:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def record(self, decision: dict[str, Any]) -> None:
        # One os.write on an O_APPEND file: a crash leaves whole lines only (a torn last line is skipped).
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, (json.dumps(decision, separators=(",", ":")) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self) -> list[dict[str, Any]]:
        try:
            lines = self.path.read_text(encoding="utf-8").split("\n")
        except FileNotFoundError:
            return []
        decisions = []
        for line in lines:
            try:
                decisions.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return decisions

    def finished_months(self) -> set[str]:
        return {d["month"] for d in self.read()}
