"""Level 2 · entry point of `mlops-levels run 2`: run the tracked, registered training pipeline."""

from __future__ import annotations

import contextlib
import io
import os
import time

from common.runs import RunReport, RunRequest


def main(request: RunRequest) -> RunReport:
    settings = request.settings
    request.on_step("connect to the workspace's Prefect server (first time: ~10 s to start it)")
    from common.services import ensure_prefect_api

    started = time.perf_counter()
    ensure_prefect_api(settings)
    server_seconds = time.perf_counter() - started
    request.on_step("load → prepare → train → evaluate → log → register")
    from levels.level_2.pipeline import run_pipeline
    from levels.level_2.registry import latest_versions
    from levels.level_2.tracking import tracking_uri

    if not settings.verbose:  # keep stdout for the CLI's own output (and --json)
        os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    flow_started = time.perf_counter()
    # MLflow prints registry chatter to stderr; the CLI shows its own summary (--verbose shows both).
    with contextlib.redirect_stderr(io.StringIO()) if not settings.verbose else contextlib.nullcontext():
        result = run_pipeline(
            settings,
            request.train_data,
            request.val_data,
            request.model,
            params=request.params or None,
            sweep=bool(request.options.get("sweep")),
            on_step=request.on_step,
        )
    flow_seconds = time.perf_counter() - flow_started
    versions = [
        {"version": v.version, "aliases": ", ".join(v.aliases) or "—", "run": v.run_id[:8]}
        for v in latest_versions(settings.model_name, limit=5)
    ]
    return RunReport(
        level=2,
        train=request.train_data,
        val=request.val_data,
        model=request.model,
        metrics={**result["metrics"], "candidates": result["candidates"]},
        artifacts={
            "mlflow run": result["run_id"],
            "registered version": f"{settings.model_name} v{result['model_version']}",
            "tracking uri": tracking_uri(settings),
        },
        details={
            "prefect_server_seconds": round(server_seconds, 2),
            "flow_seconds": round(flow_seconds, 2),
            "best_params": str(result["params"]),
            "registry (newest first)": versions,
        },
        manual_steps=[
            f"promote: python levels/level_2/promote.py --version {result['model_version']}",
            "deploy: restart `mlops-levels serve 2` to pick up the new champion",
        ],
    )
