"""The AST walk behind `pyfacts`: one pass per module, recording calls, definitions and branches."""

from __future__ import annotations

import ast
from typing import Any

from teaching.assess.pyfacts import MODULE_SCOPE, Branch, Call, ClassInfo, Function, ModuleFacts, Ref

TERMINAL = (ast.Return, ast.Raise, ast.Continue, ast.Break)


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


def _is_main_test(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
    )


class Visitor(ast.NodeVisitor):
    def __init__(self, facts: ModuleFacts) -> None:
        self.f = facts
        self.scope = MODULE_SCOPE
        self.cls: str | None = None
        self.dead = False
        self.package = facts.module if facts.rel.endswith("__init__.py") else facts.module.rpartition(".")[0]

    def run(self, tree: ast.Module) -> None:
        self._block(tree.body)

    # --- blocks and dead code ---
    def _block(self, statements: list[ast.stmt]) -> None:
        saved = self.dead
        for statement in statements:
            self.visit(statement)
            if isinstance(statement, TERMINAL):
                self.dead = True
        self.dead = saved

    def generic_visit(self, node: ast.AST) -> None:
        for _, value in ast.iter_fields(node):
            if isinstance(value, list):
                if value and isinstance(value[0], ast.stmt):
                    self._block(value)
                else:
                    for item in value:
                        if isinstance(item, ast.AST):
                            self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)

    def visit_If(self, node: ast.If) -> None:
        truth = constant_truth(node.test)
        self.visit(node.test)
        self._branch(node.test, node.body + node.orelse, any(isinstance(s, TERMINAL) for s in node.body))
        if self.scope == MODULE_SCOPE and _is_main_test(node.test) and not self.dead:
            self.f.main_block = node.lineno
        saved = self.dead
        self.dead = saved or truth is False
        self._block(node.body)
        self.dead = saved or truth is True
        self._block(node.orelse)
        self.dead = saved

    def visit_While(self, node: ast.While) -> None:
        self.visit(node.test)
        saved = self.dead
        self.dead = saved or constant_truth(node.test) is False
        self._block(node.body)
        self.dead = saved
        self._block(node.orelse)

    def _branch(self, test: ast.expr, guarded: list[ast.stmt], exits: bool) -> None:
        if not guarded:
            return
        end = max(getattr(s, "end_lineno", s.lineno) or s.lineno for s in guarded)
        branch = Branch(self.scope, test.lineno, names_in(test), guarded[0].lineno, end, self.dead, exits)
        self.f.branches.append(branch)

    # --- imports and assignments ---
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.f.aliases[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                self.f.aliases.setdefault(top, top)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            package = self.package.split(".") if self.package else []
            package = package[: len(package) - (node.level - 1)] if node.level > 1 else package
            base = ".".join([*package, *([base] if base else [])])
        for alias in node.names:
            if alias.name != "*":
                self.f.aliases[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self._bind(target, node.value)
            self.visit(target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
            self._bind(node.target, node.value)

    def visit_withitem(self, node: ast.withitem) -> None:
        self.visit(node.context_expr)
        if node.optional_vars is not None:
            self._bind(node.optional_vars, node.context_expr)

    def _bind(self, target: ast.expr, value: ast.expr) -> None:
        key = _dotted_source(target)
        if key is None:
            return
        if isinstance(value, ast.Call):
            resolved = self._resolve(value.func)
            if resolved is not None:
                scope = "*" if key.startswith("self.") else self.scope
                self.f.variables[(scope, key)] = resolved
        elif self.scope == MODULE_SCOPE and isinstance(value, ast.Constant) and isinstance(target, ast.Name):
            self.f.consts[target.id] = value.value

    # --- definitions ---
    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        decorators = tuple(self._decorator(d) for d in node.decorator_list)
        parent = self.cls if self.cls is not None else (None if self.scope == MODULE_SCOPE else self.scope)
        qualname = f"{parent}.{node.name}" if parent else node.name
        params = tuple(a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs))
        trivial = all(
            isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
            for s in node.body
        )
        self.f.functions[qualname] = Function(
            qualname, node.name, node.lineno, self.cls, decorators, params, self.dead, trivial
        )
        for default in (*node.args.defaults, *node.args.kw_defaults):
            if default is not None:
                self.visit(default)
        saved = (self.scope, self.cls)
        self.scope, self.cls = qualname, None
        self._block(node.body)
        self.scope, self.cls = saved

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        for base in node.bases:
            self.visit(base)
        bases = tuple((self._resolve(b) or (ast.unparse(b), None))[0] for b in node.bases)
        qualname = f"{self.cls}.{node.name}" if self.cls else node.name
        self.f.classes[qualname] = ClassInfo(qualname, node.name, node.lineno, bases, self.dead)
        saved = self.cls
        self.cls = qualname
        self._block(node.body)
        self.cls = saved

    def _decorator(self, node: ast.expr) -> Call:
        target = node.func if isinstance(node, ast.Call) else node
        call = self._call(target, node if isinstance(node, ast.Call) else None)
        self.f.calls.append(call)
        if isinstance(node, ast.Call):
            for argument in (*node.args, *(k.value for k in node.keywords)):
                self.visit(argument)
        return call

    # --- calls, names, comparisons ---
    def visit_Call(self, node: ast.Call) -> None:
        self.f.calls.append(self._call(node.func, node))
        self.generic_visit(node)

    def _call(self, func: ast.expr, node: ast.Call | None) -> Call:
        resolved = self._resolve(func)
        attr = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        name, root = resolved if resolved else (f"?.{attr}", None)
        receiver = ast.unparse(func.value)[:80] if isinstance(func, ast.Attribute) else ""
        args = tuple(_value(a) for a in node.args) if node else ()
        kwargs = {k.arg: _value(k.value) for k in node.keywords if k.arg} if node else {}
        refs = tuple(name for value in (*args, *kwargs.values()) for name in _ref(value))
        line = (func.end_lineno or func.lineno) if isinstance(func, ast.Attribute) else func.lineno
        return Call(line, name, attr, root, receiver, args, kwargs, refs, self.scope, self.dead)

    def _resolve(self, expr: ast.expr) -> tuple[str, str | None] | None:
        """(dotted name, top package if imported) for a Name / Attribute / Call chain."""
        if isinstance(expr, ast.Name):
            if expr.id in self.f.aliases:
                target = self.f.aliases[expr.id]
                return target, target.split(".")[0]
            bound = self.f.variables.get((self.scope, expr.id)) or self.f.variables.get((MODULE_SCOPE, expr.id))
            if bound is not None:
                return f"{bound[0]}()", bound[1]
            return expr.id, None
        if isinstance(expr, ast.Attribute):
            source = _dotted_source(expr)
            if source and source.startswith("self.") and ("*", source) in self.f.variables:
                bound = self.f.variables[("*", source)]
                return f"{bound[0]}()", bound[1]
            inner = self._resolve(expr.value)
            return (f"{inner[0]}.{expr.attr}", inner[1]) if inner else None
        if isinstance(expr, ast.Call):
            inner = self._resolve(expr.func)
            return (f"{inner[0]}()", inner[1]) if inner else None
        return None

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load) and not self.dead:
            self.f.loads.setdefault(self.scope, set()).add(node.id)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.ctx, ast.Load) and not self.dead:
            source = _dotted_source(node)
            if source:
                self.f.loads.setdefault(self.scope, set()).add(source)
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        self.f.compares.append((self.scope, node.lineno, names_in(node)))
        self.generic_visit(node)

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self._branch_expr(node)
        self.generic_visit(node)

    def _branch_expr(self, node: ast.IfExp) -> None:
        end = node.end_lineno or node.lineno
        self.f.branches.append(Branch(self.scope, node.lineno, names_in(node.test), node.lineno, end, self.dead))

    def visit_Raise(self, node: ast.Raise) -> None:
        if not self.dead:
            self.f.raises.append((self.scope, node.lineno))
        self.generic_visit(node)


def _dotted_source(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        inner = _dotted_source(expr.value)
        return f"{inner}.{expr.attr}" if inner else None
    return None


def _value(expr: ast.expr) -> Any:
    if isinstance(expr, ast.Constant):
        return expr.value
    if isinstance(expr, ast.JoinedStr):  # f"models:/{name}/Production" keeps its literal parts
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in expr.values)
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return tuple(_value(e) for e in expr.elts)
    source = _dotted_source(expr)
    return Ref(source or "")


def _ref(value: Any) -> list[str]:
    if isinstance(value, Ref) and value.name:
        return [value.name]
    if isinstance(value, tuple):
        return [r for v in value for r in _ref(v)]
    return []
