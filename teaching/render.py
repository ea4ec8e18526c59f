"""Everything the CLI prints for people: Rich tables, panels, syntax-highlighted diffs.

Library code returns objects; only this module (and cli.py's error line) turns them into text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from levels.catalog import LevelInfo
from teaching.diff import LevelDiff

if TYPE_CHECKING:  # importing teaching.assess loads its readers: only `assess` should pay for that
    from teaching.assess.model import Assessment


def levels_table(levels: tuple[LevelInfo, ...], progress: dict[str, dict]) -> Table:
    table = Table(title="MLOps maturity levels — one taxi-duration model, built five times")
    for column in ("level", "name", "what it adds", "practices", "ran", "tested"):
        table.add_column(column, overflow="fold")
    for level in levels:
        state = progress.get(str(level.number), {})
        rmse = state.get("last_run", {}).get("metrics", {}).get("rmse_val")
        ran = f"✓ {rmse:.2f}" if rmse is not None else ("✓" if state.get("ran_at") else "·")
        tested = {True: "✓", False: "✗"}.get(state.get("tested"), "·")
        table.add_row(str(level.number), level.title, level.summary, str(len(level.practices)), ran, tested)
    return table


def next_step(levels: tuple[LevelInfo, ...], progress: dict[str, dict]) -> str:
    for level in levels:
        if not progress.get(str(level.number), {}).get("ran_at"):
            return f"mlops-levels explain {level.number}   then   mlops-levels run {level.number}"
    return "mlops-levels run all   (every level on the same data, compared)"


def explain(level: LevelInfo) -> Group:
    from rich.markdown import Markdown  # markdown-it costs ~25 ms: only `explain` pays it

    parts: list[Any] = [Markdown(level.readme)]
    if level.practices:
        table = Table(title=f"Practices at level {level.number}", show_lines=True)
        for column in ("practice", "where", "why"):
            table.add_column(column, overflow="fold")
        for practice in level.practices:
            table.add_row(practice.title, practice.where, practice.why)
        parts.append(table)
    if level.still_manual:
        parts.append(
            Panel(
                "\n".join(f"• {item}" for item in level.still_manual),
                title="Still manual (what the next level automates)",
                border_style="yellow",
            )
        )
    for index, exercise in enumerate(level.exercises, 1):
        parts.append(Panel(f"{exercise.task}\n[dim]hint: {exercise.hint}[/dim]", title=f"Try this #{index}"))
    return Group(*parts)


def run_report(report: dict[str, Any]) -> Group:
    table = Table(title=f"Level {report['level']} · {report['train']} → {report['val']} · {report['model']}")
    table.add_column("what")
    table.add_column("value", overflow="fold")
    for name, value in report["metrics"].items():
        table.add_row(name, _fmt(value))
    for name, value in report["artifacts"].items():
        table.add_row(name, str(value))
    tables: list[Any] = [table]
    for name, value in report.get("details", {}).items():
        if isinstance(value, (str, int, float)):
            table.add_row(name, _fmt(value))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            tables.append(rows_table(name.replace("_", " "), value))
    if report.get("manual_steps"):
        table.add_row("still by hand", "; ".join(report["manual_steps"]))
    table.add_row("wall time", f"{report['wall_seconds']:.1f} s")
    return Group(*tables)


def diff_summary(result: LevelDiff, metrics: dict[int, dict]) -> Group:
    a, b = result.a.number, result.b.number
    parts: list[Any] = []
    gained = Table(title=f"Practices gained from level {a} to level {b}", show_lines=True)
    for column in ("practice", "where", "why"):
        gained.add_column(column, overflow="fold")
    for practice in result.gained:
        gained.add_row(practice.title, practice.where, practice.why)
    if not result.gained:
        gained.add_row("(none)", "", "")
    parts.append(gained)
    files = Table(title="Files, paired by lineage")
    for column in (f"level {a}", f"level {b}", "status", "+", "−"):
        files.add_column(column)
    for pair in result.files:
        files.add_row(
            pair.old or "—",
            pair.new or "—",
            pair.status,
            f"[green]+{pair.added}[/green]",
            f"[red]−{pair.removed}[/red]",
        )
    parts.append(files)
    if metrics:
        side = Table(title="Last runs side by side")
        side.add_column("metric")
        for number in sorted(metrics):
            side.add_column(f"level {number}")
        names = sorted({k for m in metrics.values() for k in m})
        for name in names:
            side.add_row(name, *[_fmt(metrics[n].get(name)) for n in sorted(metrics)])
        parts.append(side)
    return Group(*parts)


def diff_bodies(result: LevelDiff) -> Group:
    from rich.syntax import Syntax

    return Group(
        *[
            Panel(Syntax("".join(pair.diff), "diff", word_wrap=True), title=f"{pair.old or '∅'} → {pair.new or '∅'}")
            for pair in result.files
            if pair.diff
        ]
    )


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value else "0"
    return str(value)


def rows_table(title: str, rows: list[dict[str, Any]]) -> Table:
    table = Table(title=title)
    for column in rows[0] if rows else []:
        table.add_column(str(column), overflow="fold")
    for row in rows:
        table.add_row(*[_fmt(v) for v in row.values()])
    return table


def print_table_rows(console: Console, title: str, rows: list[dict[str, Any]]) -> None:
    console.print(rows_table(title, rows))


def assessment(result: Assessment) -> Group:
    """The scorecard of `mlops-levels assess`: overall level and why, then each view's practices with the
    evidence a person can open; evidence lines are shortened at a word boundary to fit the width."""
    from rich.padding import Padding
    from rich.text import Text

    marks = {"found": ("✓", "green"), "partial": ("◐", "yellow"), "absent": ("·", "dim")}
    read = result.read
    skipped = ", ".join(f"{n} {why}" for why, n in sorted(read.skipped.items())) or "none"
    folders = ", ".join(f"{n} {why}" for why, n in sorted(read.folders_skipped.items())) or "none"
    parts: list[Any] = [
        Text(f"Assessment of {result.folder}", style="bold"),
        Text(f"Level {result.level}", style="bold cyan") + Text(f" · {result.reasoning.split(': ', 1)[-1]}"),
        Text(
            f"Read {read.read} files: {read.python_files} Python, {read.notebooks} notebooks "
            f"({read.notebook_cells} code cells), {read.config_files} config files (build, CI, deploy); "
            f"{read.files_seen} seen. Not read: {skipped}. Folders skipped: {folders}.",
            style="dim",
        ),
    ]
    for view in result.views:
        level = "not visible in files" if view.level is None else f"level {view.level}"
        parts.append(Text(f"\n{view.title} · {level}", style="bold"))
        if view.level is None:
            parts.append(Padding(Text(view.reasoning, style="dim"), (0, 0, 0, 2)))
        for pid in view.practices:
            practice = result.practices[pid]
            mark, style = marks[practice.status]
            parts.append(Text(f"  {mark} ", style=style) + Text(f"{practice.title} · {practice.status}"))
            lines = [(f"      {e.where}  ", e.text) for e in practice.evidence]
            parts.append(_EvidenceLines(lines))
            if practice.status != "found" and practice.note:
                parts.append(Padding(Text(practice.note, style="dim"), (0, 0, 0, 6)))
    if result.next_steps:
        parts.append(Text(f"\nNext: {', '.join(result.next_steps)}", style="bold"))
    return Group(*parts)


class _EvidenceLines:
    """`file:line  code` rows cut to the console width at a word boundary, never inside an identifier."""

    def __init__(self, lines: list[tuple[str, str]]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Console, options: Any) -> Any:
        import re

        from rich.text import Text

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
