"""`python3 tasks.py test` runs the toolkit's suite in parts: together they are the whole suite, once."""

from __future__ import annotations

import importlib.util
import re
import tomllib

from tests.conftest import REPO


def _tasks():  # tasks.py is a script at the root, not a package
    spec = importlib.util.spec_from_file_location("tasks", REPO / "tasks.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_toolkits_parts_hold_every_test_folder_once():
    parts = [path for paths in _tasks().TOOLKIT_PARTS.values() for path in paths]
    assert len(parts) == len(set(parts)), parts
    testpaths = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["testpaths"]
    folders = {f"{root}/{p.name}" for root in testpaths if root == "tests" for p in (REPO / root).iterdir()}
    with_tests = {f for f in folders if any((REPO / f).glob("test_*.py"))}
    with_tests |= {root for root in testpaths if root != "tests"}
    assert set(parts) == with_tests
    assert not list((REPO / "tests").glob("test_*.py")), "a test file at tests/ itself is in no part"


def test_quick_runs_every_suite_without_the_slow_tests(monkeypatch, tmp_path):
    tasks = _tasks()
    ran = []
    monkeypatch.setattr(tasks, "check", lambda: ran.append("checks") or 0)

    def fake(name, folder, paths, extra, logs):
        ran.append((name, tuple(paths), tuple(extra)))
        return name, 0, {"passed": 1}, ""

    monkeypatch.setattr(tasks, "_run_suite", fake)
    assert tasks.test(["--quick"]) == 0
    assert "checks" not in ran
    names = {name for name, _, _ in ran}
    assert names == {name for name, _, _ in tasks.suites()} and {"level_1", "level_4"} <= names
    assert all(extra == ("-m", "not slow") for _, _, extra in ran)


def test_every_module_tasks_py_runs_with_dash_m_exists():
    """`tasks.py check` and `sync` run toolkit modules by name (`-m teaching.carried`): a module that moved
    would otherwise fail only when the task runs."""
    modules = sorted(set(re.findall(r'"-m", "([\w.]+)"', (REPO / "tasks.py").read_text(encoding="utf-8"))))
    assert {"teaching.carried", "teaching.level_pages"} <= set(modules), modules
    assert [m for m in modules if importlib.util.find_spec(m) is None] == []
