"""What an assessment returns: per-practice findings with evidence, levels per view, what was read.

Plain dataclasses with a `to_dict` for `--json`; no behaviour beyond formatting, so the renderer and
the tests read the same shapes.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["found", "partial", "absent"]
CREDIT: dict[str, float] = {"found": 1.0, "partial": 0.5, "absent": 0.0}


@dataclass(frozen=True)
class Evidence:
    """One line a person can open and agree with: the construct itself, never a comment or a string."""

    file: str  # posix path relative to the assessed folder
    line: int  # 1-based; for a notebook, the line inside the cell
    text: str  # the source line, stripped
    construct: str  # what was recognised there, in words
    token: str  # the identifier or key on that line that *is* the construct
    cell: int | None = None  # 1-based position of the notebook cell, counting every cell (markdown too)
    cells: int | None = None  # how many cells the notebook has
    execution_count: int | None = None  # the `[n]` Jupyter shows left of a code cell that was run
    reach: str = ""  # running | tested | not running; "" for configuration

    @property
    def where(self) -> str:
        """`file:line`; in a notebook the cell as Jupyter labels it: `In [7]` line 2, or, for a cell never
        run, its position: cell 3 of 12 (code) line 2."""
        if self.cell is None:
            return f"{self.file}:{self.line}"
        if self.execution_count is not None:
            return f"{self.file} In [{self.execution_count}] line {self.line}"
        return f"{self.file} cell {self.cell} of {self.cells} (code) line {self.line}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "cell": self.cell,
            "cells": self.cells,
            "execution_count": self.execution_count,
            "where": self.where,
            "text": self.text,
            "construct": self.construct,
            "token": self.token,
            "reach": self.reach or None,
        }


@dataclass
class Finding:
    """A detector's answer for one practice."""

    status: Status
    evidence: list[Evidence] = field(default_factory=list)
    note: str = ""

    @classmethod
    def absent(cls, note: str = "") -> Finding:
        return cls("absent", [], note)


@dataclass
class PracticeResult:
    id: str
    title: str
    view: str
    first_level: int
    needs: str  # the construct the detector looks for
    status: Status
    evidence: list[Evidence]
    note: str

    @property
    def runs(self) -> str | None:
        """Whether what was found runs: `running` (something runs it), `tested` (only tests reach it),
        `not running` (a notebook, dead code, a job started by hand); None for absent practices and for
        tests and CI, which are checks, not things that run in production."""
        if self.status == "absent" or self.id in ("unit_tests", "ci"):
            return None
        if self.status == "found":
            return "running"
        return "tested" if any(e.reach == "tested" for e in self.evidence) else "not running"

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "view": self.view,
            "first_level": self.first_level,
            "needs": self.needs,
            "status": self.status,
            "runs": self.runs,
            "evidence": [e.to_dict() for e in self.evidence],
            "note": self.note,
        }


@dataclass
class ViewResult:
    id: str
    title: str
    level: int | None  # None: this view cannot be seen in files
    reasoning: str
    practices: list[str]
    gap: str = ""  # practices of a higher level present with lower levels of this view missing

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "level": self.level,
            "reasoning": self.reasoning,
            "gap": self.gap or None,
            "practices": self.practices,
        }


# What the walk itself skips (before any file is opened): counted once for a whole folder.
WALK_REASONS = {"not needed by any detector", "too large", "in a data folder"}


@dataclass
class ReadCounts:
    """What the walk saw and what it read, so that "level 0" never hides "read nothing"."""

    files_seen: int = 0
    python_files: int = 0
    notebooks: int = 0
    notebook_cells: int = 0
    config_files: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> files
    folders_skipped: Counter[str] = field(default_factory=Counter)  # reason -> folders
    # Files a detector wanted and could not read, one line each: (file, what was wrong with it).
    unreadable: list[tuple[str, str]] = field(default_factory=list)

    @property
    def read(self) -> int:
        return self.python_files + self.notebooks + self.config_files

    def skip(self, reason: str, files: int = 1) -> None:
        self.skipped[reason] += files

    def add(self, other: ReadCounts, folder: str) -> None:
        """What was read in a sub-folder, counted here too (its files named from here)."""
        self.python_files += other.python_files
        self.notebooks += other.notebooks
        self.notebook_cells += other.notebook_cells
        self.config_files += other.config_files
        for reason, files in other.skipped.items():
            if reason not in WALK_REASONS:  # the walk of the whole folder counted those already
                self.skip(reason, files)
        listed = set(self.unreadable)
        for rel, why in other.unreadable:
            cited = posixpath.normpath(f"{folder}/{rel}")  # `../.github/…`: a workflow at the top
            if (cited, why) not in listed:
                self.unreadable.append((cited, why))

    def cannot_read(self, rel: str, reason: str, detail: str = "") -> None:
        """Counted under `reason` and listed by name: a person must know which file was not read."""
        self.skip(reason)
        self.unreadable.append((rel, f"{reason}: {detail}" if detail else reason))

    def to_dict(self) -> dict[str, Any]:
        return {
            "files_seen": self.files_seen,
            "files_read": self.read,
            "python_files": self.python_files,
            "notebooks": self.notebooks,
            "notebook_cells": self.notebook_cells,
            "config_files": self.config_files,
            "skipped_files": dict(sorted(self.skipped.items())),
            "skipped_folders": dict(sorted(self.folders_skipped.items())),
            "not_read": [{"file": rel, "why": why} for rel, why in self.unreadable],
        }


@dataclass(frozen=True)
class NotFollowed:
    """A command that names something of the project assess could not resolve: said, never guessed."""

    file: str
    line: int
    command: str
    why: str

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "command": self.command, "why": self.why}


@dataclass(frozen=True)
class ProjectLevel:
    """One project of a folder that holds several unrelated ones."""

    folder: str  # relative to the assessed folder
    level: int
    reasoning: str

    def to_dict(self) -> dict[str, Any]:
        return {"folder": self.folder, "level": self.level, "reasoning": self.reasoning}


@dataclass
class Assessment:
    folder: str
    level: int
    reasoning: str
    views: list[ViewResult]
    practices: dict[str, PracticeResult]
    read: ReadCounts
    next_steps: list[str]
    ladder: dict[int, dict[str, Any]]  # level -> credit, share, reached
    not_followed: list[NotFollowed] = field(default_factory=list)
    projects: list[ProjectLevel] = field(default_factory=list)  # set when the folder holds several

    def to_dict(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "level": self.level,
            "reasoning": self.reasoning,
            "projects": [p.to_dict() for p in self.projects],
            "views": [v.to_dict() for v in self.views],
            "practices": {pid: p.to_dict() for pid, p in self.practices.items()},
            "ladder": {str(k): v for k, v in self.ladder.items()},
            "next_steps": self.next_steps,
            "not_followed": [n.to_dict() for n in self.not_followed],
            "read": self.read.to_dict(),
        }
