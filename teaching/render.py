"""Everything the CLI draws for people: Rich tables, panels, diffs, progress. The only module that draws.

Commands return plain data (what `--json` prints); each `*_view` here turns that data into something
Rich can print. Output must read at 80 columns: prose wraps at spaces, identifiers (file names,
versions, commands) are never cut in the middle, and commands are printed on lines of their own so
that copy-paste works.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text


def consoles() -> tuple[Console, Console]:
    """stdout for results, stderr for errors and progress (so `--json` output stays clean)."""
    # Errors are one line each, never wrapped: a terminal wraps them, copy-paste keeps them whole.
    return Console(), Console(stderr=True, soft_wrap=True)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _table(title: str | None, columns: list[str], prose: tuple[str, ...] = (), numbers: tuple[str, ...] = ()) -> Table:
    table = Table(title=title, title_justify="left", expand=False)
    for column in columns:
        # Prose wraps at spaces; everything else is an identifier or a number and stays whole.
        if column in prose:
            table.add_column(column, overflow="fold", min_width=min(len(column) + 4, 24))
        elif column in numbers:
            table.add_column(column, no_wrap=True, justify="right")
        else:
            table.add_column(column, no_wrap=True, overflow="ellipsis")
    return table


def fmt(value: Any) -> str:
    """A value as a person reads it: rounded floats, lists and dicts spelled out, never Python reprs."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value else "0"
    if isinstance(value, dict):
        return ", ".join(f"{k}={fmt(v)}" for k, v in value.items()) or "—"
    if isinstance(value, list | tuple):
        return ", ".join(fmt(v) for v in value) or "—"
    return str(value)


def rows_table(title: str | None, rows: list[dict[str, Any]], prose: tuple[str, ...] = ()) -> Table:
    table = _table(title, [str(c) for c in rows[0]] if rows else [], prose)
    for row in rows:
        table.add_row(*[fmt(v) for v in row.values()])
    return table


def _commands(title: str, commands: list[str]) -> Text:
    """Commands to copy, one per line and never wrapped (a wrapped command breaks when pasted)."""
    text = Text(f"{title}\n", style="bold")
    for command in commands:
        text.append(f"  {command}\n", style="cyan")
    text.no_wrap = True
    text.overflow = "ignore"
    return text


def _pairs(title: str, pairs: dict[str, Any]) -> Text:
    """`name  value` lines for long identifiers (paths, URIs): printed whole, one per line."""
    width = max((len(k) for k in pairs), default=0)
    text = Text(f"{title}\n", style="bold")
    for name, value in pairs.items():
        text.append(f"  {name.ljust(width)}  ", style="dim")
        text.append(f"{fmt(value)}\n")
    text.no_wrap = True
    text.overflow = "ignore"
    return text


def _lines(title: str, lines: list[str]) -> Text:
    """Lines as they were printed (a notebook's output): whole, never re-wrapped."""
    text = Text(f"{title}\n", style="bold")
    for line in lines:
        text.append(f"  {line}\n")
    text.no_wrap = True
    text.overflow = "ignore"
    return text


# list -----------------------------------------------------------------------------------------------


def levels_view(data: dict[str, Any]) -> RenderableType:
    parts: list[RenderableType] = []
    if data["first_visit"]:
        parts.append(Text("Welcome! Each level is the same product at a higher MLOps maturity.", style="bold"))
    table = _table(
        "MLOps maturity levels — one taxi-duration model, built five times",
        ["level", "name", "what it adds", "ran", "tested"],
        prose=("name", "what it adds"),
    )
    for row in data["levels"]:
        rmse = (row.get("last_run") or {}).get("metrics", {}).get("rmse_val")
        ran = f"✓ {rmse:.2f}" if rmse is not None else ("✓" if row.get("ran_at") else "·")
        tested = {True: "✓", False: "✗"}.get(row.get("tested"), "·")
        table.add_row(str(row["level"]), row["title"], row["summary"], ran, tested)
    parts += [table, _commands("Next:", [data["next"]])]
    return Group(*parts)


# explain --------------------------------------------------------------------------------------------


def explain_view(data: dict[str, Any]) -> RenderableType:
    from rich.markdown import Markdown  # markdown-it costs ~25 ms: only `explain` pays it

    parts: list[RenderableType] = [Markdown(data["readme"])]
    if data["practices"]:
        table = _table(f"Practices at level {data['level']}", ["practice", "where", "why"], prose=("practice", "why"))
        for practice in data["practices"]:
            table.add_row(practice["title"], practice["where"], practice["why"])
        parts.append(table)
    if data["still_manual"]:
        parts.append(
            Panel(
                "\n".join(f"• {item}" for item in data["still_manual"]),
                title="Still manual" + (" (what the next level automates)" if data["level"] < 4 else ""),
                border_style="yellow",
            )
        )
    for index, exercise in enumerate(data["try"], 1):
        parts.append(Panel(f"{exercise['task']}\nhint: {exercise['hint']}", title=f"Try this #{index}"))
    if data.get("exercises"):
        parts.append(
            rows_table(
                "Checked exercises (mlops-levels exercise start ID)", data["exercises"], prose=("practice", "title")
            )
        )
    return Group(*parts)


# diff -----------------------------------------------------------------------------------------------


def diff_view(data: dict[str, Any]) -> RenderableType:
    a, b = data["from"], data["to"]
    parts: list[RenderableType] = []
    gained = _table(
        f"Practices gained from level {a} to level {b}", ["practice", "where", "why"], prose=("practice", "why")
    )
    for practice in data["practices_gained"]:
        gained.add_row(practice["title"], practice["where"], practice["why"])
    if not data["practices_gained"]:
        gained.add_row("(none)", "", "")
    parts.append(gained)
    # A table wider than the terminal takes its last columns' width evenly from every column that cannot
    # wrap, down to "…" in the counts, which are what the table is for: the file names and the status
    # give the room instead (a long path continues on the next line of its cell).
    files = _table(
        "Files, paired by lineage",
        [f"level {a}", f"level {b}", "status", "+", "−"],
        prose=(f"level {a}", f"level {b}", "status"),
        numbers=("+", "−"),
    )
    for pair in data["files"]:
        files.add_row(
            FilePath(pair["old"] or "—"),
            FilePath(pair["new"] or "—"),
            pair["status"],
            f"+{pair['added']}",
            f"−{pair['removed']}",
        )
    parts.append(files)
    if any(data.get("numbers", {}).values()):
        causes = "\n".join(f"• Level {n}: {text}" for n, text in data["numbers"].items() if text)
        parts.append(Panel(causes, title="What changes the numbers", border_style="cyan"))
    if data["last_metrics"]:
        levels = [f"level {n}" for n in data["last_metrics"]]
        side = _table(
            "Last runs side by side (each level's own validation rows)", ["metric", *levels], prose=tuple(levels)
        )
        runs = [data.get("last_data", {}).get(n, {}) for n in data["last_metrics"]]
        side.add_row("data", *[fmt(run.get("data")) for run in runs])
        side.add_row("months", *[f"{fmt(run.get('train'))} → {fmt(run.get('val'))}" for run in runs])
        names = sorted({k for m in data["last_metrics"].values() for k in m})
        for name in names:
            side.add_row(name, *[fmt(m.get(name)) for m in data["last_metrics"].values()])
        parts.append(side)
        if data.get("same_data_command"):
            if data["same_data"] is False:
                said = "These runs used different data, so their numbers are not comparable."
            else:  # a run recorded before runs kept their data
                said = "A run here did not record its data: its numbers may not be comparable."
            parts += [
                Text(said, style="yellow"),
                _commands("Run every level on the same data:", [data["same_data_command"]]),
            ]
    from rich.rule import Rule

    for pair in data["files"]:
        if pair.get("diff"):
            parts.append(Rule(f"{pair['old'] or '(new)'} → {pair['new'] or '(removed)'}", align="left"))
            parts.append(DiffLines(pair["diff"]))
    return Group(*parts)


class FilePath:
    """A path in a narrow cell: it continues on the next line after a "/", not in the middle of a name."""

    def __init__(self, path: str) -> None:
        self.parts = [part for part in path.replace("/", "/\n").split("\n") if part]

    def __rich_measure__(self, console: Console, options: Any) -> Any:
        from rich.measure import Measurement

        return Measurement(max(map(len, self.parts)), sum(map(len, self.parts)))

    def __rich_console__(self, console: Console, options: Any) -> Iterator[Text]:
        width, line = max(options.max_width, 1), ""
        for part in self.parts:
            if line and len(line) + len(part) > width:
                yield from Text(line).wrap(console, width, overflow="fold")
                line = ""
            line += part
        yield from Text(line).wrap(console, width, overflow="fold")  # a name wider than the cell: folded


class DiffLines:
    """A unified diff that stays readable when its lines are wider than the terminal: a long line
    continues on the next with its own +/− mark (a plain wrap puts code in the sign column)."""

    STYLES = {"+": "green", "-": "red", "@": "cyan"}

    def __init__(self, lines: list[str]) -> None:
        self.lines = [line.rstrip("\n") for line in lines]

    def __rich_console__(self, console: Console, options: Any) -> Iterator[Text]:
        width = max(options.max_width, 20)
        for line in self.lines:
            sign = line[:1] if line[:1] in "+- @" else " "
            style = self.STYLES.get(sign, "")
            if line.startswith(("+++", "---")):
                style = "bold"
            head, rest = _break(line, width)
            yield Text(head, style=style, no_wrap=True, overflow="crop")
            while rest:  # the continuation keeps the sign and marks itself with ↪
                chunk, rest = _break(rest, width - 3)
                yield Text(f"{sign}↪ {chunk}", style=style, no_wrap=True, overflow="crop")


def _break(line: str, width: int) -> tuple[str, str]:
    """At most `width` characters, cut after a space when one is near the end (words stay whole)."""
    if len(line) <= width:
        return line, ""
    space = line.rfind(" ", width * 2 // 3, width)
    cut = space + 1 if space > 0 else width
    return line[:cut], line[cut:]


# run ------------------------------------------------------------------------------------------------


def run_report_view(report: dict[str, Any]) -> RenderableType:
    table = _table(
        f"Level {report['level']} · {report['train']} → {report['val']} · {report['model']}",
        ["what", "value"],
        prose=("value",),
    )
    for name, value in report["metrics"].items():
        table.add_row(name, fmt(value))
    nested: list[RenderableType] = []
    for name, value in report.get("details", {}).items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            # Only the columns holding words wrap; numbers, months and versions keep their width.
            wordy = tuple(c for c in value[0] if any(" " in str(row.get(c, "")) for row in value))
            nested.append(rows_table(name.replace("_", " "), value, prose=wordy))
        elif isinstance(value, dict) and value and all(isinstance(v, str) for v in value.values()):
            nested.append(_pairs(name.replace("_", " "), value))
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            nested.append(_lines(name.replace("_", " "), value))
        else:
            table.add_row(name.replace("_", " "), fmt(value))
    if report.get("manual_steps"):
        table.add_row("still by hand", "; ".join(report["manual_steps"]))
    table.add_row("wall time", f"{report['wall_seconds']:.1f} s")
    return Group(table, *nested, _pairs("Files and addresses", report["artifacts"]))


def runs_view(data: dict[str, Any]) -> RenderableType:
    reports = data["reports"] if "reports" in data else [data]
    parts: list[RenderableType] = [run_report_view(r) for r in reports]
    for report in reports:
        parts.append(Text(f"✓ Level {report['level']} ran in {report['wall_seconds']:.1f}s.", style="green"))
    if data.get("comparison"):
        parts.append(
            rows_table(
                data.get("comparison_title", "All levels on the same data"),
                data["comparison"],
                prose=("why", "still by hand"),
            )
        )
    if data.get("drift_note"):
        parts.append(Text(data["drift_note"], style="yellow"))
    if data.get("files"):
        parts.append(_pairs("Open these", data["files"]))
    if data.get("still_running"):
        parts.append(Text(f"Still running: {data['still_running']}.", style="dim"))
    parts.append(_commands("Next:", [data["next"]]))
    return Group(*parts)


@contextlib.contextmanager
def progress(console: Console) -> Iterator[Callable[[str], None]]:
    """A transient spinner naming the step a run is on; silent when stderr is not a terminal."""
    if not console.is_terminal:
        yield lambda step: None
        return
    with console.status("starting…") as status:
        yield lambda step: status.update(f"{step}…")


@contextlib.contextmanager
def status(console: Console, message: str) -> Iterator[None]:
    if not console.is_terminal:
        yield
        return
    with console.status(message):
        yield


def walkthrough_step(step: Any, index: int, total: int) -> RenderableType:
    from rich.markdown import Markdown
    from rich.rule import Rule
    from rich.syntax import Syntax

    from teaching.walkthrough import lexer_of

    parts: list[RenderableType] = [
        Rule(f"Step {index}/{total} · {step.title}"),
        Panel(Markdown(step.text), border_style="cyan"),
    ]
    for index, excerpt in enumerate(step.excerpts):  # each run numbered as in its file; a cut is a "…" line
        if index == 0 or excerpt.file != step.excerpts[index - 1].file:
            parts.append(Text(excerpt.file, style="bold"))
        if excerpt.cut:
            parts.append(Text(excerpt.code, style="yellow" if excerpt.exercise else "dim"))
        else:
            numbered = not excerpt.file.endswith(".ipynb")  # a notebook's cells have no line numbers to find
            lexer = lexer_of(excerpt.file)
            parts.append(Syntax(excerpt.code, lexer, line_numbers=numbered, start_line=excerpt.line, word_wrap=True))
    if step.code and not step.excerpts:
        python = step.lexer == "python"
        parts.append(Syntax(step.code, step.lexer, line_numbers=python, start_line=step.start_line, word_wrap=True))
    return Group(*parts)


# doctor, test, assess, data, stack, clean --------------------------------------------------------------


def doctor_view(checks: list[dict[str, Any]]) -> RenderableType:
    table = _table("mlops-levels doctor", ["", "check", "found", "fix"], prose=("found", "fix"))
    for check in checks:
        table.add_row("✓" if check["ok"] else "✗", check["name"], check["detail"], check["fix"])
    problems = sum(not c["ok"] for c in checks)
    verdict = Text(
        f"{problems} problem(s): see the fix column." if problems else "✓ ready for class",
        style="red" if problems else "green",
    )
    return Group(table, verdict)


def suite_view(data: dict[str, Any]) -> RenderableType:
    mark = "✓ passed" if data["passed"] else "✗ failed"
    return Text(f"{mark}: level {data['level']} tests ({data['command']})", style="green" if data["passed"] else "red")


def generated_view(rows: list[dict[str, Any]]) -> RenderableType:
    return rows_table("Synthetic months", rows)


def download_progress(console: Console) -> Callable[[str], Any]:
    """A per-file download bar: returns a context manager factory yielding a (done, total) hook."""
    from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

    @contextlib.contextmanager
    def bar(label: str) -> Iterator[Callable[[int, int | None], None]]:
        with Progress(
            *Progress.get_default_columns(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        ) as shown:
            task = shown.add_task(label, total=None)
            yield lambda done, total: shown.update(task, completed=done, total=total)

    return bar


def fetched_view(rows: list[dict[str, Any]]) -> RenderableType:
    return _pairs("Downloaded (or already cached)", {r["month"]: r["file"] for r in rows})


def data_summary_view(data: dict[str, Any]) -> RenderableType:
    return Group(
        _pairs("File", {data["label"]: data["path"]}),
        rows_table(None, [{"what": k, "value": v} for k, v in data["summary"].items()], prose=("value",)),
    )


def stack_view(data: dict[str, Any]) -> RenderableType:
    if not data["services"]:
        return _commands("The stack is not up. Start it with:", ["mlops-levels stack up"])
    parts: list[RenderableType] = [rows_table("stack", data["services"])]
    if data.get("classroom"):
        parts.append(_commands("Next:", ["mlops-levels stack users add NAME…", "mlops-levels stack worker"]))
    elif data.get("tracking_uri"):
        parts.append(
            _commands("Use it:", ["mlops-levels run 2 --stack", f"export MLFLOW_TRACKING_URI={data['tracking_uri']}"])
        )
    return Group(*parts)


def stack_down_view(data: dict[str, Any]) -> RenderableType:
    return Text("✓ stack stopped" if data["stopped"] else "The stack was not up.")


def stop_view(data: dict[str, Any]) -> RenderableType:
    prefect = _prefect_stop_view(data)
    if not data.get("check_server"):
        return prefect
    if not data["stopped"] and not data.get("left_behind") and not data.get("stale"):
        return Text("✓ stopped the exercise check server")
    return Group(prefect, Text("✓ stopped the exercise check server"))


def _prefect_stop_view(data: dict[str, Any]) -> RenderableType:
    if data["stopped"]:
        return Text("✓ stopped the Prefect server")
    if data.get("left_behind"):
        pids = " ".join(str(pid) for pid in data["left_behind"])
        return Text(
            f"The recorded server has exited, but processes of its group still run: {pids}. Nothing was "
            f"signalled (its record, {data['record']}, cannot prove they are yours); if they are, run: kill {pids}"
        )
    if data.get("stale"):
        return Text(f"No server was running: removed a stale server record ({data['stale']}), signalled nothing.")
    return Text("No server was running.")


def clean_view(data: dict[str, Any]) -> RenderableType:
    if not data["existed"]:
        return Text(f"Nothing to clean: {data['workspace']} does not exist.")
    return Text(f"✓ removed {data['workspace']}", style="green")


def students_view(rows: list[dict[str, Any]]) -> RenderableType:
    return Group(
        rows_table("students", [{"student": r["student"], "model": r["model"]} for r in rows]),
        _pairs("Hand out", {r["student"]: r["env_file"] for r in rows}),
    )


def password_view(data: dict[str, Any]) -> RenderableType:
    return _pairs(f"✓ new password for {data['user']}", {"in": data["file"]})


# exercise, progress -------------------------------------------------------------------------------------

_STATUS = {"passed": "✓ passed", "started": "… started", "not started": "·"}


def exercise_list_view(data: dict[str, Any]) -> RenderableType:
    from teaching.catalog import PRACTICES

    scope = f"level {data['level']}" if data["level"] is not None else "levels 1 to 4"
    if not data["exercises"]:
        return Text(f"No checked exercise at {scope} yet: `mlops-levels explain {data['level']}` has things to try.")
    who = f" · {data['student']}" if data.get("student") else ""
    table = _table(
        f"Exercises, {scope}{who} ({data['passed']}/{len(data['exercises'])} passed)",
        ["id", "lvl", "exercise · practice", "status", "tries"],
        prose=("exercise · practice",),
    )
    for row in data["exercises"]:
        what = Text(row["title"])
        what.append(f" · {PRACTICES.get(row['practice'], row['practice'])}", style="dim")
        table.add_row(row["exercise"], str(row["level"]), what, _STATUS[row["status"]], str(row["attempts"]))
    following = [data["next"]] if data.get("next") else ["mlops-levels progress --export class.csv --student NAME"]
    return Group(table, _commands("Next:", following))


def exercise_start_view(data: dict[str, Any]) -> RenderableType:
    note = "Already started: your copy is kept as it is." if data["already_started"] else "✓ Your copy is ready."
    return Group(
        # The title goes inside: a panel's own title is cut at the terminal's width.
        Panel(
            Text.assemble((data["title"], "bold"), "\n\n", data["brief"]), title=data["exercise"], border_style="cyan"
        ),
        Text(note, style="green" if not data["already_started"] else "yellow"),
        _lines("Edit:", data["files"]),
        _commands(
            "Then:",
            [
                f"mlops-levels exercise check {data['exercise']} --watch",
                f"mlops-levels exercise hint {data['exercise']}",
            ],
        ),
    )


def exercise_check_view(data: dict[str, Any]) -> RenderableType:
    text = Text()
    for item in data["checks"]:
        text.append("✓ " if item["passed"] else "✗ ", style="green" if item["passed"] else "red")
        text.append(item["name"] + "\n")
        if not item["passed"]:
            text.append(f"    {item['reason']}\n", style="red")
    if data.get("output"):  # what the student's code (or a library) printed: their print() debugging
        text.append("output (last lines):\n", style="dim")
        text.append("".join(f"    {line}\n" for line in data["output"]), style="dim")
    failed = sum(not c["passed"] for c in data["checks"])
    seconds = f"{data['seconds']:.1f} s" if data.get("seconds") is not None else "—"
    if data["passed"]:
        verdict = Text(f"✓ {data['exercise']} passes ({seconds}, check #{data['attempts']}).", style="bold green")
        following = [data["next"]] if data.get("next") else ["mlops-levels exercise list"]
        return Group(text, verdict, _commands("Next:", following))
    verdict = Text(f"✗ {failed} of {len(data['checks'])} checks failed ({seconds}).", style="bold red")
    return Group(
        text,
        verdict,
        _lines("Edit:", data.get("files", [])),
        _commands("Stuck?", [f"mlops-levels exercise hint {data['exercise']}"]),
    )


def exercise_hint_view(data: dict[str, Any]) -> RenderableType:
    parts: list[RenderableType] = [
        Panel(data["hint"], title=f"Hint {data['number']}/{data['of']} · {data['exercise']}", border_style="cyan")
    ]
    if data["last"]:
        parts.append(
            _commands(
                "That was the last hint. The level's own code:", [f"mlops-levels exercise solution {data['exercise']}"]
            )
        )
    return Group(*parts)


def exercise_solution_view(data: dict[str, Any]) -> RenderableType:
    if not data["shown"]:
        return Text("Not shown. Keep going!")
    from rich.syntax import Syntax

    parts: list[RenderableType] = []
    for region in data["code"]:
        title = f"levels/level_{data['level']}/{region['file']}, line {region['line']}"
        code = Syntax(
            region["code"].rstrip("\n"), "python", line_numbers=True, start_line=region["line"], word_wrap=True
        )
        parts.append(Panel(code, title=title))
    return Group(*parts)


def exercise_reset_view(data: dict[str, Any]) -> RenderableType:
    if not data["reset"]:
        return Text(f"Kept your copy: {data['copy']}")
    return Group(Text(f"✓ {data['exercise']} starts over.", style="green"), _lines("Edit:", data["files"]))


def progress_view(data: dict[str, Any]) -> RenderableType:
    rows = [
        {k: row[k] for k in ("exercise", "level", "status", "attempts", "first_passed_at")} for row in data["exercises"]
    ]
    parts: list[RenderableType] = [rows_table(f"Progress · {data['student'] or 'no name given'}", rows)]
    if data.get("export"):
        export = data["export"]
        parts.append(_pairs(f"✓ wrote {export['rows']} rows for {export['student']}", {"file": export["file"]}))
        parts.append(Text(f"students in the file: {', '.join(export['students'])}"))
    return Group(*parts)
