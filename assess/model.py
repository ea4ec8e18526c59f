"""What an assessment returns: per-practice findings with evidence, levels per view, what was read.

Plain dataclasses with a `to_dict` for `--json`; no behaviour beyond formatting, so the renderer and
the tests read the same shapes.
"""

from __future__ import annotations

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
    cell: int | None = None  # 1-based index of the notebook cell, counting every cell

    @property
    def where(self) -> str:
        if self.cell is not None:
            return f"{self.file} cell {self.cell}:{self.line}"
        return f"{self.file}:{self.line}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "cell": self.cell,
            "text": self.text,
            "construct": self.construct,
            "token": self.token,
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "view": self.view,
            "first_level": self.first_level,
            "needs": self.needs,
            "status": self.status,
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "level": self.level,
            "reasoning": self.reasoning,
            "practices": self.practices,
        }


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

    @property
    def read(self) -> int:
        return self.python_files + self.notebooks + self.config_files

    def skip(self, reason: str, files: int = 1) -> None:
        self.skipped[reason] += files

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
        }


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "level": self.level,
            "reasoning": self.reasoning,
            "views": [v.to_dict() for v in self.views],
            "practices": {pid: p.to_dict() for pid, p in self.practices.items()},
            "ladder": {str(k): v for k, v in self.ladder.items()},
            "next_steps": self.next_steps,
            "read": self.read.to_dict(),
        }
