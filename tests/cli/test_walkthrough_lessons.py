"""A walkthrough teaches the practice and never gives an exercise away.

The guide's order is explain → walkthrough → diff → exercise: a walkthrough that printed an exercise's
answer would leave the student nothing to write. And a step that silently stops (a notebook cut at line
60, ci.yml cut before its release job) tells the student that is all there is.
"""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from teaching import render
from teaching.catalog import get_level
from teaching.exercises.catalog import Exercise, load_exercises
from teaching.exercises.copies import exercised_text, solution_code
from teaching.notebook import as_script
from teaching.walkthrough import build_steps

LEVELS = range(5)
CUT = "…"  # what a step prints where it leaves lines out


def _printed(number: int) -> str:
    """Every step of `walkthrough N` as the CLI prints it (the run step's result aside), unwrapped."""
    console = Console(width=400, file=io.StringIO(), record=True, color_system=None)
    steps = build_steps(number, lambda: None)
    for index, step in enumerate(steps, 1):
        console.print(render.walkthrough_step(step, index, len(steps)))
    return console.export_text()


def _telling(line: str) -> bool:
    """A line of an answer that tells something: not blank, a bracket, `return`, `pass` or `else:`."""
    return len(re.sub(r"\W", "", line)) >= 8


def _given(exercise: Exercise) -> set[str]:
    """Every line the student starts from: the level's files, with the exercise's regions taken out."""
    folder = get_level(exercise.level).folder
    texts = {str(p.relative_to(folder)): p.read_text(encoding="utf-8") for p in folder.rglob("*.py")}
    texts |= {name: exercised_text(exercise, name) for name in exercise.files}
    return {line.strip() for text in texts.values() for line in text.splitlines()}


def _answer_lines() -> dict[str, set[str]]:
    """What each exercise asks the student to write: its solution's telling lines, less those given."""
    answers = {}
    for exercise in load_exercises():
        solution = {line.strip() for part in solution_code(exercise) for line in str(part["code"]).splitlines()}
        answers[exercise.id] = {line for line in solution if _telling(line)} - _given(exercise)
    return answers


def test_no_walkthrough_prints_an_exercise_answer():
    printed = {number: _printed(number) for number in LEVELS}
    answers = _answer_lines()
    assert all(answers.values()), "an exercise asks for no line: the test would prove nothing for it"
    leaks = sorted(
        (number, exercise_id, line)
        for number, text in printed.items()
        for exercise_id, lines in answers.items()
        for line in lines
        if line in text
    )
    assert not leaks, leaks[:10]


def test_a_step_whose_code_is_an_answer_gives_the_exercise_instead():
    for number in LEVELS:
        for step in build_steps(number, lambda: None):
            for exercise_id in {e.exercise for e in getattr(step, "excerpts", ()) if e.exercise}:
                assert f"mlops-levels exercise start {exercise_id}" in step.text, (number, step.title)
                assert f"mlops-levels exercise check {exercise_id}" in step.text, (number, step.title)
    level_1 = " ".join(step.text for step in build_steps(1, lambda: None))
    assert "exercise start request-metrics" in level_1 and "exercise start feature-test" in level_1


def _source(number: int, file: str) -> list[str]:
    path = get_level(number).folder / file
    return (as_script(path) if file.endswith(".ipynb") else path.read_text(encoding="utf-8")).splitlines()


@pytest.mark.parametrize("number", LEVELS)
def test_every_cut_in_a_step_is_marked(number):
    steps = [step for step in build_steps(number, lambda: None) if step.code and step.title != "Run it"]
    assert steps and all(getattr(step, "excerpts", ()) for step in steps), (
        "a step shows code that is not excerpts of a file"
    )
    for step in steps:
        by_file: dict[str, list] = {}
        for excerpt in step.excerpts:
            by_file.setdefault(excerpt.file, []).append(excerpt)
        for file, shown in by_file.items():
            lines, seen = _source(number, file), 0  # lines[:seen] are shown or marked as cut
            for excerpt in shown:
                if excerpt.cut:
                    assert CUT in excerpt.code and excerpt.code in step.code
                    seen = -1  # what a cut stands for is left open; the next run says where it resumes
                    continue
                start = excerpt.line - 1
                assert lines[start : start + len(excerpt.code.splitlines())] == excerpt.code.splitlines(), (
                    f"{step.title}: {file}:{excerpt.line} is not the file's text"
                )
                if seen >= 0:
                    left_out = [line for line in lines[seen:start] if line.strip()]
                    assert not left_out, f"{step.title}: {file} lines {seen + 1}-{start} left out with no {CUT}"
                assert excerpt.code in step.code
                seen = start + len(excerpt.code.splitlines())
            if seen >= 0:
                left_out = [line for line in lines[seen:] if line.strip()]
                assert not left_out, f"{step.title}: {file} stops at line {seen} with no {CUT}"


def test_steps_show_the_practice_itself():
    def code(number: int, practice: str) -> str:
        step = next(s for s in build_steps(number, lambda: None) if s.title.endswith(practice))
        return step.code or ""

    assert "mlflow.log_metrics(metrics)" in code(2, "Experiment tracking")  # the logging calls
    assert "return quality_gate(" in code(3, "Quality gate enforced by the platform")  # the rule, applied
    assert "fired_rules(" in code(4, "Automated retraining") and '"0 6 1 * *"' in code(4, "Automated retraining")
    ci = code(1, "Continuous integration")
    assert "release:" in ci and "docker push" in ci
