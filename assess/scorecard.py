"""The scorecard for people (Rich): overall level and why, what was read and what could not be, then
each view's practices with the evidence a person can open. It reads at 80 columns: evidence is cut at
a word boundary, a folder is shortened from the left at a `/`, never in the middle of a name."""

from __future__ import annotations

import re
from typing import Any

from rich.console import Console, Group
from rich.padding import Padding
from rich.text import Text

from assess.model import Assessment


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def scorecard(result: Assessment) -> Group:
    """The scorecard of `mlops-levels assess`: overall level and why, then each view's practices with the
    evidence a person can open; evidence lines are shortened at a word boundary to fit the width."""
    marks = {"found": ("✓", "green"), "partial": ("◐", "yellow"), "absent": ("·", "dim")}
    read = result.read
    skipped = ", ".join(f"{n} {why}" for why, n in sorted(read.skipped.items())) or "none"
    folders = ", ".join(f"{n} {why}" for why, n in sorted(read.folders_skipped.items())) or "none"
    parts: list[Any] = [
        _FolderLine("Assessment of ", result.folder),
        Text(f"Level {result.level}", style="bold cyan") + Text(f" · {result.reasoning.split(': ', 1)[-1]}"),
        Text(
            f"Read {_count(read.read, 'file')}: {read.python_files} Python, {_count(read.notebooks, 'notebook')} "
            f"({_count(read.notebook_cells, 'code cell')}), {_count(read.config_files, 'config file')} "
            f"(build, CI, deploy); {read.files_seen} seen. Not read: {skipped}. Folders skipped: {folders}.",
            style="dim",
        ),
        *_listed("Could not read (one line each):", [(f"  ✗ {rel}  ", why) for rel, why in read.unreadable]),
        *_listed(
            "Not followed (named in a command, not found in the folder):",
            [(f"  ? {n.file}:{n.line}  ", f"{n.command} — {n.why}") for n in result.not_followed],
        ),
        *_listed(
            "Projects, assessed one by one (not added up); the card below is the most mature one's:",
            [(f"  {p.folder}  ", f"level {p.level}") for p in result.projects],
        ),
    ]
    for view in result.views:
        level = "not visible in files" if view.level is None else f"level {view.level}"
        parts.append(Text(f"\n{view.title} · {level}", style="bold"))
        if view.level is None:
            parts.append(Padding(Text(view.reasoning, style="dim"), (0, 0, 0, 2)))
        if view.gap:
            parts.append(Padding(Text(f"gap: {view.gap}", style="yellow"), (0, 0, 0, 2)))
        for pid in view.practices:
            practice = result.practices[pid]
            mark, style = marks[practice.status]
            runs = f" · {practice.runs}" if practice.runs else ""
            parts.append(Text(f"  {mark} ", style=style) + Text(f"{practice.title} · {practice.status}{runs}"))
            lines = [(f"      {e.where}  ", e.text) for e in practice.evidence]
            parts.append(_EvidenceLines(lines))
            if practice.status != "found" and practice.note:
                parts.append(Padding(Text(practice.note, style="dim"), (0, 0, 0, 6)))
    if result.next_steps:
        parts.append(Text(f"\nNext: {', '.join(result.next_steps)}", style="bold"))
    return Group(*parts)


def _listed(title: str, rows: list[tuple[str, str]]) -> list[Any]:
    """A titled block of `place  detail` rows, or nothing at all when there is nothing to say."""
    return [Text(title, style="bold yellow"), _EvidenceLines(rows)] if rows else []


class _FolderLine:
    """A label and a folder that fit the width: the folder shortened from the left at a `/`, never mid-name."""

    def __init__(self, label: str, folder: str) -> None:
        self.label, self.folder = label, folder

    def __rich_console__(self, console: Console, options: Any) -> Any:
        shown = self.folder
        while len(self.label) + len(shown) > options.max_width and "/" in shown.lstrip("…/"):
            shown = "…/" + shown.lstrip("…/").split("/", 1)[1]
        yield Text(self.label, style="bold") + Text(shown, style="bold")


class _EvidenceLines:
    """`file:line  code` rows cut to the console width at a word boundary, never inside an identifier."""

    def __init__(self, lines: list[tuple[str, str]]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Console, options: Any) -> Any:
        for where, code in self.lines:
            room = options.max_width - len(where)
            if room < 12:  # a long path: the path alone, shortened from the left at a folder boundary
                tail = where.strip()
                while len(tail) + 8 > options.max_width and "/" in tail:
                    tail = tail.split("/", 1)[1]
                where = f"      …/{tail}  " if tail != where.strip() else where
                room = options.max_width - len(where)
            if len(code) > room:
                cuts = [m.start() for m in re.finditer(r"\b", code) if 0 < m.start() <= room - 1]
                code = (code[: max(cuts)].rstrip() + "…") if cuts and room > 1 else ""
            yield Text(where, style="cyan") + Text(code)
