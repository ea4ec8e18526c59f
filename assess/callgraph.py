"""Who calls whom across the project's modules, and which code can run at all.

A node is a module's top-level code (`rel::<module>`), a function or method (`rel::qualname`) or a
class (`rel::Class`). Edges come from calls and from names passed around (`python_callable=train`),
resolved through imports to the project's own modules (by the longest matching path suffix, so
`levels.level_4.pipeline` finds `pipeline.py` when only that folder is assessed). Code is reachable
from module top-level code, framework-registered functions (any decorator but the passive ones),
test functions and entry points named in configuration ("schedule:serve", "app.main:app").
"""

from __future__ import annotations

import sys
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator

from assess.pyfacts import MODULE_SCOPE, Call, ModuleFacts
from assess.testfinder import is_test_side, test_functions

# Roots that name a library, never a project file: `mlflow.tracking` is not the project's tracking.py.
EXTERNAL_ROOTS = set(sys.stdlib_module_names) | set(
    "airflow apscheduler bentoml boto3 catboost click dagster evidently fastapi flask google httpx joblib kedro "
    "keras lightgbm lightning mlflow numpy optuna pandas prefect prometheus_client pydantic pytest "
    "pytorch_lightning ray requests scipy sklearn starlette tensorflow torch transformers typer uvicorn wandb "
    "xgboost yaml".split()
)
AMBIGUOUS = 5  # more same-named methods than this: a call by that name links to none of them
# Orchestrators' decorators declare a flow, task, DAG or asset; it runs only when something calls,
# serves, deploys or schedules it (a `@flow` nothing starts is code that never runs).
ORCHESTRATOR_ROOTS = {"prefect", "airflow", "dagster", "zenml", "kfp", "flytekit", "metaflow", "kedro"}
# Decorators that register nothing: a function they decorate still needs a caller to run.
PASSIVE_DECORATORS = set(
    "staticmethod classmethod property setter getter deleter cache lru_cache cached_property wraps dataclass "
    "abstractmethod overload override contextmanager asynccontextmanager total_ordering singledispatch".split()
)


def node_id(rel: str, qualname: str) -> str:
    return f"{rel}::{qualname}"


def split_node(node: str) -> tuple[str, str]:
    rel, _, qualname = node.partition("::")
    return rel, qualname


class CallGraph:
    def __init__(self, modules: dict[str, ModuleFacts], entry_points: Iterable[tuple[str, str]] = ()) -> None:
        self.modules = modules
        self._by_suffix: dict[str, list[str]] = defaultdict(list)
        self._top_level = {m.module.split(".")[0] for m in modules.values()}
        self._module_cache: dict[tuple[str, str], str | None] = {}
        self._methods: dict[str, list[str]] = defaultdict(list)
        self._module_methods: dict[tuple[str, str], list[str]] = defaultdict(list)
        for rel, module in modules.items():
            parts = module.module.split(".")
            for start in range(len(parts)):
                self._by_suffix[".".join(parts[start:])].append(rel)
            for function in module.functions.values():
                if function.cls is not None:
                    self._methods[function.name].append(node_id(rel, function.qualname))
                    self._module_methods[(rel, function.name)].append(node_id(rel, function.qualname))
        self.edges: dict[str, set[str]] = {}
        self.dead_edges: dict[str, set[str]] = {}  # calls in dead code: what that code would run
        for rel, module in modules.items():
            self._add_edges(rel, module)
        self.entry_nodes: list[str] = []
        runs, tests = self._roots(entry_points)
        # What runs (from scripts, services, entry points) and what only the tests reach are told
        # apart: monitoring called from a test alone is tested, not running.
        self.reachable = self._reach_from(runs)
        self.tested = self._reach_from(tests) - self.reachable

    # --- resolution ---
    def module_for(self, dotted: str, near: str = "") -> str | None:
        """The project module a dotted import names, preferring the one closest to `near`.

        The import may carry a prefix the assessed folder does not have (`levels.level_4.pipeline` when
        only `level_4/` is assessed), so leading parts are dropped until a module matches; names rooted
        in a well-known library (`mlflow.tracking`) never match a project file called `tracking.py`.
        """
        key = (dotted, near.rpartition("/")[0])
        if key not in self._module_cache:
            self._module_cache[key] = self._find_module(dotted, near)
        return self._module_cache[key]

    def _find_module(self, dotted: str, near: str) -> str | None:
        parts = dotted.split(".")
        if parts[0] in EXTERNAL_ROOTS and parts[0] not in self._top_level:
            return None
        for start in range(len(parts)):
            candidates = self._by_suffix.get(".".join(parts[start:]))
            if candidates:
                return max(candidates, key=lambda rel: (len(_common_prefix(rel, near)), -len(rel)))
        return None

    def _symbol(self, rel: str, path: str) -> str | None:
        module = self.modules[rel]
        if path in module.functions or path in module.classes:
            return node_id(rel, path)
        return None

    def resolve_name(self, rel: str, scope: str, dotted: str, imported: bool) -> list[str]:
        """Project nodes a (resolved) dotted name refers to from `scope` of module `rel`."""
        module = self.modules[rel]
        if imported:
            parts = dotted.replace("()", "").split(".")
            for cut in range(len(parts) - 1, 0, -1):
                target = self.module_for(".".join(parts[:cut]), rel)
                if target is not None:
                    found = self._symbol(target, ".".join(parts[cut:]))
                    if found:
                        return [found]
                    # `model.init().lambda_handler(...)`: a method of an object the module made
                    return self._methods_named(parts[-1], target) if len(parts) - cut > 1 else []
            return []
        if "." not in dotted:
            for qualname in (f"{scope}.{dotted}", dotted):
                if qualname in module.functions or qualname in module.classes:
                    return [node_id(rel, qualname)]
            return []
        head, _, attr = dotted.rpartition(".")
        if head in ("self", "cls") and scope != MODULE_SCOPE:
            owner = module.functions.get(scope)
            if owner is not None and owner.cls and f"{owner.cls}.{attr}" in module.functions:
                return [node_id(rel, f"{owner.cls}.{attr}")]
            return list(self._module_methods.get((rel, attr), ()))  # an inherited method
        return self._methods_named(attr, rel)

    def _methods_named(self, attr: str, rel: str) -> list[str]:
        """Methods a call on an unknown object may reach: those of the same module first; a name shared by
        more than a handful of classes (`fit`, `predict`, `run`) says nothing about which one is meant."""
        local = self._module_methods.get((rel, attr))
        if local:
            return list(local)
        candidates = self._methods.get(attr, [])
        return list(candidates) if len(candidates) <= AMBIGUOUS else []

    def resolve_call(self, rel: str, call: Call) -> list[str]:
        if call.root is not None:
            return self.resolve_name(rel, call.scope, call.name, imported=True)
        return self.resolve_name(rel, call.scope, call.name.removeprefix("?."), imported=False)

    # --- edges and reachability ---
    def _add_edges(self, rel: str, module: ModuleFacts) -> None:
        for call in module.calls:
            edges = self.dead_edges if call.dead else self.edges
            targets = edges.setdefault(node_id(rel, call.scope), set())
            targets.update(self.resolve_call(rel, call))
            if call.root in ORCHESTRATOR_ROOTS:
                targets.update(self._declared_in_modules(rel, call))
        for scope, names in module.loads.items():
            targets = self.edges.setdefault(node_id(rel, scope), set())
            for dotted in names:
                head = dotted.split(".")[0]
                imported = head in module.aliases
                name = f"{module.aliases[head]}{dotted[len(head) :]}" if imported else dotted
                if imported or "." not in dotted or head in ("self", "cls"):
                    targets.update(self.resolve_name(rel, scope, name, imported))
        # Running a module runs what it registers with a framework: a CLI's commands, an app's routes.
        registered = self.edges.setdefault(node_id(rel, MODULE_SCOPE), set())
        for function in module.functions.values():
            if not function.dead and any(_registers(d) for d in function.decorators):
                registered.add(node_id(rel, function.qualname))
        for cls in module.classes.values():
            external = any(self.resolve_name(rel, MODULE_SCOPE, b, "." in b) == [] for b in cls.bases)
            methods = self.edges.setdefault(node_id(rel, cls.qualname), set())
            for function in module.functions.values():
                if function.cls == cls.qualname and (external or function.name.startswith("__")):
                    methods.add(node_id(rel, function.qualname))

    def _declared_in_modules(self, rel: str, call: Call) -> list[str]:
        """`load_assets_from_modules([assets])`: an orchestrator handed a whole module runs what that
        module declares with the orchestrator's decorators."""
        found: list[str] = []
        aliases = self.modules[rel].aliases
        for ref in call.refs:
            target = self.module_for(aliases.get(ref, ref), rel) if ref in aliases else None
            if target is None:
                continue
            for function in self.modules[target].functions.values():
                if any(d.root == call.root for d in function.decorators):
                    found.append(node_id(target, function.qualname))
        return found

    def _roots(self, entry_points: Iterable[tuple[str, str]]) -> tuple[list[str], list[str]]:
        """(where running code starts, where the tests start)."""
        runs: list[str] = []
        tests: list[str] = []
        for rel, module in self.modules.items():
            roots = tests if is_test_side(rel) else runs
            roots.append(node_id(rel, MODULE_SCOPE))
            for function in module.functions.values():
                if not function.dead and any(_registers(d) for d in function.decorators):
                    roots.append(node_id(rel, function.qualname))
            tests.extend(node_id(rel, f.qualname) for f in test_functions(module))
        for dotted_module, attr in entry_points:
            target = self.module_for(dotted_module)
            if target is not None:
                found = self._symbol(target, attr)
                self.entry_nodes.extend([found] if found else [])
        return runs + self.entry_nodes, tests

    def _reach_from(self, starts: Iterable[str], depth: int | None = None, dead: bool = False) -> set[str]:
        seen = set(starts)
        queue = deque((node, 0) for node in seen)
        while queue:
            node, hops = queue.popleft()
            if depth is not None and hops >= depth:
                continue
            targets = self.edges.get(node, set()) | (self.dead_edges.get(node, set()) if dead else set())
            for target in targets:
                if target not in seen:
                    seen.add(target)
                    queue.append((target, hops + 1))
        return seen

    def closure(self, starts: Iterable[str], depth: int = 12, dead: bool = False) -> set[str]:
        """Every node the starts can run, following calls across modules (bounded, cycles safe).

        With `dead`, calls in dead code are followed too: what code that never runs would do if it ran.
        """
        return self._reach_from(starts, depth, dead)

    def live(self, rel: str, scope: str) -> bool:
        return node_id(rel, scope) in self.reachable

    def only_tested(self, rel: str, scope: str) -> bool:
        return node_id(rel, scope) in self.tested

    def calls_of(self, nodes: Iterable[str], dead: bool = False) -> Iterator[tuple[str, Call]]:
        """Calls made directly in the given nodes (in dead code too, with `dead`)."""
        wanted = defaultdict(set)
        for node in nodes:
            rel, qualname = split_node(node)
            wanted[rel].add(qualname)
        for rel, scopes in wanted.items():
            module = self.modules.get(rel)
            if module is None:
                continue
            for call in module.calls:
                if call.scope in scopes and (dead or not call.dead):
                    yield rel, call


def _registers(decorator: Call) -> bool:
    """A decorator that makes a framework call the function (a web route, a CLI command, a fixture)."""
    return decorator.attr not in PASSIVE_DECORATORS and decorator.root not in ORCHESTRATOR_ROOTS


def _common_prefix(a: str, b: str) -> str:
    size = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        size += 1
    return a[:size]
