"""Unit tests of a carried module run against every level that carries it (level 4's gate is level 3's,
so it is tested as level 4's too, and `pytest -m level4` runs it)."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

from teaching.carried import levels_carrying


def each_carrier(origin: int, filename: str) -> pytest.MarkDecorator:
    """Parametrize a test over the origin level and every level carrying `filename`, each in its own suite."""
    params = [
        pytest.param(n, marks=getattr(pytest.mark, f"level{n}"), id=f"level_{n}")
        for n in levels_carrying(origin, filename)
    ]
    return pytest.mark.parametrize("level", params)


def module(level: int, name: str) -> ModuleType:
    return importlib.import_module(f"levels.level_{level}.{name}")
