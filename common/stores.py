"""Checks a workspace store before it is used: a damaged one stops the command with one line; it is never
replaced by an empty one.

MLflow, handed a truncated or corrupt `mlflow.db`, creates a fresh schema in it: versions start at 1
again and every earlier run is silently gone. Opening the store read-only first and looking for
MLflow's own tables prevents that.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from common.errors import StoreError

SQLITE_HEADER = b"SQLite format 3\x00"


def check_sqlite_store(path: Path, thorough: bool = False) -> None:
    """Raise StoreError unless `path` is absent (a new store) or a readable MLflow sqlite store."""
    if not path.exists():
        return
    fix = (
        f"restore it from a backup to keep its runs, or move it aside to start a new store "
        f"(mv {path.name} {path.name}.damaged)"
    )
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"cannot read the tracking store ({exc.strerror})", where=str(path), fix=fix) from None
    if header != SQLITE_HEADER:
        what = "is empty" if not header else "is not an SQLite database"
        raise StoreError(f"the tracking store {what}", where=str(path), fix=fix)
    try:
        with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            verdict = db.execute("PRAGMA quick_check").fetchone()[0] if thorough else "ok"
        db.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"the tracking store is damaged ({exc})", where=str(path), fix=fix) from None
    if "experiments" not in tables:
        raise StoreError("the tracking store holds no MLflow tables", where=str(path), fix=fix)
    if verdict != "ok":
        raise StoreError(f"the tracking store is damaged ({verdict})", where=str(path), fix=fix)
