"""Regions are named by function, taken out of copies whole; a marker left in a level is never shown."""

from __future__ import annotations

import ast
import json
import re

import pytest

from common.errors import MlopsLevelsError
from levels.catalog import PRACTICES, get_level, load_levels
from teaching.exercises.catalog import load_exercises
from teaching.exercises.copies import exercised_text, solution_code
from teaching.exercises.regions import MARKER, find_region, marked_regions, region_code, strip_markers, take_out

EXERCISES = load_exercises()

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


def test_stripping_markers_keeps_every_line_in_its_place():
    marked = "def rule(a, b):  # [exercise: demo]\n    total = 1  # [exercise: demo]\n"
    marked += "    return total  # [/exercise: demo]\n"
    stripped = strip_markers(marked)
    assert stripped == "def rule(a, b):\n    total = 1\n    return total\n" and marked_regions(marked, "demo")
    assert strip_markers("x = 1  # keep this note [exercise: demo]\n") == "x = 1  # keep this note\n"


def _markers() -> list[tuple[int, str, str]]:
    found = []
    for level in load_levels():
        for path in level.folder.glob("taxi_duration/*.py"):
            for line in path.read_text().splitlines():
                if match := MARKER.search(line):
                    found.append((level.number, path.relative_to(level.folder).as_posix(), match.group(2)))
    return found


def test_every_marker_left_in_the_levels_belongs_to_an_exercise_of_the_level_or_its_copy():
    by_id = {e.id: e for e in EXERCISES}
    markers = _markers()
    for number, name, exercise_id in markers:
        assert exercise_id in by_id, (number, name, exercise_id)
        origin = by_id[exercise_id].level
        assert number == origin or get_level(number).carried.get(name) == origin, (number, name, exercise_id)


@pytest.mark.parametrize("exercise", [e for e in EXERCISES if e.regions], ids=lambda e: e.id)
def test_a_region_named_by_function_is_the_one_its_markers_marked_and_needs_no_marker(exercise):
    """Naming a region by function takes out the lines its markers marked (while the levels still hold
    markers), and the same lines once the markers are deleted."""
    for name in exercise.files:
        text = (get_level(exercise.level).folder / name).read_text()
        specs = [r for r in exercise.regions if r.file == name]
        named = sorted((find_region(text, r.name, r.part, name) for r in specs), key=lambda r: r.start)
        unmarked = sorted(
            (find_region(strip_markers(text), r.name, r.part, name) for r in specs), key=lambda r: r.start
        )
        assert named and named == unmarked, name
        marked = marked_regions(text, exercise.id)
        assert not marked or [(r.start, r.end) for r in named] == [(r.start, r.end) for r in marked], name


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
