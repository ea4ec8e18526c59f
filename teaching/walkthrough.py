"""Classroom mode: a level, step by step. Each step is an explanation, the code or command it is
about, and (for the run step) the result. The CLI shows them one at a time and pauses for Enter.

A practice's step shows the code that is the practice, chosen by name in SHOWN (the logging calls, the
gate's rule, the trigger, the schedule), and marks every line it leaves out with "…". Code that is an
exercise's answer is never shown: its place says which exercise it is, and the step gives the exercise
(what to write, how to check it), so the walkthrough comes before the exercise without spoiling it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.errors import MlopsLevelsError
from teaching.catalog import LevelInfo, Practice, get_level
from teaching.exercises.catalog import Exercise, exercises_of, load_exercises
from teaching.exercises.regions import find_region
from teaching.infra.config import Settings
from teaching.notebook import as_script

# Level 4's step tells the retraining story (traffic returns; a rule fires by May) on a seed of its own, so
# that its decision log and figure are its own: a walkthrough after `run all` overwrites none of the story.
WALKTHROUGH_OPTIONS = {4: {"months": "2021-01..2021-05"}}
WALKTHROUGH_DATA = {4: {"scenario": "traffic-returns", "seed": 7}}

# What each practice's step shows, by name (never by line counts): `file::name` is a function, class,
# method (`Class.method`) or module-level assignment of a Python file, `Makefile::target` a make target,
# a bare file is shown whole. A practice not named here shows what its level.toml `where` names.
SHOWN: dict[str, tuple[str, ...]] = {
    "versioned_code": ("taxi_duration/train.py::train",),
    "unit_tests": (
        "Makefile::test",
        "Makefile::test-fast",
        "tests/test_trained_features.py::test_the_trained_model_keeps_each_direction_under_its_own_name",
    ),
    "ci": ("ci.yml",),
    "packaged_service": ("taxi_duration/serve.py::create_app", "taxi_duration/routes.py::add_routes"),
    "ops_metrics": ("taxi_duration/metrics.py::ServiceMetrics", "taxi_duration/metrics.py::MetricsMiddleware"),
    "orchestrated_pipeline": (
        "taxi_duration/pipeline.py::_is_transient",
        "taxi_duration/pipeline.py::load_data",
        "taxi_duration/pipeline.py::training_pipeline",
    ),
    "experiment_tracking": (
        "taxi_duration/tracking.py::run_tags",
        "taxi_duration/tracking.py::log_training",
        "taxi_duration/pipeline.py::SWEEP_GRID",
        "taxi_duration/pipeline.py::_candidates",
    ),
    "model_registry": (
        "taxi_duration/registry.py::CHAMPION",
        "taxi_duration/registry.py::register_version",
        "taxi_duration/registry.py::resolve_version",
        "taxi_duration/promote.py::promote",
    ),
    "automated_deployment": ("taxi_duration/platform_api.py::create_app",),
    "quality_gate": (
        "taxi_duration/gate.py::DEFAULT_TOLERANCE",
        "taxi_duration/gate.py::quality_gate",
        "taxi_duration/gate.py::check_candidate",
        "taxi_duration/deployer.py::Platform._gate",
        "taxi_duration/deployer.py::Platform.promote",
    ),
    "continuous_delivery": ("cd.yml",),
    "ab_testing": (
        "taxi_duration/ab.py::Variant",
        "taxi_duration/ab.py::bucket",
        "taxi_duration/ab.py::choose_variant",
        "taxi_duration/platform_api.py::_predict",
    ),
    "model_monitoring": ("taxi_duration/monitor.py::DRIFT_THRESHOLDS", "taxi_duration/monitor.py::run_monitoring"),
    "automated_retraining": (
        "taxi_duration/triggers.py::Thresholds",
        "taxi_duration/triggers.py::fired_rules",
        "taxi_duration/automation.py::monthly_cycle",
        "taxi_duration/automation.py::retrain",
        "taxi_duration/automation.py::month_of_schedule",
        "taxi_duration/schedule.py::CRON",
    ),
}
# Level 0's notebook by its sections (a markdown heading, or a cell's tag): the hard-coded parameters,
# the features, the training, the pickle. Where the data comes from is not the level's lesson.
NOTEBOOK_SECTIONS: tuple[str, ...] = (
    "parameters",
    "Features: the pickup-dropoff pair and the distance",
    "Train and evaluate",
    "Save the model",
)
CUT = "…"


@dataclass(frozen=True)
class Excerpt:
    """Lines of a file shown as they are (`line`: the first one's number), or a cut (`line` 0): lines
    not shown, said with "…" and, when they are an exercise's answer, that exercise's id."""

    file: str
    line: int
    code: str
    exercise: str | None = None

    @property
    def cut(self) -> bool:
        return self.line == 0


@dataclass
class Step:
    title: str
    text: str
    code: str | None = None
    lexer: str = "python"
    action: Callable[[], Any] | None = None
    start_line: int = 1  # the code's first line number in its file, so a student can find it
    excerpts: tuple[Excerpt, ...] = ()  # the code as runs of its files' lines and cuts; `code` joins them


def readme_section(level: LevelInfo, heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", level.readme, re.MULTILINE | re.DOTALL)
    return match.group(1).strip() if match else ""


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _comments_above(lines: list[str], start: int) -> int:
    """A definition's comment lines right above it go with it: they say why."""
    while start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    return start


def _binds(node: ast.stmt, name: str) -> bool:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return node.name == name
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return isinstance(node, ast.Assign | ast.AnnAssign) and any(
        isinstance(t, ast.Name) and t.id == name for t in targets
    )


def _python_lines(text: str, name: str, where: str) -> tuple[int, int]:
    """Lines [start, end) (0-based) of a named definition or assignment, with its decorators and comments."""
    body: list[ast.stmt] = ast.parse(text).body
    node: ast.stmt | None = None
    for part in name.split("."):
        node = next((n for n in body if _binds(n, part)), None)
        if node is None:
            raise MlopsLevelsError(f"no {part} here", where=where, fix="name a function, class, method or assignment")
        body = list(getattr(node, "body", []))
    assert node is not None
    start = min([d.lineno for d in getattr(node, "decorator_list", [])] + [node.lineno]) - 1
    return _comments_above(text.splitlines(), start), node.end_lineno or node.lineno


def _make_lines(text: str, target: str, where: str) -> tuple[int, int]:
    """Lines of a make target: its comments, its rule and its recipe."""
    lines = text.splitlines()
    found = [i for i, line in enumerate(lines) if re.match(rf"{re.escape(target)}\s*:", line)]
    if not found:
        raise MlopsLevelsError(f"no target {target} here", where=where)
    end = found[0] + 1
    while end < len(lines) and lines[end].startswith("\t"):
        end += 1
    return _comments_above(lines, found[0]), end


def _selected(text: str, file: str, name: str, where: str) -> tuple[int, int]:
    if not name:
        return 0, len(text.splitlines())
    if file.endswith(".py"):
        return _python_lines(text, name, where)
    if Path(file).name == "Makefile":
        return _make_lines(text, name, where)
    raise MlopsLevelsError("only Python files and Makefiles are shown by name", where=where, fix="name the file")


def _answers(text: str, file: str) -> list[tuple[int, int, Exercise, str]]:
    """Every exercise region in this file, whichever level the exercise is at (a carried file holds the
    same answer): lines a walkthrough never shows."""
    found = []
    for exercise in load_exercises():
        for spec in exercise.regions:
            if spec.file != file:
                continue
            try:
                region = find_region(text, spec.name, spec.part)
            except MlopsLevelsError:  # another level's file of that name, without that function
                continue
            found.append((region.start, region.end, exercise, spec.todo))
    return found


def file_excerpts(text: str, file: str, ranges: list[tuple[int, int]]) -> list[Excerpt]:
    """Lines [start, end) of a file as runs and cuts: every line left out is marked by a "…" line."""
    lines = text.splitlines()
    state: list[str | tuple[str, str]] = ["cut"] * len(lines)  # "show", "cut", or (exercise id, todo)
    for start, end in ranges:
        state[start:end] = ["show"] * (end - start)
    i = 0
    while i < len(lines):  # blank lines between two shown lines leave nothing out: show them
        j = i
        while j < len(lines) and state[j] == state[i]:
            j += 1
        if state[i] == "cut" and 0 < i and j < len(lines) and not any(line.strip() for line in lines[i:j]):
            state[i:j] = ["show"] * (j - i)
        i = j
    for start, end, exercise, todo in _answers(text, file):
        mark: str | tuple[str, str] = (exercise.id, todo) if "show" in state[start:end] else "cut"
        state[start:end] = [mark] * (end - start)
    excerpts: list[Excerpt] = []
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and state[j] == state[i]:
            j += 1
        first, last = i, j
        while first < last and not lines[first].strip():
            first += 1
        while last > first and not lines[last - 1].strip():
            last -= 1
        indent, kind = (_indent(lines[first]) if first < last else ""), state[i]
        if kind == "show" and first < last:
            excerpts.append(Excerpt(file, first + 1, "\n".join(lines[first:last])))
        elif isinstance(kind, tuple):
            exercise_id, todo = kind
            excerpts.append(Excerpt(file, 0, f"{indent}{CUT} exercise {exercise_id}: {todo}", exercise_id))
        elif kind == "cut" and first < last and not (excerpts and excerpts[-1].cut and not excerpts[-1].exercise):
            excerpts.append(Excerpt(file, 0, f"{indent}{CUT}"))
        i = j
    return excerpts


def excerpts(level: LevelInfo, selectors: tuple[str, ...]) -> list[Excerpt]:
    """The code `selectors` name (see SHOWN), file by file in the order first named."""
    ranges: dict[str, list[tuple[int, int]]] = {}
    for selector in selectors:
        file, _, name = selector.partition("::")
        text = (level.folder / file).read_text(encoding="utf-8")
        ranges.setdefault(file, []).append(_selected(text, file, name, f"{level.folder / file}::{name}"))
    found: list[Excerpt] = []
    for file, chosen in ranges.items():
        found += file_excerpts((level.folder / file).read_text(encoding="utf-8"), file, chosen)
    return found


def joined(shown: list[Excerpt]) -> str:
    """Excerpts as one text: each file's name in a comment line, then its runs and cuts."""
    out: list[str] = []
    for index, excerpt in enumerate(shown):
        if index == 0 or excerpt.file != shown[index - 1].file:
            out.append(f"# {excerpt.file}")
        out.append(excerpt.code)
    return "\n".join(out)


def exercise_card(exercise: Exercise) -> str:
    brief = " ".join(exercise.brief.split())
    return (
        f"**Exercise `{exercise.id}`: {exercise.title}.** {brief}\n\n"
        f"Write it: `mlops-levels exercise start {exercise.id}`, then check it: "
        f"`mlops-levels exercise check {exercise.id}`."
    )


def notebook_excerpts(script: str, file: str) -> list[Excerpt]:
    """The notebook's sections named in NOTEBOOK_SECTIONS: a heading's cells, or a cell with that tag."""
    lines = script.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("# %%")] + [len(lines)]
    chosen, under_heading = [], False
    for start, end in zip(starts, starts[1:], strict=False):
        header = lines[start]
        if "[markdown]" in header:
            heading = next((line[len("# ## ") :] for line in lines[start + 1 : end] if line.startswith("# ## ")), None)
            under_heading = heading in NOTEBOOK_SECTIONS
        if under_heading or any(f'"{tag}"' in header for tag in NOTEBOOK_SECTIONS):
            chosen.append((start, end))
    return file_excerpts(script, file, chosen)


def practice_step(level: LevelInfo, practice: Practice) -> Step:
    """A practice: why, the code that is it, and the exercises that take part of it out."""
    shown = excerpts(level, SHOWN.get(practice.id, (practice.where,)))
    hidden = {e.exercise for e in shown if e.exercise}
    exercises = [
        e for e in load_exercises() if e.id in hidden or (e.level == level.number and e.practice == practice.id)
    ]
    runs = [e for e in shown if not e.cut]
    where = ", ".join(f"`{s}`" for s in SHOWN.get(practice.id, (practice.where,)))
    text = f"{practice.why}\n\nShown: {where}, from line {runs[0].line if runs else 1}."
    if any(e.cut for e in shown):
        text += f" A line `{CUT}` stands for lines not shown."
    text += "".join(f"\n\n{exercise_card(e)}" for e in exercises)
    return Step(
        f"Practice: {practice.title}",
        text,
        joined(shown),
        lexer_of(practice.file),
        start_line=runs[0].line if runs else 1,
        excerpts=tuple(shown),
    )


def lexer_of(filename: str) -> str:
    name = Path(filename).name
    return {"Dockerfile": "docker", "Makefile": "make", "MLproject": "yaml"}.get(
        name, "yaml" if name.endswith(".yml") else "python"
    )


def after_walkthrough(settings: Settings, number: int) -> str:
    """The level's exercises; a level without any (level 0) goes on to what the next level adds."""
    if exercises_of(number):
        return settings.command("exercise", "list", "--level", number)
    return settings.command("diff", number, number + 1) if number < 4 else settings.command("run", "all")


def build_steps(number: int, run: Callable[[], Any]) -> list[Step]:
    level = get_level(number)
    below = get_level(number - 1) if number > 0 else None
    changes = readme_section(level, "What changes from the level below")
    steps = [Step(f"Level {number} · {level.title}", f"{level.summary}\n\n{changes}")]
    if number == 0:
        notebook = level.folder / level.files[0]
        shown = notebook_excerpts(as_script(notebook), notebook.name)
        steps.append(
            Step(
                "The notebook",
                f"`{notebook.name}`: cells run top to bottom by hand (open it in Jupyter or VS Code). "
                "Parameters are hard-coded in a cell; the model ends up as a pickle. "
                f"Shown: the {NOTEBOOK_SECTIONS[0]} cell and the sections "
                + ", ".join(f"“{s}”" for s in NOTEBOOK_SECTIONS[1:])
                + f"; a line `{CUT}` stands for cells not shown.",
                joined(shown),
                start_line=shown[0].line if shown and not shown[0].cut else 1,
                excerpts=tuple(shown),
            )
        )
    gained = [p for p in level.practices if below is None or p.id not in below.practice_ids]
    steps += [practice_step(level, practice) for practice in gained]
    extra = " ".join(f"--{k} {v}" for k, v in WALKTHROUGH_OPTIONS.get(number, {}).items())
    steps.append(
        Step(
            "Run it",
            "The whole level, end to end, on the embedded synthetic data.",
            f"mlops-levels run {number} {extra}".strip(),
            "bash",
            run,
        )
    )
    manual = "\n".join(f"- {item}" for item in level.still_manual)
    following = f"Next: `mlops-levels walkthrough {number + 1}`" if number < 4 else "You have reached the top."
    steps.append(Step("Still manual", f"{manual}\n\n{following}"))
    return steps
