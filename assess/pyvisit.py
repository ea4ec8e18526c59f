"""The AST walk behind `pyfacts`: one pass per module, recording calls, definitions and branches."""

from __future__ import annotations

import ast
from collections.abc import Callable

from assess.pyexpr import constant_truth, dotted_source, is_main_test, names_in, refs_in, value_of
from assess.pyfacts import MODULE_SCOPE, Branch, Call, ClassInfo, Function, ModuleFacts

TERMINAL = (ast.Return, ast.Raise, ast.Continue, ast.Break)
# Nodes with nothing below them that any handler needs: contexts, operators, constants.
LEAVES = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop, ast.Constant)
_HANDLERS: dict[type[ast.AST], Callable[[Visitor, ast.AST], None]] = {}


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

    def visit(self, node: ast.AST) -> None:
        """NodeVisitor.visit with the handler looked up once per node type (a 60,000-file tree has millions)."""
        handler = _HANDLERS.get(type(node))
        if handler is None:
            handler = getattr(type(self), f"visit_{type(node).__name__}", Visitor.generic_visit)
            _HANDLERS[type(node)] = handler
        handler(self, node)

    def generic_visit(self, node: ast.AST) -> None:
        for field in node._fields:
            value = getattr(node, field, None)
            if isinstance(value, list):
                if value and isinstance(value[0], ast.stmt):
                    self._block(value)
                else:
                    for item in value:
                        if isinstance(item, ast.AST) and not isinstance(item, LEAVES):
                            self.visit(item)
            elif isinstance(value, ast.AST) and not isinstance(value, LEAVES):
                self.visit(value)

    def visit_If(self, node: ast.If) -> None:
        truth = constant_truth(node.test)
        self.visit(node.test)
        self._branch(node.test, node.body + node.orelse, any(isinstance(s, TERMINAL) for s in node.body))
        if self.scope == MODULE_SCOPE and is_main_test(node.test) and not self.dead:
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
        key = dotted_source(target)
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
        receiver = (dotted_source(func.value) or "") if isinstance(func, ast.Attribute) else ""
        args = tuple(value_of(a) for a in node.args) if node else ()
        kwargs = {k.arg: value_of(k.value) for k in node.keywords if k.arg} if node else {}
        refs = tuple(name for value in (*args, *kwargs.values()) for name in refs_in(value))
        line = (func.end_lineno or func.lineno) if isinstance(func, ast.Attribute) else func.lineno
        api = name.replace("()", "").rsplit(".", 1)[-1]
        return Call(line, name, attr, root, receiver, args, kwargs, refs, self.scope, self.dead, api)

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
            source = dotted_source(expr)
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
        source = dotted_source(node)
        if source is None:  # `f().x`, `a[0].x`: what is below may hold calls
            self.generic_visit(node)
            return
        if isinstance(node.ctx, ast.Load) and not self.dead:  # `a.b.c` is one load, and `a` is used
            loads = self.f.loads.setdefault(self.scope, set())
            loads.add(source)
            loads.add(source.split(".", 1)[0])

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
