"""Copies between levels are declared and kept identical: a copy is a teaching device, never a fork."""

from __future__ import annotations

import shutil

import pytest

from levels.carried import as_carried, carried_files, drifted, sync
from levels.catalog import LEVELS_DIR, load_levels

LEVELS = load_levels()


def test_every_carried_file_equals_its_origin_but_for_the_level_name():
    drift = [f"levels/level_{c.level}/{c.name} (from level {c.origin})" for c in drifted()]
    assert not drift, f"carried files drifted: {drift}; run `python3 tasks.py sync` or declare them diverged"


def test_declarations_point_at_listed_files_of_an_earlier_level():
    for carried in carried_files():
        assert carried.origin < carried.level
        origin, level = LEVELS[carried.origin], LEVELS[carried.level]
        assert carried.origin_name in origin.files and carried.name in level.files, carried
        assert carried.name not in origin.carried, f"{carried}: point at the level that wrote it first"
    for level in LEVELS:
        assert not set(level.carried) & set(level.diverged), level.number


@pytest.mark.parametrize("level", LEVELS[1:], ids=lambda lv: f"level_{lv.number}")
def test_no_file_is_an_undeclared_copy_of_an_earlier_level(level):
    for name in level.files:
        if name in level.carried or name in level.diverged:
            continue
        text = (level.folder / name).read_text(encoding="utf-8")
        for lower in LEVELS[: level.number]:
            if (lower.folder / name).exists():
                origin_text = (lower.folder / name).read_text(encoding="utf-8")
                assert as_carried(origin_text, lower.number, level.number) != text, (
                    f"level_{level.number}/{name} is a copy of level_{lower.number}'s: declare it in [carried]"
                )


def test_sync_rewrites_a_drifted_copy_from_its_origin(tmp_path):
    root = tmp_path / "levels"
    shutil.copytree(LEVELS_DIR, root, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(LEVELS_DIR.parent / "constraints.txt", tmp_path / "constraints.txt")
    victim = root / "level_4" / "gate.py"
    victim.write_text(victim.read_text() + "\n# a local edit that should have been made in level 3\n")
    assert [(c.level, c.name) for c in drifted(root)] == [(4, "gate.py")]
    assert [(c.level, c.name) for c in sync(root)] == [(4, "gate.py")]
    assert drifted(root) == []
    assert victim.read_text() == (root / "level_3" / "gate.py").read_text().replace("level_3", "level_4")


def test_only_the_level_name_is_normalised():
    text = "from levels.level_2.tracking import x  # Level 2+ · level_20 stays\nname: taxi-level-2\n"
    assert (
        as_carried(text, 2, 4)
        == "from levels.level_4.tracking import x  # Level 2+ · level_20 stays\nname: taxi-level-4\n"
    )


def test_a_file_carried_from_a_project_into_a_level_not_yet_moved_gets_the_old_package_name():
    text = "from taxi_duration.metrics import ServiceMetrics  # Level 1+\n"
    assert (
        as_carried(text, 1, 2, carrier_is_project=False)
        == "from levels.level_2.metrics import ServiceMetrics  # Level 1+\n"
    )
    assert as_carried(text, 1, 2) == text  # between two projects, a carried file is byte-identical


def test_every_project_pins_its_install_with_the_courses_lock(tmp_path):
    from levels.carried import drifted_locks, lock_copies

    assert lock_copies() and drifted_locks() == []
    root = tmp_path / "levels"
    shutil.copytree(LEVELS_DIR, root, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(LEVELS_DIR.parent / "constraints.txt", tmp_path / "constraints.txt")
    (root / "level_1" / "constraints.txt").write_text("pandas==3.0.0\n")
    assert drifted_locks(root) == [root / "level_1" / "constraints.txt"]
    sync(root)
    assert drifted_locks(root) == []
