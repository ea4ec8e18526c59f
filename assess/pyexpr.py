"""Small readings of expressions for the AST walk: fixed truth values, names, dotted sources, values."""

from __future__ import annotations

import ast
from typing import Any

from assess.pyfacts import Ref


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
    """Identifiers and attribute names in an expression (a walk restricted to expressions: faster than
    ast.walk, which matters on large trees where every `if` and comparison is read)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        child = stack.pop()
        if isinstance(child, ast.Name):
            found.add(child.id)
        elif isinstance(child, ast.Attribute):
            found.add(child.attr)
            stack.append(child.value)
        elif isinstance(child, ast.Call):
            stack.append(child.func)
            stack.extend(child.args)
            stack.extend(k.value for k in child.keywords)
        elif isinstance(child, ast.Compare):
            stack.append(child.left)
            stack.extend(child.comparators)
        elif isinstance(child, ast.BoolOp):
            stack.extend(child.values)
        elif isinstance(child, ast.BinOp):
            stack.extend((child.left, child.right))
        elif isinstance(child, (ast.UnaryOp, ast.Await, ast.Starred)):
            stack.append(child.operand if isinstance(child, ast.UnaryOp) else child.value)
        elif isinstance(child, ast.Subscript):
            stack.extend((child.value, child.slice))
        elif isinstance(child, (ast.Tuple, ast.List, ast.Set)):
            stack.extend(child.elts)
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
        return "".join(
            v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{}" for v in expr.values
        )
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
