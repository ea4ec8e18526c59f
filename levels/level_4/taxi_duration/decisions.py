"""Level 4 · automated_retraining: every monthly decision, recorded (what was measured, which rule
fired, what was trained, what the gate said, which version serves now). The same log tells a restarted
loop where it stopped: months already recorded are not done again.

A line the loop cannot read is never skipped: skipping it would run that month again, later, with a
later model, and write the story out of order. It stops the loop with the file and the line.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock

from common.errors import StoreError

REQUIRED = ("month", "action", "champion")
FIX = "restore the file from a backup, or move it aside to start the story again"


class DecisionLog:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def record(self, decision: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(decision, separators=(",", ":")) + "\n").encode()
        # One write on an O_APPEND file, synced before the month counts as decided.
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            written = os.write(fd, line)
            if written != len(line):
                os.ftruncate(fd, os.fstat(fd).st_size - written)
                raise StoreError("the decision was not written whole (disk full?)", where=str(self.path))
            os.fsync(fd)
        except OSError as exc:
            raise StoreError(f"cannot record the decision ({exc.strerror})", where=str(self.path)) from None
        finally:
            os.close(fd)

    def read(self) -> list[dict[str, Any]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except UnicodeDecodeError as exc:
            at = exc.object[: exc.start].count(b"\n") + 1
            raise StoreError("this line is not UTF-8 text", where=f"{self.path}:{at}", fix=FIX) from None
        except OSError as exc:
            raise StoreError(f"cannot read the decision log ({exc.strerror or exc})", where=str(self.path)) from None
        decisions = []
        for number, line in enumerate(text.splitlines(), 1):
            try:
                decision = json.loads(line)
                if not isinstance(decision, dict) or any(key not in decision for key in REQUIRED):
                    raise ValueError("not a decision")
            except ValueError:
                raise StoreError(
                    "this line is not a decision the loop wrote",
                    where=f"{self.path}:{number}",
                    fix=FIX,
                ) from None
            decisions.append(decision)
        return decisions

    def history(self) -> list[dict[str, Any]]:
        """The decisions, which the loop wrote one month after another: a month out of order or twice
        means the file was edited or copied together, and the story it tells cannot be trusted."""
        decisions = self.read()
        for number, (before, after) in enumerate(zip(decisions, decisions[1:], strict=False), 2):
            if after["month"] <= before["month"]:
                raise StoreError(
                    f"month {after['month']} comes after {before['month']}: the loop never writes that",
                    where=f"{self.path}:{number}",
                    fix=FIX,
                )
        return decisions

    def finished_months(self) -> set[str]:
        return {d["month"] for d in self.read()}

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """One monthly cycle at a time per log: two scheduled runs of one month must not both decide it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.path) + ".lock", timeout=600):
            yield
