"""Level 2 · entry point of `mlops-levels run 2`: run the tracked, registered training pipeline."""

from __future__ import annotations

import time

from common.runs import RunReport, RunRequest


def main(request: RunRequest) -> RunReport:
    settings = request.settings
    request.on_step("connect to the workspace's Prefect server (first time: ~10 s to start it)")
    from common.services import ensure_prefect_api  # started now, so its ~10 s show as their own step

    started = time.perf_counter()
    ensure_prefect_api(settings)
    server_seconds = time.perf_counter() - started
    request.on_step("load → prepare → train → evaluate → log → register")
    from levels.level_2.pipeline import run_pipeline
    from levels.level_2.registry import latest_versions
    from levels.level_2.tracking import tracking_uri

    flow_started = time.perf_counter()
    result = run_pipeline(
        settings,
        request.train_data,
        request.val_data,
        request.model,
        params=request.params or None,
        features=request.features,
        sweep=bool(request.options.get("sweep")),
        on_step=request.on_step,
    )
    flow_seconds = time.perf_counter() - flow_started
    versions = [
        {"version": v.version, "aliases": ", ".join(v.aliases) or "—", "run": v.run_id[:8]}
        for v in latest_versions(settings, limit=5)
    ]
    return request.report(
        2,
        metrics={
            **result["metrics"],
            "candidates": result["candidates"],
            "rows_dropped_invalid": result["dropped"]["train"]["invalid"] + result["dropped"]["val"]["invalid"],
        },
        artifacts={
            "mlflow run": result["run_id"],
            "registered version": f"{settings.model_name} v{result['model_version']}",
            "tracking uri": tracking_uri(settings),
        },
        details={
            "prefect_server_seconds": round(server_seconds, 2),
            "flow_seconds": round(flow_seconds, 2),
            "best_params": result["params"] or "defaults",
            "registry (newest first)": versions,
        },
        manual_steps=[
            f"promote: python levels/level_2/promote.py --version {result['model_version']}",
            "deploy: restart `mlops-levels serve 2` to pick up the new champion",
        ],
        serving={"kind": "registry", "version": str(result["model_version"])},  # once a person promotes it
    )
