"""Detectors of the application-integration view: tests, CI, a packaged service, operational metrics,
model monitoring."""

from __future__ import annotations

import re

from assess.callgraph import node_id
from assess.context import Context, dedupe, verdict
from assess.model import Evidence, Finding
from assess.testfinder import is_test_file, test_functions
from assess.vocabulary import defines_metric, exports_metrics, loads_model, monitors, predicts

CI_FILES = {".gitlab-ci.yml", "azure-pipelines.yml", "bitbucket-pipelines.yml", ".travis.yml", "Jenkinsfile"}
CI_SYSTEMS = {"github", "gitlab", "circleci", "azure", "bitbucket", "travis", "jenkins"}
PREDICT_PATH = re.compile(r"(predict|score|infer|invocations|classify|generate)", re.IGNORECASE)
SERVING_KINDS = {"k8s:InferenceService", "k8s:SeldonDeployment", "k8s:Deployment", "k8s:StatefulSet"}


def unit_tests(ctx: Context) -> Finding:
    p = ctx.project
    found = [
        p.evidence(rel, f.line, "a test function pytest or unittest collects", f.name)
        for rel, module in p.modules.items()
        for f in test_functions(module)
    ]
    runners = [
        p.evidence(c.file, line, "a test run", a.token)
        for c in p.configs.commands
        for line, a in c.actions
        if a.kind == "tests"
    ]
    lookalikes = [
        f"{f.name} in {rel}"
        for rel, module in p.modules.items()
        for real in [{t.qualname for t in test_functions(module)}]
        for f in module.functions.values()
        if f.name.startswith("test") and f.qualname not in real
    ]
    absent = "no test functions"
    if lookalikes:
        absent = f"no real tests: {', '.join(lookalikes[:3])} named like tests, but pytest would not run them as tests"
    return verdict(
        found,
        runners,
        (
            f"{len(found)} test functions",
            "tests are run (Makefile, CI), but no test functions are in this folder",
            absent,
        ),
    )


def ci(ctx: Context) -> Finding:
    p = ctx.project
    found: list[Evidence] = []
    partial: list[Evidence] = []
    checks: set[str] = set()
    idle: list[str] = []
    for job in p.configs.jobs:
        if job.system not in CI_SYSTEMS:
            continue
        if job.idle:  # `run: echo "python train.py"`: a reminder, not a check
            idle.append(f"{job.file}:{job.line}")
            continue
        push = next((t for t in job.triggers if t.kind == "push"), None)
        steps = [
            (c, n, a) for c in job.commands for n, a in c.actions if a.kind in ("tests", "lint", "build", "deploy")
        ]
        checks.update(a.kind for _, _, a in steps)
        trigger = push or (job.triggers[0] if job.triggers else None)
        where = [p.evidence(job.file, trigger.line, "a CI trigger", trigger.token)] if trigger else []
        where += [p.evidence(c.file, n, f"a CI step ({a.kind})", a.token) for c, n, a in steps[:1]]
        (found if push and job.in_place else partial).extend(where)
    unread = [rel for rel, _ in p.inventory.counts.unreadable if _is_ci_file(rel)]
    runs = ", ".join(sorted(checks)) or "no tests, lint or build"
    notes = (
        f"runs on every push: {runs}" + ("" if "tests" in checks else " (no tests)"),
        "a CI workflow that never runs on push (out of place, or started by hand or on a schedule only)",
        "no CI configuration (.github/workflows, .gitlab-ci.yml, Jenkinsfile …)"
        + (f"; jobs that only echo: {', '.join(idle[:3])}" if idle else "")
        + (f"; CI files that could not be read: {', '.join(unread[:3])}" if unread else ""),
    )
    return verdict(found, partial, notes)


def _is_ci_file(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return "/workflows/" in f"/{rel}" or name in CI_FILES or rel.endswith(".circleci/config.yml")


def _service_handlers(ctx: Context) -> tuple[list[Evidence], list[Evidence]]:
    """Request handlers that answer with a model's prediction; (in code that runs, in notebooks or dead code)."""
    p = ctx.project
    live: list[Evidence] = []
    other: list[Evidence] = []
    # Prediction endpoints first: a deploy endpoint loads models too, but it is not what serves them.
    routes = sorted(ctx.routes, key=lambda r: not PREDICT_PATH.search(r[2].first_str() or ""))
    for rel, function, decorator in routes:
        nodes = p.graph.closure([node_id(rel, function.qualname)], depth=5)
        calls = [c for _, c in p.graph.calls_of(nodes)]
        path = decorator.first_str() or ""
        if (
            any(predicts(c) or loads_model(c) for c in calls)
            or PREDICT_PATH.search(path)
            or decorator.root == "bentoml"
        ):
            evidence = p.call_evidence(rel, decorator, f"an HTTP endpoint {path}".strip())
            usable = not p.is_notebook(rel) and p.graph.live(rel, function.qualname)
            (live if usable else other).append(evidence)
    for rel, module in p.modules.items():
        for function in module.functions.values():
            if function.name in ("lambda_handler", "handler") and function.params[:2] == ("event", "context"):
                nodes = p.graph.closure([node_id(rel, function.qualname)], depth=5)
                if any(predicts(c) for _, c in p.graph.calls_of(nodes)):
                    live.append(p.evidence(rel, function.line, "a serverless prediction handler", function.name))
    return live, other


def _packaging(ctx: Context) -> list[Evidence]:
    p = ctx.project
    found = []
    for manifest in p.configs.manifests:
        if manifest.kind in ("dockerfile", "procfile", "bentofile", "ray-serve") or manifest.kind in SERVING_KINDS:
            found.append(p.evidence(manifest.file, manifest.line, f"packaging ({manifest.kind})", manifest.token))
        elif manifest.kind == "compose" and isinstance(manifest.data, dict) and "build" in manifest.data:
            found.append(
                p.evidence(manifest.file, manifest.line, "a compose service built from this project", manifest.token)
            )
    return found


def packaged_service(ctx: Context) -> Finding:
    p = ctx.project
    live, other = _service_handlers(ctx)
    packaging = _packaging(ctx)
    mlflow_serving = [
        p.evidence(c.file, n, "MLflow's scoring server", a.token)
        for c in p.configs.commands
        for n, a in c.actions
        if a.target in ("mlflow models", "bentoml") and a.kind in ("serve", "build")
    ]
    inference = [e for e in packaging if "InferenceService" in e.construct or "Seldon" in e.construct]
    found = (live + packaging[:1]) if live and packaging else inference + (mlflow_serving if packaging else [])
    notes = (
        "a prediction service, packaged to run anywhere",
        "a prediction service without a container or manifest, or packaging with no prediction service"
        if live or packaging or mlflow_serving
        else "a prediction endpoint only in a notebook or in code that never runs",
        "no HTTP or serverless endpoint that answers with a model's prediction",
    )
    return verdict(found, live + packaging + mlflow_serving + other, notes)


def ops_metrics(ctx: Context) -> Finding:
    p = ctx.project
    defined: list[Evidence] = []
    exported: list[Evidence] = []
    other: list[Evidence] = []
    for rel, call in p.calls():
        usable = p.is_live(rel, call) and not p.is_notebook(rel)
        if defines_metric(call):
            (defined if usable else other).append(p.call_evidence(rel, call, "a service metric"))
        elif exports_metrics(call):
            (exported if usable else other).append(p.call_evidence(rel, call, "metrics exposed for scraping"))
    servers = [
        p.evidence(m.file, m.line, "a Prometheus server", m.token)
        for m in p.configs.manifests
        if m.kind == "compose" and "prometheus" in str(m.data.get("image", "") if isinstance(m.data, dict) else "")
    ]
    bento = [
        e for rel, f, d in ctx.routes if d.root == "bentoml" for e in [p.call_evidence(rel, d, "BentoML's /metrics")]
    ]
    instrumented = [
        e for e in exported if e.token in ("instrument", "expose", "PrometheusMiddleware", "PrometheusMetrics")
    ]
    found = instrumented or (defined + exported if defined and exported else [])
    notes = (
        "request metrics are defined and exposed",
        "metrics half wired: defined but not exposed (or the reverse), a Prometheus server with nothing to scrape,"
        " or BentoML's built-in /metrics",
        "no request count, latency or error metrics",
    )
    return verdict(found, defined + exported + other + servers + bento, notes)


def model_monitoring(ctx: Context) -> Finding:
    p = ctx.project
    live: list[Evidence] = []
    other: list[Evidence] = []
    for rel, call in p.calls():
        if monitors(call):
            usable = p.is_live(rel, call) and not p.is_notebook(rel) and not is_test_file(rel)
            (live if usable else other).append(p.call_evidence(rel, call, "a drift or model-quality report"))
    notes = (
        "drift or quality reports computed by code that runs",
        "reports only in a notebook, only in tests, or in code that never runs: nothing monitors the model",
        "no drift or model-quality monitoring (Evidently, whylogs, NannyML …)",
    )
    return verdict(dedupe(live), other, notes)
