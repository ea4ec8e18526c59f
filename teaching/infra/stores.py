"""Checks a workspace store before it is used: a damaged one stops the command with one line; it is never
replaced by an empty one, and never changed by the check.

MLflow, handed a truncated or corrupt `mlflow.db`, creates a fresh schema in it: versions start at 1
again and every earlier run is silently gone. Handed a store with one of its tables missing, or one made
by another MLflow version, it starts migrating it and fails half-way, leaving the file changed. So the
store is opened read-only first, and its tables and schema revision are compared with what the installed
MLflow expects (its own ORM and migration scripts, not a list kept here).
"""

from __future__ import annotations

import functools
import sqlite3
from importlib.metadata import version
from pathlib import Path
from typing import NamedTuple

from common.errors import StoreError

SQLITE_HEADER = b"SQLite format 3\x00"
SCHEMA_TABLE = "alembic_version"  # where MLflow's migrations (alembic) record the store's schema revision


class Schema(NamedTuple):
    tables: frozenset[str]
    head: str  # the revision the installed MLflow migrates every store to
    known: frozenset[str]  # every revision it knows: an older store is one of these


@functools.cache
def mlflow_schema() -> Schema:
    """What the installed MLflow expects of a store: the tables of its ORM and its latest schema revision."""
    import mlflow.store.model_registry.dbmodels.models  # noqa: F401  (each import registers its tables)
    import mlflow.store.tracking.dbmodels.models  # noqa: F401
    from alembic.script import ScriptDirectory
    from mlflow.store import db_migrations
    from mlflow.store.db.base_sql_model import Base

    script = ScriptDirectory(str(Path(db_migrations.__file__).parent))
    return Schema(
        tables=frozenset(Base.metadata.tables),
        head=str(script.get_current_head()),
        known=frozenset(revision.revision for revision in script.walk_revisions()),
    )


def check_sqlite_store(path: Path, thorough: bool = False) -> None:
    """Raise StoreError unless `path` is absent (a new store) or a readable MLflow sqlite store of this MLflow."""
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
        tables, revisions, verdict = _read_only_look(path, thorough)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"the tracking store is damaged ({exc})", where=str(path), fix=fix) from None
    if "experiments" not in tables:
        raise StoreError("the tracking store holds no MLflow tables", where=str(path), fix=fix)
    if verdict != "ok":
        raise StoreError(f"the tracking store is damaged ({verdict})", where=str(path), fix=fix)
    _check_schema(path, tables, revisions, fix)


def _read_only_look(path: Path, thorough: bool) -> tuple[set[str], list[str], str]:
    """The store's tables, its schema revision(s) and (if thorough) its integrity verdict; nothing written."""
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        revisions = []
        if SCHEMA_TABLE in tables:
            revisions = [row[0] for row in db.execute(f"SELECT version_num FROM {SCHEMA_TABLE}")]
        verdict = db.execute("PRAGMA quick_check").fetchone()[0] if thorough else "ok"
    db.close()  # the context manager ends a transaction; it does not close
    return tables, revisions, str(verdict)


def _check_schema(path: Path, tables: set[str], revisions: list[str], fix: str) -> None:
    """The store's schema revision is the one this MLflow expects, and every table of that schema is there."""
    expected = mlflow_schema()
    if len(revisions) != 1:
        raise StoreError("the tracking store has no MLflow schema revision", where=str(path), fix=fix)
    revision, mlflow_version = revisions[0], version("mlflow")
    if revision in expected.known and revision != expected.head:
        raise StoreError(
            f"the tracking store was made by an older MLflow (schema {revision}, MLflow {mlflow_version} "
            f"expects {expected.head})",
            where=str(path),
            fix=f"back it up, then upgrade it: mlflow db upgrade sqlite:///{path}; or move it aside "
            f"(mv {path.name} {path.name}.old)",
        )
    if revision != expected.head:
        raise StoreError(
            f"the tracking store was made by another MLflow version (schema {revision} is unknown to "
            f"MLflow {mlflow_version})",
            where=str(path),
            fix=f"open it with the MLflow that made it, or move it aside (mv {path.name} {path.name}.other)",
        )
    missing = sorted(expected.tables - tables)
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise StoreError(f"the tracking store is damaged (MLflow tables missing: {shown})", where=str(path), fix=fix)
