"""Spellings and edges the corpus does not cover: aliases, notebooks with magics, Kubernetes CronJobs,
GitLab CI, code that shells out, following a schedule across modules, and what does not count."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from assess import assess


def _project(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root


def _status(root: Path, practice: str) -> str:
    return assess(root).practices[practice].status


def test_imports_are_resolved_through_their_aliases(tmp_path):
    _project(
        tmp_path,
        {
            "train.py": """
                import mlflow as mf
                from mlflow import register_model as keep

                def main():
                    mf.log_metric("rmse", 1.0)
                    keep("runs:/1/model", "taxi")

                if __name__ == "__main__":
                    main()
            """
        },
    )
    result = assess(tmp_path)
    assert result.practices["experiment_tracking"].status == "found"
    assert [e.token for e in result.practices["model_registry"].evidence] == ["keep"]


def test_logging_a_model_without_a_registered_name_registers_nothing(tmp_path):
    _project(
        tmp_path,
        {"train.py": "import mlflow\n\nmlflow.sklearn.log_model(model, 'model', registered_model_name=None)\n"},
    )
    assert _status(tmp_path, "model_registry") == "absent"
    assert _status(tmp_path, "experiment_tracking") == "found"


def test_notebook_cells_with_magics_are_read_and_cited_by_cell(tmp_path):
    cells = [
        {"cell_type": "markdown", "source": "# Tracking"},
        {"cell_type": "code", "source": ["%pip install mlflow\n", "!ls data\n", "import mlflow\n"]},
        {"cell_type": "code", "source": "%%bash\nmlflow ui"},
        {"cell_type": "code", "source": ["with mlflow.start_run():\n", "    mlflow.log_param('alpha', 1)\n"]},
    ]
    (tmp_path / "explore.ipynb").write_text(json.dumps({"cells": cells, "nbformat": 4}))
    result = assess(tmp_path)
    evidence = result.practices["experiment_tracking"].evidence
    assert (evidence[0].cell, evidence[0].line, evidence[0].token) == (4, 1, "start_run")
    assert result.read.notebook_cells == 2 and result.read.skipped["notebook cells that are not Python"] == 1


TRAINS_AND_REGISTERS = """
    import mlflow
    from sklearn.linear_model import Ridge

    def main():
        model = Ridge().fit([[0], [1]], [0, 1])
        mlflow.sklearn.log_model(model, "model", registered_model_name="taxi")

    if __name__ == "__main__":
        main()
"""


def test_a_kubernetes_cronjob_that_trains_and_registers_is_automated_retraining(tmp_path):
    cronjob = """
        apiVersion: batch/v1
        kind: CronJob
        metadata:
          name: retrain
        spec:
          schedule: "0 4 * * 0"
          jobTemplate:
            spec:
              template:
                spec:
                  containers:
                    - name: train
                      image: registry.example/taxi:latest
                      command: ["python", "jobs/train.py"]
    """
    _project(tmp_path, {"jobs/train.py": TRAINS_AND_REGISTERS, "k8s/retrain.yaml": cronjob})
    finding = assess(tmp_path).practices["automated_retraining"]
    assert finding.status == "found"
    assert (finding.evidence[0].file, finding.evidence[0].token) == ("k8s/retrain.yaml", "schedule")


def test_gitlab_ci_with_tests_is_ci_and_its_scheduled_job_retrains(tmp_path):
    gitlab = """
        stages: [test, train]
        test:
          stage: test
          script:
            - pip install -r requirements.txt
            - pytest -q
        retrain:
          stage: train
          rules:
            - if: '$CI_PIPELINE_SOURCE == "schedule"'
          script:
            - python train.py
    """
    _project(tmp_path, {".gitlab-ci.yml": gitlab, "train.py": TRAINS_AND_REGISTERS})
    result = assess(tmp_path)
    assert result.practices["ci"].status == "found"
    assert result.practices["automated_retraining"].status == "found"


def test_a_scheduler_that_shells_out_to_the_training_script_is_followed(tmp_path):
    scheduler = """
        import subprocess
        from apscheduler.schedulers.blocking import BlockingScheduler

        def retrain():
            subprocess.run(["python", "-u", "ml/train_worker.py"], check=False)

        sched = BlockingScheduler()
        sched.add_job(retrain, "cron", hour=0)
        sched.start()
    """
    _project(tmp_path, {"ml/scheduler.py": scheduler, "ml/train_worker.py": TRAINS_AND_REGISTERS})
    assert _status(tmp_path, "automated_retraining") == "found"


def test_a_schedule_is_followed_across_modules_and_a_monitoring_schedule_is_not_retraining(tmp_path):
    files = {
        "flows/deploy.py": """
            from flows.nightly import nightly, watch

            if __name__ == "__main__":
                nightly.serve(name="nightly", cron="0 2 * * *")
                watch.serve(name="watch", interval=3600)
        """,
        "flows/nightly.py": """
            from prefect import flow
            from evidently import Report
            from evidently.presets import DataDriftPreset
            from training.steps import fit_and_register

            @flow
            def nightly():
                fit_and_register()

            @flow
            def watch():
                Report([DataDriftPreset()]).run(current, reference)
        """,
        "training/steps.py": """
            import mlflow
            from sklearn.linear_model import Ridge

            def fit_and_register():
                model = Ridge().fit([[0], [1]], [0, 1])
                mlflow.sklearn.log_model(model, "model", registered_model_name="taxi")
        """,
    }
    _project(tmp_path, files)
    finding = assess(tmp_path).practices["automated_retraining"]
    assert finding.status == "found"
    assert [e.file for e in finding.evidence] == ["flows/deploy.py", "training/steps.py", "training/steps.py"]
    (tmp_path / "flows/deploy.py").write_text(
        "from flows.nightly import watch\n\nif __name__ == '__main__':\n    watch.serve(name='watch', interval=3600)\n"
    )
    finding = assess(tmp_path).practices["automated_retraining"]
    assert finding.status == "absent" and "none trains" in finding.note and "monitors" in finding.note


def test_a_gate_that_refuses_in_a_route_is_a_quality_gate_and_one_that_only_prints_is_not(tmp_path):
    route = """
        from fastapi import FastAPI, HTTPException

        app = FastAPI()

        @app.post("/deploy")
        def deploy(version: str, candidate_rmse: float, champion_rmse: float):
            if candidate_rmse > champion_rmse:
                raise HTTPException(409, "worse than the champion")
            return {"deployed": version}
    """
    _project(tmp_path, {"api.py": route})
    assert _status(tmp_path, "quality_gate") == "found"
    (tmp_path / "api.py").write_text(
        "def report(rmse, best_rmse):\n    if rmse < best_rmse:\n        print('better')\n"
    )
    assert _status(tmp_path, "quality_gate") == "absent"


def test_error_handling_around_registration_is_not_a_quality_gate(tmp_path):
    # The toolkit's own level 2 registered this way and was credited with a gate it does not have.
    register = """
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException

        def register(client: MlflowClient, name: str, source: str, run_id: str):
            try:
                client.create_registered_model(name)
            except MlflowException as exc:
                if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                    raise
            return client.create_model_version(name, source, run_id)

        if __name__ == "__main__":
            register(MlflowClient(), "taxi", "runs:/1/model", "1")
    """
    _project(tmp_path, {"registry.py": register})
    assert _status(tmp_path, "model_registry") == "found"
    assert _status(tmp_path, "quality_gate") == "absent"


def test_a_list_of_refused_candidates_that_stops_the_release_is_a_quality_gate(tmp_path):
    platform = """
        from fastapi import FastAPI, HTTPException
        from mlflow import MlflowClient

        app = FastAPI()

        @app.post("/promote")
        def promote(version: str, candidates: list[dict]):
            refused = [c for c in candidates if not c["passed"]]
            if refused:
                raise HTTPException(409, "the gate refused it")
            MlflowClient().set_registered_model_alias("taxi", "champion", version)
    """
    _project(tmp_path, {"platform.py": platform})
    assert _status(tmp_path, "quality_gate") == "found"
