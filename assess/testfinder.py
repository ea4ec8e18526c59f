"""Which functions pytest or unittest would collect as tests, by their rules, not by their names alone."""

from __future__ import annotations

from collections.abc import Iterator

from assess.pyfacts import Function, ModuleFacts


def is_test_file(rel: str) -> bool:
    """pytest's default `python_files` patterns: `test_*.py` and `*_test.py` (a `test.py` is a script)."""
    name = rel.rsplit("/", 1)[-1]
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def is_test_side(rel: str) -> bool:
    """Code that exists for the tests: test files, conftest.py, helpers in a tests/ folder."""
    parts = rel.split("/")
    return is_test_file(rel) or parts[-1] == "conftest.py" or any(p in ("tests", "test") for p in parts[:-1])


def test_functions(module: ModuleFacts) -> Iterator[Function]:
    """Functions pytest or unittest would collect and run: a fixture named `test_data` is not one."""
    if module.notebook or not is_test_file(module.rel):
        return
    for function in module.functions.values():
        if function.dead or function.trivial or not function.name.startswith("test"):
            continue
        if any(d.api == "fixture" or d.name.endswith("fixture") for d in function.decorators):
            continue
        if function.cls is None:
            if "." not in function.qualname:
                yield function
            continue
        cls = module.classes.get(function.cls)
        if cls is None or cls.dead or "." in cls.qualname:
            continue
        unittest_case = any(b.split(".")[-1].endswith("TestCase") for b in cls.bases)
        pytest_class = cls.name.startswith("Test") and f"{cls.qualname}.__init__" not in module.functions
        if unittest_case or pytest_class:
            yield function
