"""mlops-levels: one taxi-duration model built five times, from a notebook to full automation.

Only typer, rich and the level catalog are imported at module level, so `--help`, `list`, `explain`
and `diff` start fast; each command imports the heavy libraries it needs when it runs.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from typer._click.exceptions import ClickException as TyperClickException

from common.errors import MlopsLevelsError, UsageError

__version__ = "0.1.0"

app = typer.Typer(
    name="mlops-levels",
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
    help="One NYC taxi trip-duration model, built five times: MLOps maturity levels 0 to 4.",
    epilog="Start with: [bold]mlops-levels list[/bold], then [bold]mlops-levels run 0[/bold].",
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(help="Generate, fetch and inspect trip data.", no_args_is_help=True)
app.add_typer(data_app, name="data")
stack_app = typer.Typer(
    help="A production-like stack on 127.0.0.1: PostgreSQL + mlflow server + Prefect.", no_args_is_help=True
)
app.add_typer(stack_app, name="stack")

console = Console()
err_console = Console(stderr=True, soft_wrap=True)

LevelArg = Annotated[int, typer.Argument(min=0, max=4, help="Level number, 0 to 4.", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]


_verbose = {"on": False}


@contextlib.contextmanager
def handle_errors() -> Iterator[None]:
    """Turn a toolkit error into one red line and its exit code; never a traceback (unless --verbose)."""
    try:
        yield
    except MlopsLevelsError as exc:
        err_console.print(f"[red]error:[/red] {exc.one_line()}", markup=True, highlight=False)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/yellow]")
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort, TyperClickException):
        raise
    except Exception as exc:  # a bug, or a library failing in a way we did not foresee
        if _verbose["on"]:
            raise
        message = str(exc).splitlines()[0][:200] if str(exc) else ""
        err_console.print(
            f"[red]unexpected error:[/red] {type(exc).__name__}: {message} — run again with "
            "--verbose for the traceback, and please report it",
            markup=True,
            highlight=False,
        )
        raise typer.Exit(1) from None


def _settings(ctx: typer.Context, **overrides: Any):
    from common.config import Settings

    workspace = ctx.obj.get("workspace") if ctx.obj else None
    verbose = ctx.obj.get("verbose", False) if ctx.obj else False
    return Settings().with_(workspace=workspace, verbose=verbose, **overrides)


def _version(value: bool) -> None:
    if value:
        console.print(f"mlops-levels {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace",
            "-w",
            envvar="MLOPS_LEVELS_WORKSPACE",
            help="Where every run writes (default ./mlops-workspace).",
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show library logs (Prefect, MLflow).")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    ctx.obj = {"workspace": workspace, "verbose": verbose}
    _verbose["on"] = verbose


@app.command("list")
def list_levels(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the levels, what each adds, and your progress."""
    from levels.catalog import load_levels
    from teaching import render
    from teaching.state import load_state

    with handle_errors():
        levels = load_levels()
        progress = load_state(_settings(ctx).workspace)["levels"]
        if as_json:
            rows = [
                {
                    "level": lv.number,
                    "slug": lv.slug,
                    "title": lv.title,
                    "summary": lv.summary,
                    "practices": lv.practice_ids,
                    **progress.get(str(lv.number), {}),
                }
                for lv in levels
            ]
            print(json.dumps(rows, indent=2))
            return
        if not progress:
            console.print("[bold]Welcome![/bold] Each level is the same product at a higher MLOps maturity.")
        console.print(render.levels_table(levels, progress))
        console.print(f"Next: [bold]{render.next_step(levels, progress)}[/bold]")


@app.command()
def explain(level: LevelArg) -> None:
    """Explain a level: what it adds, where each practice lives, what is still manual, exercises."""
    from levels.catalog import get_level
    from teaching import render

    with handle_errors():
        console.print(render.explain(get_level(level)))


@app.command()
def diff(
    ctx: typer.Context,
    level_a: LevelArg,
    level_b: LevelArg,
    stat: Annotated[bool, typer.Option("--stat", help="Only the summary, no line diffs.")] = False,
    file: Annotated[str | None, typer.Option("--file", help="Only this file (either level's name).")] = None,
    context: Annotated[int, typer.Option("--context", min=0, max=50, help="Context lines.")] = 3,
    as_json: JsonOpt = False,
) -> None:
    """Show what level B adds to level A: practices, files paired by lineage, line diffs, metrics."""
    from teaching import render
    from teaching.diff import compare_levels, diff_to_dict
    from teaching.state import level_state

    with handle_errors():
        result = compare_levels(level_a, level_b, context=context, only_file=file)
        workspace = _settings(ctx).workspace
        metrics = {
            n: m
            for n in (result.a.number, result.b.number)
            if (m := level_state(workspace, n).get("last_run", {}).get("metrics"))
        }
        if as_json:
            print(json.dumps(diff_to_dict(result, metrics), indent=2))
            return
        console.print(render.diff_summary(result, metrics))
        if not stat:
            console.print(render.diff_bodies(result))


@app.command()
def run(
    ctx: typer.Context,
    level: Annotated[str, typer.Argument(help="Level number 0-4, or 'all'.", show_default=False)],
    train_data: Annotated[
        str, typer.Option("--train-data", "--train-month", help="Training month (YYYY-MM) or file.")
    ] = "2021-01",
    val_data: Annotated[
        str, typer.Option("--val-data", "--val-month", help="Validation month (YYYY-MM) or file.")
    ] = "2021-02",
    model: Annotated[
        str, typer.Option(help="linear_regression, lasso, ridge or gradient_boosting.")
    ] = "linear_regression",
    source: Annotated[str | None, typer.Option(help="Where months come from: synthetic (offline) or tlc.")] = None,
    scenario: Annotated[str | None, typer.Option(help="Synthetic drift: mild, traffic-returns or none.")] = None,
    seed: Annotated[int | None, typer.Option(help="Synthetic data seed.")] = None,
    sweep: Annotated[bool, typer.Option("--sweep", help="Level 2+: a small hyperparameter search.")] = False,
    months: Annotated[
        str | None, typer.Option(help="Level 4: the months to fast-forward, e.g. 2021-01..2021-06.")
    ] = None,
    stack: Annotated[bool, typer.Option("--stack", help="Level 2+: track into the `stack up` MLflow server.")] = False,
    tracking_uri: Annotated[
        str | None,
        typer.Option("--tracking-uri", envvar="MLFLOW_TRACKING_URI", help="Level 2+: a remote MLflow server."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a level end to end on the embedded synthetic data (or your months/files)."""
    from common.runs import RunRequest
    from levels.catalog import load_levels
    from levels.runner import run_level
    from teaching import render
    from teaching.state import record_run

    with handle_errors():
        settings = _settings(ctx, source=source, scenario=scenario, seed=seed, tracking_uri=tracking_uri)
        if stack:
            from common.stack import stack_tracking_uri

            settings = settings.with_(tracking_uri=stack_tracking_uri(settings))
        numbers = _level_numbers(level, [lv.number for lv in load_levels()])
        reports = []
        for number in numbers:
            with _progress(as_json, f"level {number}") as on_step:
                request = RunRequest(
                    settings=settings,
                    train_data=train_data,
                    val_data=val_data,
                    model=model,
                    on_step=on_step,
                    options={"sweep": sweep, "months": months},
                )
                report = run_level(number, request).to_dict()
            record_run(settings.workspace, number, report)
            reports.append(report)
            if not as_json:
                console.print(render.run_report(report))
                console.print(f"[green]✓[/green] Level {number} ran in {report['wall_seconds']:.1f}s.")
        if as_json:
            print(json.dumps(reports[0] if len(reports) == 1 else reports, indent=2, default=str))
        elif len(reports) > 1:
            from levels.catalog import get_level

            render.print_table_rows(
                console,
                "All levels on the same data",
                [
                    {
                        "level": r["level"],
                        "practices": len(get_level(r["level"]).practices),
                        "val RMSE": r["metrics"].get("rmse_val"),
                        "wall s": r["wall_seconds"],
                        "still by hand": "; ".join(r["manual_steps"]) or "nothing",
                    }
                    for r in reports
                ],
            )
        else:
            following = numbers[0] + 1
            hint = f"mlops-levels diff {numbers[0]} {following}" if following <= 4 else "mlops-levels list"
            console.print(f"Next: [bold]{hint}[/bold]")


def _level_numbers(level: str, built: list[int]) -> list[int]:
    if level == "all":
        return built
    if not level.isdigit() or int(level) not in range(5):
        raise UsageError(f"{level!r} is not a level", fix="use 0, 1, 2, 3, 4 or all")
    return [int(level)]


@contextlib.contextmanager
def _progress(quiet: bool, label: str) -> Iterator[Any]:
    if quiet or not console.is_terminal:
        yield lambda step: None
        return
    with console.status(f"{label}: starting…") as status:
        yield lambda step: status.update(f"{label}: {step}…")


@app.command()
def walkthrough(
    ctx: typer.Context,
    level: LevelArg,
    no_pause: Annotated[bool, typer.Option("--no-pause", help="Do not wait for Enter (scripted demos).")] = False,
    step: Annotated[int, typer.Option("--step", min=1, help="Start at this step (resume).")] = 1,
) -> None:
    """Classroom mode: a level step by step — explanation, code or command, result — pausing for Enter."""
    from rich.markdown import Markdown
    from rich.panel import Panel
    from rich.syntax import Syntax

    from common.runs import RunRequest
    from levels.runner import run_level
    from teaching import render
    from teaching.state import record_run
    from teaching.walkthrough import WALKTHROUGH_OPTIONS, build_steps

    with handle_errors():
        settings = _settings(ctx)

        def run_it() -> Any:
            request = RunRequest(settings=settings, options=WALKTHROUGH_OPTIONS.get(level, {}))
            with _progress(False, f"level {level}") as on_step:
                request.on_step = on_step
                report = run_level(level, request).to_dict()
            record_run(settings.workspace, level, report)
            return render.run_report(report)

        steps = build_steps(level, run_it)
        if step > len(steps):
            raise UsageError(f"level {level} has {len(steps)} steps", fix=f"use --step 1 to {len(steps)}")
        for index, current in enumerate(steps[step - 1 :], start=step):
            console.rule(f"[bold]Step {index}/{len(steps)} · {current.title}")
            console.print(Panel(Markdown(current.text), border_style="cyan"))
            if current.code:
                console.print(
                    Syntax(current.code, current.lexer, line_numbers=current.lexer == "python", word_wrap=True)
                )
            if current.action:
                console.print(current.action())
            if not no_pause and index < len(steps):
                console.input(f"[dim]Enter for step {index + 1} (Ctrl-C stops; resume with --step {index + 1})[/dim]")
        console.print(f"[green]✓[/green] Walkthrough of level {level} done.")


@app.command()
def doctor(
    ctx: typer.Context,
    as_json: JsonOpt = False,
) -> None:
    """Check the environment a course needs: Python, pinned versions, free ports, disk, running servers."""
    from dataclasses import asdict

    from teaching import render
    from teaching.doctor import run_checks

    with handle_errors():
        checks = run_checks(_settings(ctx).workspace)
        if as_json:
            print(json.dumps([asdict(c) for c in checks], indent=2))
        else:
            render.print_table_rows(
                console,
                "mlops-levels doctor",
                [
                    {
                        "": "[green]✓[/green]" if c.ok else "[red]✗[/red]",
                        "check": c.name,
                        "found": c.detail,
                        "fix": c.fix,
                    }
                    for c in checks
                ],
            )
        problems = [c for c in checks if not c.ok]
        if problems:
            if not as_json:
                console.print(f"[red]{len(problems)} problem(s)[/red]: see the fix column.")
            raise typer.Exit(1)
        if not as_json:
            console.print("[green]✓ ready for class[/green]")


@app.command()
def assess(
    path: Annotated[Path, typer.Argument(help="A project folder to assess.", show_default=False)],
    as_json: JsonOpt = False,
) -> None:
    """Score any project's MLOps practices, with the evidence (file:line) for each, and place it on the ladder.

    Reads code, not text: Python through its syntax tree, notebooks through their code cells, CI and
    build files by structure. What it looks for and what it cannot see: docs/assess.md.
    """
    from teaching import render
    from teaching.assess import assess as assess_folder

    with handle_errors():
        result = assess_folder(path)
        if as_json:
            print(json.dumps(result.to_dict(), indent=2))
            return
        console.print(render.assessment(result))


@app.command()
def serve(
    ctx: typer.Context,
    level: LevelArg,
    host: Annotated[str, typer.Option(help="Interface to bind; 127.0.0.1 keeps it on this machine.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    model_path: Annotated[Path | None, typer.Option("--model-path", help="Model file to serve (level 1).")] = None,
    version: Annotated[str | None, typer.Option(help="Registered model version or alias (levels 2+).")] = None,
) -> None:
    """Keep a level's service running on 127.0.0.1 until Ctrl-C."""
    import importlib

    from common.serving import port_is_free
    from levels.catalog import get_level

    with handle_errors():
        info = get_level(level)
        if not info.serve:
            raise UsageError(f"level {level} has no service", fix="levels 1 to 4 serve predictions")
        if not port_is_free(port, host):
            raise UsageError(f"port {port} on {host} is taken", fix="pass --port with a free port")
        module_name, _, function = info.serve.partition(":")
        serve_level = getattr(importlib.import_module(f"levels.level_{level}.{module_name}"), function)
        console.print(f"Serving level {level} on http://{host}:{port} (Ctrl-C stops)")
        serve_level(_settings(ctx), host, port, {"model_path": model_path, "version": version})


@app.command()
def ui(
    ctx: typer.Context,
    level: Annotated[int, typer.Argument(min=2, max=4, help="Level 2, 3 or 4.", show_default=False)],
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port (5000 is often taken).")] = 5000,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
) -> None:
    """Open the MLflow UI on a level's tracking store, on 127.0.0.1, until Ctrl-C."""
    import subprocess

    from common.services import mlflow_server
    from common.serving import port_is_free

    with handle_errors():
        settings = _settings(ctx)
        store = settings.level_dir(level) / "mlflow.db"
        if not store.exists():
            raise UsageError(
                f"level {level} has no MLflow store yet",
                where=str(store),
                fix=f"run it first: mlops-levels run {level}",
            )
        if not port_is_free(port, host):
            raise UsageError(f"port {port} on {host} is taken", fix="pass --port with a free port")
        command, env = mlflow_server(f"sqlite:///{store}", settings.level_dir(level) / "mlartifacts", host, port)
        console.print(f"MLflow UI for level {level}: http://{host}:{port}  (Ctrl-C stops)")
        try:
            raise typer.Exit(subprocess.run(command, env=env).returncode)
        except KeyboardInterrupt:
            raise typer.Exit(0) from None


@app.command()
def stop(ctx: typer.Context) -> None:
    """Stop the background servers of the workspace (the local Prefect server)."""
    from common.services import stop_prefect_server

    with handle_errors():
        stopped = stop_prefect_server(_settings(ctx))
        console.print("[green]✓[/green] stopped the Prefect server" if stopped else "No server was running.")


@app.command("test")
def test_level(
    ctx: typer.Context,
    level: Annotated[str, typer.Argument(help="Level number 0-4, or 'all'.", show_default=False)],
    fast: Annotated[bool, typer.Option("--fast", help="Skip slow and server tests.")] = False,
) -> None:
    """Run a level's test suite with pytest (or the whole suite with 'all') and record the result."""
    import subprocess

    from levels.catalog import load_levels
    from teaching.state import record_test

    with handle_errors():
        numbers = _level_numbers(level, [lv.number for lv in load_levels()])
        root = Path(__file__).resolve().parent
        if not (root / "tests").is_dir():
            raise UsageError("the test suites are not installed here", fix="run from a clone of the repository")
        paths = ["tests"] if level == "all" else [f"tests/level_{n}" for n in numbers]
        command = [sys.executable, "-m", "pytest", *paths, "-q"] + (["-m", "not slow"] if fast else [])
        console.print(f"[dim]$ {' '.join(command[1:])}[/dim]")
        code = subprocess.run(command, cwd=root).returncode
        for number in numbers:
            record_test(_settings(ctx).workspace, number, code == 0)
        mark = "[green]✓ passed[/green]" if code == 0 else "[red]✗ failed[/red]"
        console.print(f"{mark}: level {level} tests")
        if code != 0:
            raise typer.Exit(1)


@data_app.command("generate")
def data_generate(
    ctx: typer.Context,
    months: Annotated[str, typer.Argument(help="A month (2021-01) or a range (2021-01..2021-06).")],
    scenario: Annotated[str | None, typer.Option(help="mild, traffic-returns or none.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    rows: Annotated[int | None, typer.Option(min=1, help="Rows per month (default ~70k).")] = None,
) -> None:
    """Generate synthetic months (green-taxi schema, drift between months) into the workspace."""
    from common.data import month_range
    from common.synthetic import ensure_month
    from teaching import render

    with handle_errors():
        settings = _settings(ctx, scenario=scenario, seed=seed, synthetic_rows=rows)
        written = []
        for month in month_range(months):
            path = ensure_month(settings.data_dir, month, settings.seed, settings.scenario, settings.synthetic_rows)
            written.append({"month": month, "file": str(path), "MB": round(path.stat().st_size / 1e6, 2)})
        render.print_table_rows(console, f"Synthetic months ({settings.scenario}, seed {settings.seed})", written)


@data_app.command("fetch")
def data_fetch(
    ctx: typer.Context,
    months: Annotated[str, typer.Argument(help="A month (2023-01) or a range (2023-01..2023-03).")],
    color: Annotated[str, typer.Option(help="green or yellow.")] = "green",
) -> None:
    """Download real NYC TLC months into the workspace cache (needs the internet)."""
    from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

    from common.data import month_range
    from common.download import download, trip_url
    from common.sources import tlc_month_path

    with handle_errors():
        settings = _settings(ctx, color=color, source="tlc")
        for month in month_range(months):
            target = tlc_month_path(settings, month)
            with Progress(
                *Progress.get_default_columns(),
                DownloadColumn(),
                TransferSpeedColumn(),
                console=err_console,
                transient=True,
            ) as bar:
                task = bar.add_task(f"{color} {month}", total=None)
                download(
                    trip_url(settings.tlc_base_url, color, month),
                    target,
                    lambda done, total, task=task: bar.update(task, completed=done, total=total),
                )
            console.print(f"[green]✓[/green] {target}")


@data_app.command("show")
def data_show(
    ctx: typer.Context,
    data: Annotated[str, typer.Argument(help="A month (from the configured source) or a file.")],
    as_json: JsonOpt = False,
) -> None:
    """Summarise a month of trips: rows, the 1..60 minute filter, durations, distances, top zones."""
    from common.describe import describe_trips
    from common.sources import resolve_data
    from teaching import render

    with handle_errors():
        ref = resolve_data(data, _settings(ctx))
        summary = describe_trips(ref.path)
        if as_json:
            print(json.dumps(summary, indent=2))
            return
        render.print_table_rows(
            console, f"{ref.label}  ({ref.path})", [{"what": k, "value": v} for k, v in summary.items()]
        )


@stack_app.command("up")
def stack_up_command(ctx: typer.Context) -> None:
    """Start PostgreSQL, an mlflow server on it, and the Prefect server (takes ~30 s the first time)."""
    from common.stack import stack_status, stack_up
    from teaching import render

    with handle_errors():
        settings = _settings(ctx)
        with console.status("starting PostgreSQL, MLflow and Prefect…"):
            state = stack_up(settings)
        render.print_table_rows(console, "stack", stack_status(settings))
        console.print(
            f"Use it: [bold]mlops-levels run 2 --stack[/bold]  (or MLFLOW_TRACKING_URI={state['mlflow']['url']})"
        )


@stack_app.command("status")
def stack_status_command(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Show which stack services are up."""
    from common.stack import stack_status
    from teaching import render

    with handle_errors():
        rows = stack_status(_settings(ctx))
        if as_json:
            print(json.dumps(rows, indent=2))
        elif rows:
            render.print_table_rows(console, "stack", rows)
        else:
            console.print("The stack is not up (mlops-levels stack up).")


@stack_app.command("down")
def stack_down_command(ctx: typer.Context) -> None:
    """Stop the stack's services (data stays in the workspace)."""
    from common.stack import stack_down

    with handle_errors():
        stopped = stack_down(_settings(ctx))
        console.print("[green]✓[/green] stack stopped" if stopped else "The stack was not up.")


@app.command()
def clean(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Delete the workspace (models, stores, reports, data cache)."""
    import shutil

    with handle_errors():
        workspace = _settings(ctx).workspace
        if not workspace.exists():
            console.print(f"Nothing to clean: {workspace} does not exist.")
            return
        from common.services import stop_prefect_server
        from common.stack import stack_down

        known = {"state.json", "data", "prefect", "stack"} | {f"level_{n}" for n in range(5)}
        strangers = [p.name for p in workspace.iterdir() if p.name not in known]
        if strangers:
            raise UsageError(
                f"{workspace} holds files the toolkit did not write ({', '.join(strangers[:3])})",
                fix="remove them yourself, or point --workspace at the right folder",
            )
        if not yes and not typer.confirm(f"Delete {workspace}?"):
            raise typer.Exit(1)
        stack_down(_settings(ctx))
        stop_prefect_server(_settings(ctx))
        shutil.rmtree(workspace)
        console.print(f"[green]✓[/green] removed {workspace}")


if __name__ == "__main__":  # pragma: no cover, the console script calls app()
    sys.exit(app())
