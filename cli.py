"""mlops-levels: one taxi-duration model built five times, from a notebook to full automation.

Every command returns data; one wrapper (`_command`) prints it for people (through teaching/render.py)
or as JSON (`--json`), maps failures to one line and an exit code, and treats a closed pipe as the
reader's choice. Only typer, rich and the level catalog are imported at module level, so `--help`,
`list`, `explain` and `diff` start fast; each command imports the heavy libraries it needs.

Exit codes: 0 ok · 1 a run or check failed · 2 bad usage or bad input · 3 a workspace store is
damaged, full or read-only · 130 interrupted.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import inspect
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from common.errors import MlopsLevelsError, UsageError

app = typer.Typer(
    name="mlops-levels",
    no_args_is_help=True,
    # Plain help: typer's rich help shows every flag as `--json <bool>` (then `--json true` fails)
    # and costs ~40 ms of imports at every start.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="One NYC taxi trip-duration model, built five times: MLOps maturity levels 0 to 4.",
    epilog="Start with: mlops-levels list, then mlops-levels run 0.",
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(help="Generate, fetch and inspect trip data.", no_args_is_help=True)
app.add_typer(data_app, name="data")
stack_app = typer.Typer(
    help="A production-like stack on 127.0.0.1: PostgreSQL + mlflow server + Prefect.", no_args_is_help=True
)
app.add_typer(stack_app, name="stack")


def _level_number(text: str, choices: range = range(5), lacks: str = "") -> int:
    """Every command that takes a level says the same thing about one that is not (as `run` does)."""
    if text.strip().isdigit() and int(text) in choices:
        return int(text)
    listed = ", ".join(map(str, choices))
    if lacks and text.strip().isdigit() and int(text) in range(5):
        raise typer.BadParameter(f"level {int(text)} has no {lacks} — use {listed}")
    raise typer.BadParameter(f"{text!r} is not a level — use {listed}")


LevelArg = Annotated[int, typer.Argument(parser=_level_number, help="Level number, 0 to 4.", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]


@dataclass(frozen=True)
class CliContext:
    """What the global options decide for every command: where to write and how much to say."""

    workspace: Path | None = None
    verbose: bool = False


@dataclass
class Outcome:
    """What a command produced: JSON-ready data, how to draw it for people, and the exit code."""

    data: Any
    view: Callable[[Any], Any] | None = None
    exit_code: int = 0
    paged: bool = False  # long reading (a diff): through a pager when it would scroll off a terminal


def _consoles() -> tuple[Any, Any]:
    from teaching.render import consoles

    return consoles()


# A full disk, a read-only folder, a folder the user may not write: the workspace's fault, said in one
# line with the fix for that fault (freeing space does not help on a read-only disk).
_ANOTHER = "or choose another workspace with --workspace"
_PERMISSION = {errno.EACCES, errno.EPERM}
_STORAGE_FIXES = {
    errno.ENOSPC: f"free some space, {_ANOTHER}",
    errno.EDQUOT: f"free some space under your quota, {_ANOTHER}",
    errno.EROFS: "that file system is mounted read-only: choose another workspace with --workspace",
    **dict.fromkeys(_PERMISSION, f"give yourself write permission there (ls -ld; chmod u+w), {_ANOTHER}"),
}


@contextlib.contextmanager
def handle_errors(as_json: bool = False, verbose: bool = False) -> Iterator[None]:
    """Turn any failure into one line (or a JSON error) and its exit code; never a traceback unless --verbose."""
    try:
        yield
    except MlopsLevelsError as exc:
        _fail(exc.one_line(), exc.exit_code, as_json, {"what": exc.what, "where": exc.where, "fix": exc.fix})
    except BrokenPipeError:
        # The reader stopped reading (`list --json | head -1`): its choice, not our failure.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(0) from None
    except KeyboardInterrupt:
        _fail("interrupted", 130, as_json, {"what": "interrupted"})
    except OSError as exc:
        # Permission errors without a file name (a port below 1024, a signal) are not the workspace's.
        fix = _STORAGE_FIXES.get(exc.errno) if exc.errno else None
        if fix is None or (exc.errno in _PERMISSION and not exc.filename):
            _unexpected(exc, as_json, verbose)  # a bare `raise` here would skip the clause below
        where = exc.filename or "the workspace"
        what = f"cannot write there ({exc.strerror})"
        _fail(f"{where}: {what} — {fix}", 3, as_json, {"what": what, "where": str(where), "fix": fix})
    except (typer.Exit, typer.Abort, typer.TyperException):
        raise
    except Exception as exc:  # a bug, or a library failing in a way we did not foresee
        _unexpected(exc, as_json, verbose)


def _unexpected(exc: Exception, as_json: bool, verbose: bool) -> NoReturn:
    if verbose:
        raise exc
    first = str(exc).splitlines()[0][:200] if str(exc) else ""
    message = (
        f"unexpected error: {type(exc).__name__}: {first} — run again with --verbose for the "
        "traceback, and please report it"
    )
    _fail(message, 1, as_json, {"what": f"{type(exc).__name__}: {first}", "unexpected": True})


def _fail(line: str, code: int, as_json: bool, details: dict[str, Any]) -> NoReturn:
    if as_json:
        print(json.dumps({"error": {**details, "exit_code": code}}, indent=2))
    else:
        _consoles()[1].print(f"error: {line}", markup=False, highlight=False, style="red")
    raise typer.Exit(code) from None


def _emit(outcome: Outcome, as_json: bool) -> None:
    if as_json:
        data = outcome.data.to_dict() if hasattr(outcome.data, "to_dict") else outcome.data
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    elif outcome.view is not None:
        console, renderable = _consoles()[0], outcome.view(outcome.data)
        if outcome.paged and _longer_than_screen(console, renderable):
            os.environ.setdefault("LESS", "-R")  # less shows the colours instead of their escape codes
            with console.pager(styles=True):
                console.print(renderable, crop=False)
        else:
            # crop=False: a long path or command is printed whole (the terminal wraps it; copy-paste keeps it)
            console.print(renderable, crop=False)
    sys.stdout.flush()  # a closed pipe shows up here, inside the error handling, not at exit


def _longer_than_screen(console: Any, renderable: Any) -> bool:
    if not (console.is_terminal and sys.stdin.isatty()):
        return False
    return len(console.render_lines(renderable, console.options, pad=False)) > console.height


# A command as written: _command registers a wrapper with typer and hands the function back unchanged.
CommandFunction = TypeVar("CommandFunction", bound=Callable[..., "Outcome | None"])


def _command(
    group: typer.Typer, name: str | None = None, *, json_flag: bool = True, **options: Any
) -> Callable[[CommandFunction], CommandFunction]:
    """Register a command that returns an Outcome (or None); add --json and the error handling."""

    def register(function: CommandFunction) -> CommandFunction:
        signature = inspect.signature(function, eval_str=True)
        parameters = list(signature.parameters.values())
        wants_ctx = "ctx" in signature.parameters
        extra = (
            [] if wants_ctx else [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context)]
        )
        if json_flag:
            extra.append(
                inspect.Parameter("as_json", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=JsonOpt)
            )

        @functools.wraps(function)
        def wrapper(**arguments: Any) -> None:
            ctx: typer.Context = arguments["ctx"] if wants_ctx else arguments.pop("ctx")
            as_json = arguments.pop("as_json", False)
            verbose = bool(ctx.obj and ctx.obj.verbose)
            with handle_errors(as_json, verbose):
                outcome = function(**arguments)
                if outcome is not None:
                    _emit(outcome, as_json)
                    if outcome.exit_code:
                        raise typer.Exit(outcome.exit_code)

        # typer reads the signature through inspect, which honours __signature__ (typeshed does not declare it)
        wrapper.__signature__ = signature.replace(parameters=parameters + extra)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in parameters + extra}
        group.command(name, **options)(wrapper)
        return function

    return register


def _from_environment(ctx: typer.Context, parameter: str) -> bool:
    """True when an option's value came from an environment variable: a setting, not an option to refuse."""
    origin = ctx.get_parameter_source(parameter)
    return origin is not None and origin.name == "ENVIRONMENT"


def _settings(ctx: typer.Context, **overrides: Any) -> Any:
    from teaching.infra.config import Settings

    cli: CliContext = ctx.obj or CliContext()
    return Settings().with_(workspace=cli.workspace, verbose=cli.verbose, **overrides)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"mlops-levels {version('mlops-levels')}")
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
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show library logs and tracebacks.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    ctx.obj = CliContext(workspace=workspace, verbose=verbose)


@_command(app, "list")
def list_levels(ctx: typer.Context) -> Outcome:
    """List the levels, what each adds, and your progress."""
    from teaching import render
    from teaching.state import levels_with_progress

    return Outcome(levels_with_progress(_settings(ctx).workspace), render.levels_view)


@_command(app)
def explain(level: LevelArg) -> Outcome:
    """Explain a level: what it adds, where each practice lives, what is still manual, exercises."""
    from teaching import render
    from teaching.catalog import get_level
    from teaching.explain import explain_level

    return Outcome(explain_level(get_level(level)), render.explain_view)


@_command(app)
def diff(
    ctx: typer.Context,
    level_a: LevelArg,
    level_b: LevelArg,
    stat: Annotated[bool, typer.Option("--stat", help="Only the summary, no line diffs.")] = False,
    file: Annotated[str | None, typer.Option("--file", help="Only this file (either level's name).")] = None,
    context: Annotated[int, typer.Option("--context", min=0, max=50, help="Context lines.")] = 3,
) -> Outcome:
    """Show what level B adds to level A: practices, files paired by lineage, line diffs, metrics."""
    from teaching import render
    from teaching.diff import compare_levels, diff_to_dict
    from teaching.state import level_state

    result = compare_levels(level_a, level_b, context=context, only_file=file)
    settings = _settings(ctx)
    runs = {n: level_state(settings.workspace, n).get("last_run", {}) for n in (result.a.number, result.b.number)}
    data = diff_to_dict(result, runs, with_lines=not stat)
    if len(data["last_metrics"]) > 1 and not data["same_data"]:
        data["same_data_command"] = settings.command("run", "all")  # every level on the same months
    return Outcome(data, render.diff_view, paged=True)


@_command(app)
def run(
    ctx: typer.Context,
    level: Annotated[str, typer.Argument(help="Level number 0-4, or 'all'.", show_default=False)],
    train_data: Annotated[
        str | None,
        typer.Option("--train-data", "--train-month", help="Training month(s) (YYYY-MM, A..B, A,B) or file."),
    ] = None,
    val_data: Annotated[
        str | None, typer.Option("--val-data", "--val-month", help="Validation month (YYYY-MM) or file.")
    ] = None,
    model: Annotated[str | None, typer.Option(help="linear_regression, lasso, ridge or gradient_boosting.")] = None,
    features: Annotated[
        str | None, typer.Option(help="pu_do (the pickup-dropoff pair) or pu_and_do (the course's first try).")
    ] = None,
    source: Annotated[str | None, typer.Option(help="Where months come from: synthetic (offline) or tlc.")] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="A folder of green_tripdata_YYYY-MM.parquet files (real months).")
    ] = None,
    scenario: Annotated[str | None, typer.Option(help="Synthetic drift: mild, traffic-returns or none.")] = None,
    seed: Annotated[int | None, typer.Option(help="Synthetic data seed.")] = None,
    sweep: Annotated[bool, typer.Option("--sweep", help="Level 2+: a small hyperparameter search.")] = False,
    months: Annotated[
        str | None, typer.Option(help="Level 4: the months to run, e.g. 2021-01..2021-06 or 2023-01,2023-02,2024-01.")
    ] = None,
    replay: Annotated[str | None, typer.Option(help="Level 3: the month (or file) replayed to the platform.")] = None,
    stack: Annotated[bool, typer.Option("--stack", help="Level 2+: track into the `stack up` MLflow server.")] = False,
    stack_url: Annotated[
        str | None,
        typer.Option(
            "--stack-url",
            envvar="MLOPS_LEVELS_STACK_URL",
            help="Level 2+: a class server's Prefect URL; flows run on its workers (credentials from the environment).",
        ),
    ] = None,
    tracking_uri: Annotated[
        str | None,
        typer.Option("--tracking-uri", envvar="MLFLOW_TRACKING_URI", help="Level 2+: a remote MLflow server."),
    ] = None,
) -> Outcome:
    """Run a level end to end on the embedded synthetic data (or your months, files or folder)."""
    from teaching import render
    from teaching.choices import RunChoices
    from teaching.runs import run_levels

    # MLFLOW_TRACKING_URI in a student's shell is a setting, not an option to refuse at levels 0 and 1.
    from_environment = _from_environment(ctx, "tracking_uri")
    choices = RunChoices(
        level=level,
        given={
            "train-data": train_data,
            "val-data": val_data,
            "model": model,
            "features": features,
            "sweep": sweep,
            "months": months,
            "replay": replay,
            "stack": stack,
            "tracking-uri": None if from_environment else tracking_uri,
            "stack-url": None if _from_environment(ctx, "stack_url") else stack_url,
        },
        data={"source": source, "data_folder": data_dir, "scenario": scenario, "seed": seed},
        tracking_uri=tracking_uri,
        stack_url=stack_url,
    )
    settings = _settings(ctx)
    with render.progress(_consoles()[1]) as on_step:
        result = run_levels(settings, choices, on_step)
    return Outcome(result, render.runs_view)


@_command(app, json_flag=False)
def walkthrough(
    ctx: typer.Context,
    level: LevelArg,
    no_pause: Annotated[bool, typer.Option("--no-pause", help="Do not wait for Enter (scripted demos).")] = False,
    step: Annotated[int, typer.Option("--step", min=1, help="Start at this step (resume).")] = 1,
) -> None:
    """Classroom mode: a level step by step — explanation, code or command, result — pausing for Enter."""
    from teaching import render
    from teaching.runs import run_for_walkthrough
    from teaching.walkthrough import after_walkthrough, build_steps

    settings = _settings(ctx)
    console = _consoles()[0]
    steps = build_steps(level, lambda: render.runs_view(run_for_walkthrough(settings, level, render.progress(console))))
    if step > len(steps):
        raise UsageError(f"level {level} has {len(steps)} steps", fix=f"use --step 1 to {len(steps)}")
    for index, current in enumerate(steps[step - 1 :], start=step):
        console.print(render.walkthrough_step(current, index, len(steps)))
        if current.action:
            console.print(current.action())
        if not no_pause and index < len(steps):
            try:
                console.input(f"Enter for step {index + 1} (Ctrl-C stops; resume with --step {index + 1})")
            except EOFError:  # input ended (a script, a pipe, </dev/null): nobody will press Enter, go on
                no_pause = True
                console.print()
    console.print(f"✓ Walkthrough of level {level} done. Next: {after_walkthrough(settings, level)}")


@_command(app)
def doctor(ctx: typer.Context) -> Outcome:
    """Check the environment a course needs: Python, pinned versions, free ports, disk, running servers."""
    from dataclasses import asdict

    from teaching import render
    from teaching.doctor import run_checks

    checks = [asdict(c) for c in run_checks(_settings(ctx).workspace)]
    return Outcome(checks, render.doctor_view, exit_code=1 if any(not c["ok"] for c in checks) else 0)


@_command(app)
def assess(
    path: Annotated[Path, typer.Argument(help="A project folder to assess.", show_default=False)],
) -> Outcome:
    """Score any project's MLOps practices, with the evidence (file:line) for each, and place it on the ladder.

    Reads code, not text: Python through its syntax tree, notebooks through their code cells, CI and
    build files by structure. What it looks for and what it cannot see: docs/assess.md.
    """
    from assess import AssessError
    from assess import assess as assess_folder
    from assess.scorecard import scorecard

    try:
        return Outcome(assess_folder(path), scorecard)
    except AssessError as error:  # assess knows nothing of the toolkit: its errors become the CLI's
        raise UsageError(error.what, where=error.where, fix=error.fix) from None


@_command(app, json_flag=False)
def serve(
    ctx: typer.Context,
    level: LevelArg,
    host: Annotated[str, typer.Option(help="Interface to bind; 127.0.0.1 keeps it on this machine.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    model_path: Annotated[Path | None, typer.Option("--model-path", help="Model file to serve (level 1).")] = None,
    version: Annotated[str | None, typer.Option(help="Registered model version or alias (levels 2+).")] = None,
) -> None:
    """Keep a level's service running on 127.0.0.1 until Ctrl-C."""
    from teaching.services import serve_level

    serve_level(_settings(ctx), level, host, port, {"model_path": model_path, "version": version})


@_command(app, json_flag=False)
def ui(
    ctx: typer.Context,
    level: Annotated[
        int,
        typer.Argument(
            parser=lambda t: _level_number(t, range(2, 5), "MLflow UI"), help="Level 2, 3 or 4.", show_default=False
        ),
    ],
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port of the MLflow UI.")] = 5000,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
) -> None:
    """Open the MLflow UI and the Prefect UI of a level's runs, on 127.0.0.1, until Ctrl-C."""
    from teaching.services import open_uis

    open_uis(_settings(ctx), level, host, port, _consoles()[0])


@_command(app)
def stop(ctx: typer.Context) -> Outcome:
    """Stop the background servers of the workspace (the local Prefect server, the exercise check server)."""
    from teaching import render
    from teaching.exercises.server import stop_server
    from teaching.infra.services import stop_workspace_server

    settings = _settings(ctx)
    data = stop_workspace_server(settings)
    return Outcome({**data, "check_server": stop_server(settings.workspace)}, render.stop_view)


@_command(app, "test")
def test_level(
    ctx: typer.Context,
    level: Annotated[str, typer.Argument(help="Level number 0-4, or 'all'.", show_default=False)],
    fast: Annotated[bool, typer.Option("--fast", help="Skip slow and server tests.")] = False,
) -> Outcome:
    """Run a level's own test suite in its folder (its `make test`), or every suite with 'all'; record the result."""
    from teaching import render
    from teaching.suites import run_suite

    data, code = run_suite(_settings(ctx).workspace, level, fast, _consoles()[1])
    return Outcome(data, render.suite_view, exit_code=code)


@_command(data_app, "generate")
def data_generate(
    ctx: typer.Context,
    months: Annotated[str, typer.Argument(help="Months: 2021-01, 2021-01..2021-06 or 2021-01,2021-03.")],
    scenario: Annotated[str | None, typer.Option(help="mild, traffic-returns or none.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    rows: Annotated[int | None, typer.Option(min=1, help="Rows per month (default ~70k).")] = None,
) -> Outcome:
    """Generate synthetic months (green-taxi schema, drift between months) into the workspace."""
    from teaching import render
    from teaching.data_commands import generate

    settings = _settings(ctx, scenario=scenario, seed=seed, synthetic_rows=rows)
    return Outcome(generate(settings, months), render.generated_view)


@_command(data_app, "fetch")
def data_fetch(
    ctx: typer.Context,
    months: Annotated[str, typer.Argument(help="Months: 2023-01, 2023-01..2023-03 or 2023-01,2024-01.")],
    color: Annotated[str, typer.Option(help="green or yellow.")] = "green",
) -> Outcome:
    """Download real NYC TLC months into the workspace cache (needs the internet)."""
    from teaching import render
    from teaching.data_commands import fetch

    settings = _settings(ctx, color=color, source="tlc")
    return Outcome(fetch(settings, months, render.download_progress(_consoles()[1])), render.fetched_view)


@_command(data_app, "show")
def data_show(
    ctx: typer.Context,
    data: Annotated[str, typer.Argument(help="A month (from the configured source) or a file.")],
) -> Outcome:
    """Summarise a month of trips: rows, the 1..60 minute filter, durations, distances, top zones."""
    from teaching import render
    from teaching.data_commands import show

    return Outcome(show(_settings(ctx), data), render.data_summary_view)


@_command(stack_app, "up")
def stack_up_command(
    ctx: typer.Context,
    classroom: Annotated[
        bool,
        typer.Option("--class", help="A class server: MLflow logins and permissions, Prefect on PostgreSQL, a pool."),
    ] = False,
) -> Outcome:
    """Start PostgreSQL, an mlflow server on it, and the Prefect server (takes ~30 s the first time)."""
    from teaching import render
    from teaching.infra.stack import stack_status, stack_up

    settings = _settings(ctx)
    with render.status(_consoles()[1], "starting PostgreSQL, MLflow and Prefect…"):
        state = stack_up(settings, classroom=classroom)
    data = {"services": stack_status(settings), "tracking_uri": state["mlflow"]["url"], "classroom": classroom}
    return Outcome(data, render.stack_view)


@_command(stack_app, "status")
def stack_status_command(ctx: typer.Context) -> Outcome:
    """Show which stack services are up."""
    from teaching import render
    from teaching.infra.stack import stack_status

    return Outcome({"services": stack_status(_settings(ctx))}, render.stack_view)


users_app = typer.Typer(help="The class server's students: logins, experiments, models.", no_args_is_help=True)
stack_app.add_typer(users_app, name="users")


@_command(users_app, "add")
def stack_users_add_command(
    ctx: typer.Context,
    names: Annotated[list[str] | None, typer.Argument(help="Student names (lower-case, e.g. alice).")] = None,
    roster: Annotated[Path | None, typer.Option("--roster", help="A file with one student name per line.")] = None,
) -> Outcome:
    """Add students to the class server: a login, their experiments and model, and a <name>.env to hand out."""
    from teaching import render
    from teaching.infra.classroom import enrol, read_roster
    from teaching.infra.stack import class_state, stack_dir

    settings = _settings(ctx)
    students = [*(names or []), *(read_roster(roster) if roster else [])]
    if not students:
        raise UsageError("no student named", fix="pass names, or --roster FILE")
    return Outcome(enrol(stack_dir(settings), class_state(settings), students), render.students_view)


@_command(users_app, "passwd")
def stack_users_passwd_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A student, `worker`, or `admin`.", show_default=False)],
) -> Outcome:
    """Give a user of the class server a new password (rewrites its file, and a student's .env)."""
    from teaching import render
    from teaching.infra.classroom import write_student_env
    from teaching.infra.classroom_auth import ADMIN, WORKER, rotate_password
    from teaching.infra.stack import class_state, stack_dir

    settings = _settings(ctx)
    state = class_state(settings)
    path = rotate_password(state["mlflow"]["url"], stack_dir(settings), name)
    if name not in (ADMIN, WORKER):
        path = write_student_env(stack_dir(settings), state, name)
    return Outcome({"user": name, "file": str(path)}, render.password_view)


@_command(stack_app, "worker", json_flag=False)
def stack_worker_command(
    ctx: typer.Context,
    student: Annotated[
        str | None, typer.Option("--student", help="Run only this student's queue, with their credentials.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Flow runs at once on this machine.")] = 2,
) -> None:
    """Run a Prefect worker for the class's pool in the foreground until Ctrl-C (here or on any machine)."""
    from teaching.infra.classroom import worker_command
    from teaching.infra.processes import run_owned
    from teaching.infra.stack import read_state, stack_dir

    settings = _settings(ctx)
    state = read_state(settings) or {}
    local = isinstance(state.get("class"), dict)
    api_url = settings.stack_url or (state["prefect"]["api_url"] if local else None)
    if not api_url:
        raise UsageError(
            "which class server?", fix="set MLOPS_LEVELS_STACK_URL, or run it where `stack up --class` ran"
        )
    command, env = worker_command(settings, api_url, stack_dir(settings) if local else None, student, limit)
    _consoles()[1].print(f"worker for {api_url} (Ctrl-C stops)", highlight=False)
    settings.workspace.mkdir(parents=True, exist_ok=True)
    # In the workspace: a `prefect.py` in the person's current folder would be imported by every flow run.
    raise typer.Exit(run_owned(command, env, cwd=settings.workspace))


@_command(stack_app, "down")
def stack_down_command(ctx: typer.Context) -> Outcome:
    """Stop the stack's services (data stays in the workspace)."""
    from teaching import render
    from teaching.infra.stack import stack_down

    return Outcome({"stopped": stack_down(_settings(ctx))}, render.stack_down_view)


@_command(app)
def clean(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> Outcome:
    """Delete the workspace (models, stores, reports, data cache), after stopping its servers."""
    from teaching import render
    from teaching.housekeeping import clean_workspace

    settings = _settings(ctx)
    confirm = (lambda: True) if yes else (lambda: typer.confirm(f"Delete {settings.workspace}?"))
    return Outcome(clean_workspace(settings, confirm), render.clean_view)


exercise_app = typer.Typer(
    help="Exercises: a level's own code with one practice taken out; write it back, the toolkit checks it.",
    no_args_is_help=True,
)
app.add_typer(exercise_app, name="exercise")
ExerciseArg = Annotated[str, typer.Argument(help="Exercise id (see: mlops-levels exercise list).", show_default=False)]
StudentOpt = Annotated[
    str | None,
    typer.Option("--student", envvar="MLOPS_LEVELS_STUDENT", help="Your name in the class's progress file."),
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")]


@_command(exercise_app, "list")
def exercise_list(
    ctx: typer.Context,
    level: Annotated[
        int | None, typer.Option("--level", parser=_level_number, help="Only this level's exercises.")
    ] = None,
    student: StudentOpt = None,
) -> Outcome:
    """List the exercises: level, the practice each teaches, and your status (not started, started, passed)."""
    from teaching import render
    from teaching.exercises.progress import list_exercises

    settings = _settings(ctx, student=student)
    return Outcome(list_exercises(settings.workspace, level, settings.student), render.exercise_list_view)


@_command(exercise_app, "start")
def exercise_start(ctx: typer.Context, exercise_id: ExerciseArg) -> Outcome:
    """Write your working copy of the level, with the practice taken out and a TODO in its place."""
    from teaching import render
    from teaching.exercises.commands import start

    return Outcome(start(_settings(ctx).workspace, exercise_id), render.exercise_start_view)


@_command(exercise_app, "check")
def exercise_check(
    ctx: typer.Context,
    exercise_id: ExerciseArg,
    watch: Annotated[bool, typer.Option("--watch", help="Check again on every save, until Ctrl-C.")] = False,
) -> Outcome | None:
    """Check your copy by what it does: each check passes or says why not, in a line or two."""
    from teaching import render
    from teaching.exercises.catalog import get_exercise
    from teaching.exercises.commands import check, started_copy

    workspace = _settings(ctx).workspace
    if not watch:
        result = check(workspace, exercise_id)
        return Outcome(result, render.exercise_check_view, exit_code=0 if result["passed"] else 1)
    root = started_copy(workspace, get_exercise(exercise_id))
    as_json = bool(ctx.params.get("as_json"))
    _consoles()[1].print(f"watching {root} (Ctrl-C stops)", highlight=False)
    from teaching.exercises.watch import watch_checks

    watch_checks(
        root,
        lambda: check(workspace, exercise_id),
        lambda result: _emit(Outcome(result, render.exercise_check_view), as_json),
    )
    return None


@_command(exercise_app, "hint")
def exercise_hint(ctx: typer.Context, exercise_id: ExerciseArg) -> Outcome:
    """The next hint for an exercise (they go from a nudge to almost the answer)."""
    from teaching import render
    from teaching.exercises.commands import hint

    return Outcome(hint(_settings(ctx).workspace, exercise_id), render.exercise_hint_view)


@_command(exercise_app, "solution")
def exercise_solution(ctx: typer.Context, exercise_id: ExerciseArg, yes: YesOpt = False) -> Outcome:
    """Show the level's own code for the exercise (after you confirm; it is recorded)."""
    from teaching import render
    from teaching.exercises.commands import solution

    confirm = (lambda: True) if yes else (lambda: typer.confirm(f"Show the solution of {exercise_id}?"))
    return Outcome(solution(_settings(ctx).workspace, exercise_id, confirm), render.exercise_solution_view)


@_command(exercise_app, "reset")
def exercise_reset(ctx: typer.Context, exercise_id: ExerciseArg, yes: YesOpt = False) -> Outcome:
    """Start an exercise over: a fresh copy replaces yours (your attempts stay recorded)."""
    from teaching import render
    from teaching.exercises.commands import reset

    confirm = (lambda: True) if yes else (lambda: typer.confirm(f"Replace your copy of {exercise_id}?"))
    return Outcome(reset(_settings(ctx).workspace, exercise_id, confirm), render.exercise_reset_view)


@_command(app)
def progress(
    ctx: typer.Context,
    export: Annotated[
        Path | None,
        typer.Option("--export", help="Write your rows into this CSV (other students' rows in it are kept)."),
    ] = None,
    student: StudentOpt = None,
) -> Outcome:
    """Your exercise progress; --export FILE writes it for the instructor (student, status, attempts, first pass)."""
    from teaching import render
    from teaching.exercises.progress import exercise_rows, export_progress

    settings = _settings(ctx, student=student)
    data = {
        "student": settings.student,
        "exercises": exercise_rows(settings.workspace, None, settings.student),
        "export": export_progress(settings.workspace, settings.student, export) if export else None,
    }
    return Outcome(data, render.progress_view)


if __name__ == "__main__":  # pragma: no cover, the console script calls app()
    sys.exit(app())
