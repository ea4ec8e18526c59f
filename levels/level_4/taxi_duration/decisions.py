"""Level 4 · automated_retraining: every monthly decision, recorded (what was measured, which rule
fired, what was trained, what the gate said, which version serves now). The same log tells a restarted
loop where it stopped: months already recorded are not done again.

A line the loop cannot read is never skipped: skipping it would run that month again, later, with a
later model, and write the story out of order. It stops the loop with the file and the line (exit 3).
The log is sealed like the platform's audit log (deployer.SealedLog: 0600, each line an HMAC chained to
the one before, with a key beside it that only the loop's account can read), so a line edited by hand,
even into a valid decision, is refused too; and a line the loop sealed but of the wrong shape (a month
that is not text like 2021-03, a champion that is not a record) is refused before anything acts on it.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from common.errors import StoreError
from taxi_duration.deployer import SealedLog

FIX = "restore it and its .key and .head from a backup, or move all three aside to start the story again"
MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")  # ASCII digits only: "٢٠٢١-٠١" is not a month the loop writes


def shape_error(decision: dict[str, Any]) -> str | None:
    """What is wrong with a decision's shape, if anything: the fields every later step relies on."""
    month, champion = decision.get("month"), decision.get("champion")
    if not isinstance(month, str) or not MONTH.fullmatch(month):
        return f"its month is {json_text(month)}, not text like 2021-03"
    if not isinstance(decision.get("action"), str):
        return f"its action is {json_text(decision.get('action'))}, not text"
    if not isinstance(champion, dict) or not isinstance(champion.get("version"), str):
        return f"its champion is {json_text(champion)}, not a record with a version"
    return None


def json_text(value: Any) -> str:
    return "missing" if value is None else f"{type(value).__name__} {str(value)[:40]!r}"


class DecisionLog:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.sealed = SealedLog(self.path, "the decision log", "the loop", FIX)

    def record(self, decision: dict[str, Any]) -> None:
        """One sealed line, synced before the month counts as decided (deployer.SealedLog.append)."""
        problem = shape_error(decision)
        if problem:  # never write what read() would refuse
            raise StoreError(f"this decision cannot be recorded: {problem}", where=str(self.path))
        self.sealed.append(decision)

    def read(self) -> list[dict[str, Any]]:
        decisions = self.sealed.records()  # each line checked against its seal first
        for number, decision in enumerate(decisions, 1):
            problem = shape_error(decision)
            if problem:
                raise StoreError(
                    f"this line is not a decision the loop wrote: {problem}", where=f"{self.path}:{number}", fix=FIX
                )
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
        lock = FileLock(str(self.path) + ".lock", timeout=600, mode=0o600)
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            lock.acquire()
        except Timeout:
            raise StoreError("another cycle has held the decision log for 10 minutes", where=lock.lock_file) from None
        except OSError as exc:  # a read-only or immutable folder: say where, exit 3
            raise StoreError(f"cannot lock the decision log ({exc.strerror or exc})", where=lock.lock_file) from None
        try:
            yield
        finally:
            lock.release()
