"""Issue 22 through assess's public entry and the CLI: code counts as running only when something runs
it, commands are followed through scripts and submitters (or said not followed), what could not be read
is listed, unrelated projects are not added up, views climb level by level, notebook cells are named as
Jupyter shows them."""

from __future__ import annotations

import json

from assess import assess
from assess.tests.test_detectors import TRAINS_AND_REGISTERS, _project

CI_ON_PUSH = """
    on: [push]
    jobs:
      build:
        runs-on: ubuntu-latest
        steps:
          - run: {command}
"""


def test_a_flow_nothing_starts_is_not_running_and_one_that_is_called_is(tmp_path):
    flow = """
        import mlflow
        from prefect import flow

        @flow
        def training():
            mlflow.log_metric("rmse", 1.0)
    """
    _project(tmp_path / "dead", {"flows.py": flow})
    _project(tmp_path / "called", {"flows.py": flow + "\n        if __name__ == '__main__':\n            training()\n"})
    dead, called = assess(tmp_path / "dead"), assess(tmp_path / "called")
    assert dead.practices["experiment_tracking"].status == "partial"
    assert dead.practices["experiment_tracking"].runs == "not running"
    assert called.practices["experiment_tracking"].status == "found"
    assert called.practices["experiment_tracking"].runs == "running"


def test_monitoring_only_tests_call_is_tested_not_running(tmp_path):
    _project(
        tmp_path,
        {
            "ride/monitor.py": """
                from evidently import Report
                from evidently.presets import DataDriftPreset

                def drift(reference, current):
                    return Report([DataDriftPreset()]).run(current, reference)
            """,
            "tests/test_monitor.py": """
                from ride.monitor import drift

                def test_drift():
                    assert drift([1], [1])
            """,
        },
    )
    result = assess(tmp_path)
    monitoring = result.practices["model_monitoring"]
    assert (monitoring.status, monitoring.runs) == ("partial", "tested")
    assert {e.to_dict()["reach"] for e in monitoring.evidence} == {"tested"}


def test_functions_in_a_file_pytest_never_collects_are_not_tests(tmp_path):
    _project(
        tmp_path, {"test.py": "def test_service():\n    assert True\n", "checks_test.py": "def test_a():\n    pass\n"}
    )
    _project(tmp_path, {"service_test.py": "def test_b():\n    assert 1\n"})
    tests = assess(tmp_path).practices["unit_tests"]
    assert [e.file for e in tests.evidence] == ["service_test.py"]  # checks_test.py's test only passes


def test_a_suspended_or_echo_only_schedule_retrains_nothing(tmp_path):
    cronjob = """
        apiVersion: batch/v1
        kind: CronJob
        spec:
          schedule: "0 3 * * 1"
          suspend: {suspend}
          jobTemplate:
            spec:
              template:
                spec:
                  containers:
                    - name: retrain
                      command: {command}
    """
    runs = '["python", "train.py"]'
    for name, suspend, command in (("off", "true", runs), ("echo", "false", '["echo", "python", "train.py"]')):
        _project(
            tmp_path / name,
            {"train.py": TRAINS_AND_REGISTERS, "cron.yaml": cronjob.format(suspend=suspend, command=command)},
        )
        retraining = assess(tmp_path / name).practices["automated_retraining"]
        assert retraining.status == "absent", name
        assert "schedules that start nothing: cron.yaml" in retraining.note or name == "echo"
    _project(
        tmp_path / "on", {"train.py": TRAINS_AND_REGISTERS, "cron.yaml": cronjob.format(suspend="false", command=runs)}
    )
    assert assess(tmp_path / "on").practices["automated_retraining"].status == "found"


def test_a_workflow_dispatch_job_that_trains_is_half_a_pipeline(tmp_path):
    workflow = CI_ON_PUSH.replace("on: [push]", "on: [workflow_dispatch]").format(command="python train.py")
    _project(tmp_path, {"train.py": TRAINS_AND_REGISTERS, ".github/workflows/train.yml": workflow})
    assert assess(tmp_path).practices["orchestrated_pipeline"].status == "partial"


def test_ci_is_followed_through_make_a_script_and_a_job_submitter_to_the_training_code(tmp_path):
    _project(
        tmp_path,
        {
            ".github/workflows/train.yml": CI_ON_PUSH.format(command="make train"),
            "Makefile": "train:\n\tbash scripts/submit.sh\n",
            "scripts/submit.sh": "anyscale job submit jobs/train.yaml --wait\n",
            "jobs/train.yaml": "name: train\nentrypoint: python -m pkg.train --month 2024-01\n",
            "pkg/__init__.py": "",
            "pkg/train.py": TRAINS_AND_REGISTERS,
        },
    )
    pipeline = assess(tmp_path).practices["orchestrated_pipeline"]
    assert pipeline.status == "found"
    assert ("pkg/train.py", "fit") in {(e.file, e.token) for e in pipeline.evidence}


def test_console_scripts_kubectl_jobs_mlflow_entries_and_prefect_deployment_runs_are_followed(tmp_path):
    commands = {
        "console": ("taxi-train --month 1", {"pyproject.toml": '[project.scripts]\ntaxi-train = "pkg.train:main"\n'}),
        "kubectl": ("kubectl apply -f k8s/job.yaml", {"k8s/job.yaml": JOB}),
        "mlflow": (
            "mlflow run . -e train",
            {"MLproject": "entry_points:\n  train:\n    command: python pkg/train.py\n"},
        ),
        "prefect": ("prefect deployment run 'monthly-training/prod'", {"pkg/flows.py": FLOW}),
    }
    for name, (command, extra) in commands.items():
        files = {".github/workflows/t.yml": CI_ON_PUSH.format(command=command), "pkg/__init__.py": "", **extra}
        files.setdefault("pkg/train.py", TRAINS_AND_REGISTERS)
        result = assess(_project(tmp_path / name, files))
        assert result.practices["orchestrated_pipeline"].status == "found", (name, result.not_followed)
        assert result.practices["automated_deployment"].status == "absent", name  # a Job applied deploys nothing


JOB = """
apiVersion: batch/v1
kind: Job
spec:
  template:
    spec:
      containers:
        - name: train
          command: ["python", "-m", "pkg.train"]
"""
FLOW = """
from prefect import flow
from sklearn.linear_model import Ridge

@flow(name="monthly-training")
def monthly():
    Ridge().fit([[0], [1]], [0, 1])
"""


def test_a_command_that_cannot_be_resolved_is_said_not_followed_never_guessed(invoke, tmp_path):
    steps = "\n".join(
        f"          - run: {c}" for c in ("python src/missing.py", "make nowhere", "mlflow run https://github.com/x/y")
    )
    _project(
        tmp_path,
        {
            ".github/workflows/ci.yml": CI_ON_PUSH.format(command="pytest") + steps + "\n",
            "Makefile": "test:\n\tpytest\n",
        },
    )
    data = json.loads(invoke("assess", tmp_path, "--json").output)
    missed = {(n["file"], n["line"]): n["why"] for n in data["not_followed"]}
    assert set(missed) == {(".github/workflows/ci.yml", line) for line in (7, 8, 9)}
    assert "no Makefile target `nowhere`" in missed[(".github/workflows/ci.yml", 8)]
    assert data["practices"]["orchestrated_pipeline"]["status"] == "absent"  # mlflow run is not assumed to train
    assert "Not followed" in invoke("assess", tmp_path).output


def test_a_gate_in_the_workflow_bash_is_a_quality_gate(tmp_path):
    workflow = CI_ON_PUSH.format(command="python train.py") + (
        "          - run: |\n"
        '              if (( $(echo "$RMSE > 6.5" | bc -l) )); then exit 1; fi\n'
        "          - run: kubectl set image deployment/api api=img:2\n"
    )
    _project(tmp_path, {"train.py": TRAINS_AND_REGISTERS, ".github/workflows/release.yml": workflow})
    result = assess(tmp_path)
    gate = result.practices["quality_gate"]
    assert gate.status == "found" and gate.evidence[0].token == "RMSE"
    assert result.practices["continuous_delivery"].status == "found"


def test_what_could_not_be_read_is_listed_one_line_each(invoke, tmp_path):
    _project(
        tmp_path,
        {
            "train.py": "import argparse\n\ndef main():\n    argparse.ArgumentParser()\n",
            ".github/workflows/ci.yml": "on: [push]\njobs:\n  t:\n    steps:\n    - run: pytest\n   - run: ruff\n",
            "pyproject.toml": "[project\nname = 'x'\n",
            "broken.py": "def oops(:\n",
            "bad.ipynb": "{ not json",
        },
    )
    (tmp_path / "big.py").write_text("x = 1\n" * 200_000)
    data = json.loads(invoke("assess", tmp_path, "--json").output)
    not_read = {item["file"]: item["why"] for item in data["read"]["not_read"]}
    assert set(not_read) == {".github/workflows/ci.yml", "pyproject.toml", "broken.py", "bad.ipynb", "big.py"}
    assert not_read[".github/workflows/ci.yml"].startswith("invalid YAML: line 6")
    assert not_read["pyproject.toml"].startswith("invalid TOML")
    assert "CI files that could not be read: .github/workflows/ci.yml" in data["practices"]["ci"]["note"]
    card = invoke("assess", tmp_path).output
    assert all(f"✗ {name}" in card for name in not_read)


def test_unrelated_projects_are_assessed_one_by_one_and_one_project_is_not_split(tmp_path):
    pipeline = TRAINS_AND_REGISTERS.replace(
        "    def main():", "    from prefect import flow\n\n    @flow\n    def main():"
    )
    service = """
        from flask import Flask
        app = Flask(__name__)

        @app.route("/predict", methods=["POST"])
        def predict():
            return model.predict([[1]])
    """
    modules = {"a/requirements.txt": "mlflow\n", "a/pipeline.py": pipeline, "b/Pipfile": "", "b/app.py": service}
    split = assess(_project(tmp_path / "course", {**modules, "b/docker-compose.yml": "services: [\n"}))
    assert [(p.folder, p.level) for p in split.projects] == [("a", 2), ("b", 0)]
    assert [rel for rel, _ in split.read.unreadable] == ["b/docker-compose.yml"]
    assert split.read.python_files == 2 and split.read.skipped["invalid YAML"] == 1
    assert split.level == 2 and "not added up" in split.reasoning
    assert split.practices["packaged_service"].status == "absent"  # b's service is not a's
    assert all(e.file.startswith("a/") for p in split.practices.values() for e in p.evidence)
    joined = assess(_project(tmp_path / "system", {**modules, "pyproject.toml": '[project]\nname = "s"\n'}))
    assert joined.projects == []


def test_a_workflow_at_the_top_that_works_on_one_project_is_that_projects_ci(tmp_path):
    modules = {"a/requirements.txt": "", "a/train.py": TRAINS_AND_REGISTERS, "b/requirements.txt": ""}
    modules["b/serve.py"] = "print('b')\n"
    own = CI_ON_PUSH.format(command="kubectl set image deployment/b b=b:2") + "        working-directory: b\n"
    split = assess(_project(tmp_path / "own", {**modules, ".github/workflows/cd.yml": own}))
    assert [p.folder for p in split.projects] == ["a", "b"]
    alone = assess(tmp_path / "own" / "b").reasoning  # the workflow is outside b's folder
    within = next(p.reasoning for p in split.projects if p.folder == "b")  # within, it is b's own
    assert "deployment by one API call" not in alone and "deployment by one API call" in within
    whole = CI_ON_PUSH.format(command="pytest")  # names no project: CI for the whole folder
    assert assess(_project(tmp_path / "whole", {**modules, ".github/workflows/ci.yml": whole})).projects == []


def test_a_view_climbs_level_by_level_and_shows_a_gap(tmp_path):
    _project(
        tmp_path,
        {
            "monitor.py": """
                from evidently import Report
                from evidently.presets import DataDriftPreset

                if __name__ == "__main__":
                    Report([DataDriftPreset()]).run(None, None)
            """
        },
    )
    view = next(v for v in assess(tmp_path).views if v.id == "application_integration")
    assert view.level == 0
    assert view.gap.startswith("model monitoring (level 3) without level 1 under it")


def test_notebook_evidence_names_the_cell_as_jupyter_shows_it(tmp_path):
    cells = [
        {"cell_type": "markdown", "source": "# Tracking"},
        {"cell_type": "code", "execution_count": 7, "source": "import mlflow\nmlflow.log_param('a', 1)\n"},
        {"cell_type": "code", "execution_count": None, "source": "mlflow.log_metric('rmse', 1.0)\n"},
    ]
    (tmp_path / "explore.ipynb").write_text(json.dumps({"cells": cells, "nbformat": 4}))
    wheres = [e.where for e in assess(tmp_path).practices["experiment_tracking"].evidence]
    assert wheres == ["explore.ipynb In [7] line 2", "explore.ipynb cell 3 of 3 (code) line 1"]


def test_make_is_followed_into_the_makefile_it_names_and_to_its_default_target(tmp_path):
    for name, command in (("named", "make -f svc/Makefile train"), ("default", "make -C svc")):
        files = {
            ".github/workflows/t.yml": CI_ON_PUSH.format(command=command),
            "svc/Makefile": "train:\n\tpython svc/train.py\nother:\n\techo\n",
            "Makefile": "train:\n\techo not this one\n",
            "svc/train.py": TRAINS_AND_REGISTERS,
        }
        result = assess(_project(tmp_path / name, files))
        assert result.practices["orchestrated_pipeline"].status == "found", name
        assert result.not_followed == [], name


def test_a_weekly_job_whose_trainer_object_fits_a_model_trains(tmp_path):
    _project(
        tmp_path,
        {
            ".github/workflows/weekly.yml": CI_ON_PUSH.replace(
                "on: [push]", 'on:\n      schedule:\n        - cron: "0 4 * * 1"'
            ).format(command="python -m pkg.run"),
            "pkg/__init__.py": "",
            "pkg/trainer.py": """
                from xgboost import XGBRegressor

                class Trainer:
                    def __init__(self, params):
                        self.model = XGBRegressor(**params)

                    def train(self, df):
                        self.model.fit(df[["a"]], df["y"])

                    def predict(self, df):
                        return self.model.predict(df[["a"]])
            """,
            "pkg/run.py": """
                import mlflow
                from pkg import trainer as training

                def main():
                    model = training.Trainer({})
                    model.train(None)
                    print(model.predict(None))
                    mlflow.sklearn.log_model(model.model, name="m", registered_model_name="x")

                if __name__ == "__main__":
                    main()
            """,
        },
    )
    retraining = assess(tmp_path).practices["automated_retraining"]
    assert retraining.status == "found"
    assert [e.construct for e in retraining.evidence][1] == "trains a model"


def test_a_justfile_recipe_is_followed_like_a_make_target(tmp_path):
    files = {
        ".github/workflows/t.yml": CI_ON_PUSH.format(command="just train 2024-01"),
        "justfile": 'set shell := ["bash", "-c"]\n\ntrain month:\n    python train.py --month {{month}}\n',
        "train.py": TRAINS_AND_REGISTERS,
    }
    result = assess(_project(tmp_path, files))
    assert result.practices["orchestrated_pipeline"].status == "found"
    assert result.not_followed == []
