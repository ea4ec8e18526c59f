"""Every level.toml is consistent with its folder (the way rustlings checks its exercises)."""

from __future__ import annotations

import ast

import pytest

from teaching.catalog import PRACTICES, load_levels

LEVELS = load_levels()


@pytest.mark.parametrize("level", LEVELS, ids=lambda lv: f"level_{lv.number}")
def test_listed_files_exist_and_no_python_file_is_unlisted(level):
    for name in level.files:
        assert (level.folder / name).is_file(), name
    code = level.folder / (level.package or ".")
    on_disk = {p.relative_to(level.folder).as_posix() for p in code.glob("*.py") if p.name != "__init__.py"}
    assert on_disk <= set(level.files)


@pytest.mark.parametrize("level", LEVELS, ids=lambda lv: f"level_{lv.number}")
def test_practices_point_at_real_code(level):
    """level.toml names where each practice lives (`file` or `file.py::name`); the code carries no tag of it."""
    assert len(set(level.practice_ids)) == len(level.practice_ids)
    for practice in level.practices:
        assert practice.id in PRACTICES
        source = (level.folder / practice.file).read_text(encoding="utf-8")
        assert f"[{practice.id}]" not in source, f"{practice.file} tags the practice: level.toml says where it is"
        if "::" in practice.where and practice.file.endswith(".py"):
            names = {n.name for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef | ast.ClassDef)}
            assert practice.where.split("::")[1] in names


def test_levels_are_numbered_in_order_and_practices_only_grow():
    numbers = [lv.number for lv in LEVELS]
    assert numbers == list(range(len(numbers)))
    for lower, upper in zip(LEVELS, LEVELS[1:], strict=False):
        assert set(lower.practice_ids) <= set(upper.practice_ids)


def test_lineage_points_at_files_of_the_level_below():
    for lower, upper in zip(LEVELS, LEVELS[1:], strict=False):
        for new, old in upper.lineage.items():
            assert new in upper.files and old in lower.files, (upper.number, new, old)


@pytest.mark.parametrize("level", LEVELS, ids=lambda lv: f"level_{lv.number}")
def test_readme_has_the_fixed_headings(level):
    for heading in ("## What changes from the level below", "## Run it", "## Still manual", "## Try this"):
        assert heading in level.readme
