"""The instructor's two-hour plan is the plan bench/class_plan.py times: a command added to one and not
the other would put an unmeasured minute in front of a class."""

from __future__ import annotations

import importlib.util
import re

from tests.conftest import REPO


def _plan() -> list[tuple[str, str, list[str], int, str]]:
    spec = importlib.util.spec_from_file_location("class_plan", REPO / "bench" / "class_plan.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    import sys

    sys.path.insert(0, str(REPO / "bench"))  # class_plan imports its sibling common_bench
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(REPO / "bench"))
    return module.PLAN


def _two_hour_section() -> str:
    guide = (REPO / "docs" / "instructor-guide.md").read_text(encoding="utf-8")
    return guide.split("## A class in two hours", 1)[1].split("\n## ", 1)[0]


def test_every_timed_command_is_in_the_two_hour_plan_and_back():
    section = _two_hour_section()
    shown = set(re.findall(r"`(?:mlops-levels )?([a-z][^`]*)`", section))
    timed = {" ".join(args) for _, _, args, _, _ in _plan()}
    missing = timed - shown
    assert not missing, f"timed by bench/class_plan.py but not in the guide's plan: {missing}"
    commands = {"doctor", "run", "test", "diff", "exercise", "explain", "walkthrough"}
    untimed = {c for c in shown if c.split()[0] in commands and c not in timed}
    assert not untimed, f"in the guide's plan but not timed by bench/class_plan.py: {untimed}"


def test_the_gate_demo_is_planned_as_a_refusal_on_rmse():
    [demo] = [step for step in _plan() if step[1].startswith("gate demo")]
    assert {"409 refused", "worse than"} <= set(demo[4]) and "worse than" in _two_hour_section()
