"""Copies between levels are declared and kept identical: a copy is a teaching device, never a fork."""

from __future__ import annotations

import shutil

import pytest

from teaching.carried import carried_files, drifted, sync
from teaching.catalog import LEVELS_DIR, load_levels

LEVELS = load_levels()


def test_every_carried_file_is_byte_identical_to_its_origin():
    drift = [f"levels/level_{c.level}/{c.name} (from level {c.origin})" for c in drifted()]
    assert not drift, f"carried files drifted: {drift}; run `python3 tasks.py sync` or declare them diverged"


def test_declarations_point_at_listed_files_of_an_earlier_level():
    for carried in carried_files():
        assert carried.origin < carried.level
        origin, level = LEVELS[carried.origin], LEVELS[carried.level]
        assert carried.name in origin.files and carried.name in level.files, carried
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
                assert origin_text != text, (
                    f"level_{level.number}/{name} is a copy of level_{lower.number}'s: declare it in [carried]"
                )


def test_sync_rewrites_a_drifted_copy_from_its_origin(tmp_path):
    root = tmp_path / "levels"
    shutil.copytree(LEVELS_DIR, root, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(LEVELS_DIR.parent / "constraints.txt", tmp_path / "constraints.txt")
    victim = root / "level_4" / "taxi_duration" / "gate.py"
    victim.write_text(victim.read_text() + "\n# a local edit that should have been made in level 3\n")
    assert [(c.level, c.name) for c in drifted(root)] == [(4, "taxi_duration/gate.py")]
    assert [(c.level, c.name) for c in sync(root)] == [(4, "taxi_duration/gate.py")]
    assert drifted(root) == []
    assert victim.read_bytes() == (root / "level_3" / "taxi_duration" / "gate.py").read_bytes()


def test_every_project_pins_its_install_with_the_courses_lock(tmp_path):
    from teaching.carried import drifted_locks, lock_copies

    assert lock_copies() and drifted_locks() == []
    root = tmp_path / "levels"
    shutil.copytree(LEVELS_DIR, root, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(LEVELS_DIR.parent / "constraints.txt", tmp_path / "constraints.txt")
    (root / "level_1" / "constraints.txt").write_text("pandas==3.0.0\n")
    assert drifted_locks(root) == [root / "level_1" / "constraints.txt"]
    sync(root)
    assert drifted_locks(root) == []
