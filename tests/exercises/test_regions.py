"""Regions are named by function and taken out of copies whole; a level holds no exercise marker."""

from __future__ import annotations

import ast
import json
import os
import re
from pathlib import Path

import pytest

from common.errors import MlopsLevelsError
from teaching.catalog import LEVELS_DIR, PRACTICES, get_level
from teaching.exercises.catalog import load_exercises
from teaching.exercises.copies import exercised_text, solution_code
from teaching.exercises.regions import find_region, region_code, take_out

EXERCISES = load_exercises()
MARKER = re.compile(r"\[/?exercise:")  # what `# [exercise: ID]` and `# [/exercise: ID]` comments held

SAMPLE = '''"""A module."""

LIMITS = {
    "a": 1,  # the first
    "b": 2,
}


def rule(a, b):
    """The contract stays."""
    # a comment of the body goes with it
    if a > b:
        return a

    return b


class Box:
    def open(self):
        total = 1
        try:
            total += 1
        finally:
            total += 2
            self.note = total
        kept = total
        first = kept
        middle = first
        last = middle
        return last
'''


def _lines(region) -> list[str]:
    return [line.strip() for line in SAMPLE.splitlines()[region.start : region.end]]


def test_a_region_is_a_body_a_literal_a_finally_clause_or_a_run_of_statements():
    assert _lines(find_region(SAMPLE, "rule")) == [
        "# a comment of the body goes with it",
        "if a > b:",
        "return a",
        "",
        "return b",
    ]
    assert _lines(find_region(SAMPLE, "LIMITS")) == ['"a": 1,  # the first', '"b": 2,']
    assert _lines(find_region(SAMPLE, "Box.open", "finally")) == ["total += 2", "self.note = total"]
    assert _lines(find_region(SAMPLE, "Box.open", "first..last")) == ["first = kept", "middle = first", "last = middle"]
    regions = [
        (find_region(SAMPLE, "rule"), "write it", "raise NotImplementedError"),
        (find_region(SAMPLE, "LIMITS"), "fill it", ""),
    ]
    out = take_out(SAMPLE, "demo", regions)
    ast.parse(out)
    assert '"""The contract stays."""' in out and "TODO(exercise demo): write it" in out and "LIMITS = {" in out
    assert "a > b" not in out and '"b": 2' not in out and "return b" not in out
    assert region_code(SAMPLE, find_region(SAMPLE, "Box.open", "finally")).splitlines()[0] == "            total += 2"


@pytest.mark.parametrize(
    ("name", "part", "says"),
    [
        ("nothing", "", "no nothing"),
        ("Box.shut", "", "no shut"),
        ("rule", "finally", "no try"),
        ("Box.open", "last..first", "no statements"),
    ],
)
def test_a_region_that_is_not_there_is_a_clear_error(name, part, says):
    with pytest.raises(MlopsLevelsError, match=says):
        find_region(SAMPLE, name, part, "sample.py")


def _level_files() -> list[Path]:
    """Every file under levels/ a student could read: what git tracks and what a run leaves there,
    without the tools' caches (hidden folders, __pycache__)."""
    found = []
    for folder, subfolders, names in os.walk(LEVELS_DIR):
        subfolders[:] = [name for name in subfolders if not name.startswith(".") and name != "__pycache__"]
        found += [Path(folder) / name for name in names if not name.endswith((".pyc", ".db", ".parquet"))]
    return sorted(found)


def test_no_level_file_holds_an_exercise_marker():
    """Exercises name their regions in exercises.toml; a `# [exercise: ID]` comment in a level would be a
    trace of the toolkit in the student's project (and nothing reads it any more)."""
    scanned, found = 0, []
    for path in _level_files():
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            continue
        scanned += 1
        where = path.relative_to(LEVELS_DIR).as_posix()
        found += [f"{where}:{number}: {line.strip()}" for number, line in enumerate(lines, 1) if MARKER.search(line)]
    assert scanned > 40, f"only {scanned} files read under {LEVELS_DIR}: the test would prove nothing"
    assert found == [], "name the region in teaching/exercises/exercises.toml instead:\n" + "\n".join(found)


def _binds(node: ast.stmt, name: str) -> bool:
    targets = getattr(node, "targets", None) or [getattr(node, "target", None)]
    return getattr(node, "name", None) == name or any(isinstance(t, ast.Name) and t.id == name for t in targets)


def _span(tree: ast.Module, name: str) -> tuple[int, int]:
    """Lines [start, end) (0-based) of the definition or assignment a region's name points at."""
    nodes: list[ast.stmt] = tree.body
    for head in name.split("."):
        node = next(n for n in nodes if _binds(n, head))
        nodes = getattr(node, "body", [])
    return node.lineno - 1, node.end_lineno or node.lineno


@pytest.mark.parametrize("exercise", [e for e in EXERCISES if e.regions], ids=lambda e: e.id)
def test_each_named_region_finds_real_code_in_its_level(exercise):
    """Each region names a function, method, clause or literal that exists in the level's file, lies inside
    it and holds code, not only comments. (That the level's own code passes the exercise's checks is
    test_every_exercise's `test_the_levels_own_code_passes_its_check`.)"""
    for spec in exercise.regions:
        text = (get_level(exercise.level).folder / spec.file).read_text()
        region = find_region(text, spec.name, spec.part, spec.file)
        start, end = _span(ast.parse(text), spec.name)
        code = [line for line in region_code(text, region).splitlines() if line.strip()]
        assert start < region.start < region.end <= end, (spec.where, spec.part)
        assert any(not line.lstrip().startswith("#") for line in code), (spec.where, spec.part)


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_each_exercise_teaches_a_practice_its_level_adds_and_its_copy_compiles(exercise):
    level, below = get_level(exercise.level), get_level(exercise.level - 1)
    assert exercise.practice in PRACTICES and exercise.practice in level.practice_ids
    assert exercise.practice not in below.practice_ids, f"{exercise.practice} is not new at level {exercise.level}"
    assert len(exercise.hints) >= 2 and exercise.brief
    for name in exercise.files:
        text = exercised_text(exercise, name)
        ast.parse(text)
        assert f"TODO(exercise {exercise.id})" in text and "[exercise:" not in text
    for region in solution_code(exercise):
        assert region["code"].strip() and "[exercise:" not in region["code"]


def test_at_least_twelve_exercises_cover_levels_one_to_four():
    assert len(EXERCISES) >= 12
    assert {e.level for e in EXERCISES} == {1, 2, 3, 4}
    assert len({e.id for e in EXERCISES}) == len(EXERCISES)


def test_diff_explain_and_walkthrough_never_show_a_marker(invoke):
    outputs = [invoke("diff", a, b, "--json").output for a, b in ((0, 1), (1, 2), (2, 3), (3, 4), (0, 4))]
    outputs += [invoke("explain", n, "--json").output for n in range(5)]
    from teaching.walkthrough import build_steps

    outputs += [step.code or "" for n in range(5) for step in build_steps(n, lambda: None)]
    assert not [o for o in outputs if re.search(r"\[/?exercise:", o)]
    assert json.loads(outputs[0])["files"], "the diff was empty: the test would prove nothing"


def test_the_instructors_page_names_every_exercise_and_is_linked_from_the_guide():
    from tests.conftest import REPO

    page = (REPO / "docs" / "instructors.md").read_text()
    assert all(f"`{e.id}`" in page for e in EXERCISES)
    assert "MLOPS_LEVELS_STUDENT" in page and "progress --export" in page
    assert "(instructors.md)" in (REPO / "docs" / "instructor-guide.md").read_text()
