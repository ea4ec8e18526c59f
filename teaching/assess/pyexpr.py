"""Small readings of expressions for the AST walk: fixed truth values, names, dotted sources, values."""

from __future__ import annotations

import ast
from typing import Any

from teaching.assess.pyfacts import Ref


def constant_truth(test: ast.expr) -> bool | None:
    """True/False when a test's outcome is fixed in the source; `TYPE_CHECKING` never holds at run time."""
    if isinstance(test, ast.Constant):
        return bool(test.value)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = constant_truth(test.operand)
        return None if inner is None else not inner
    if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING":
        return False
    if isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING":
        return False
    return None


def names_in(node: ast.AST) -> frozenset[str]:
    found: set[str] = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            found.add(child.id)
        elif isinstance(child, ast.Attribute):
            found.add(child.attr)
    return frozenset(found)


def is_main_test(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
    )


def dotted_source(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        inner = dotted_source(expr.value)
        return f"{inner}.{expr.attr}" if inner else None
    return None


def value_of(expr: ast.expr) -> Any:
    if isinstance(expr, ast.Constant):
        return expr.value
    if isinstance(expr, ast.JoinedStr):  # f"models:/{name}/Production" keeps its literal parts
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in expr.values)
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return tuple(value_of(e) for e in expr.elts)
    source = dotted_source(expr)
    return Ref(source or "")


def refs_in(value: Any) -> list[str]:
    if isinstance(value, Ref) and value.name:
        return [value.name]
    if isinstance(value, tuple):
        return [r for v in value for r in refs_in(v)]
    return []
