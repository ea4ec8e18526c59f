"""Regions are marked in the levels, taken out of copies whole, and never shown by diff, explain or walkthrough."""

from __future__ import annotations

import ast
import json
import re

import pytest

from levels.catalog import LEVELS_DIR, PRACTICES, get_level, load_levels
from teaching.exercises.catalog import load_exercises
from teaching.exercises.copies import exercised_text, solution_code
from teaching.exercises.regions import MARKER, find_regions, region_code, strip_markers, take_out

EXERCISES = load_exercises()

SAMPLE = '''def rule(a, b):  # [exercise: demo]
    """The contract stays."""
    if a > b:
        return a

    return b


def other():
    total = 1  # [exercise: demo]
    total += 1
    return total  # [/exercise: demo]
'''


def test_a_block_keeps_its_docstring_and_a_span_runs_between_its_markers():
    regions = find_regions(SAMPLE, "demo")
    lines = SAMPLE.splitlines()
    assert [lines[i] for i in range(regions[0].start, regions[0].end)][0].strip() == "if a > b:"
    assert lines[regions[0].end - 1].strip() == "return b"
    assert (regions[1].start, regions[1].end) == (9, 12)
    out = take_out(SAMPLE, "demo", [("write it", "raise NotImplementedError"), ("and this", "return 0")])
    ast.parse(out)
    assert '"""The contract stays."""' in out and "TODO(exercise demo): write it" in out
    assert "a > b" not in out and "total += 1" not in out and "[exercise" not in out
    assert [line for _, code in region_code(SAMPLE, "demo") for line in code.splitlines()][0].strip() == "if a > b:"


def test_stripping_markers_keeps_every_line_in_its_place():
    stripped = strip_markers(SAMPLE)
    assert len(stripped.splitlines()) == len(SAMPLE.splitlines())
    assert "def rule(a, b):\n" in stripped and "total = 1\n" in stripped and "#" not in stripped.split("other")[1]
    assert strip_markers("x = 1  # keep this note [exercise: demo]\n") == "x = 1  # keep this note\n"


def _markers() -> list[tuple[int, str, str]]:
    found = []
    for level in load_levels():
        for path in level.folder.glob("taxi_duration/*.py"):
            for line in path.read_text().splitlines():
                if match := MARKER.search(line):
                    found.append((level.number, path.relative_to(level.folder).as_posix(), match.group(2)))
    return found


def test_every_marker_in_the_levels_belongs_to_an_exercise_of_the_level_or_its_copy():
    by_id = {e.id: e for e in EXERCISES}
    markers = _markers()
    assert markers, "no exercise markers in the levels"
    for number, name, exercise_id in markers:
        assert exercise_id in by_id, (number, name, exercise_id)
        origin = by_id[exercise_id].level
        assert number == origin or get_level(number).carried.get(name) == origin, (number, name, exercise_id)


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
    assert (
        any(n == 3 for n, _, _ in _markers())
        and "[exercise:" in (LEVELS_DIR / "level_3" / "taxi_duration" / "gate.py").read_text()
    )
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
