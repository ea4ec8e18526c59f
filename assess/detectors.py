"""One detector per practice of the vocabulary: its view, the level it first belongs to, and the
construct it needs before it says "found"."""

from __future__ import annotations

from dataclasses import dataclass

from assess import detect_creation as creation
from assess import detect_integration as integration
from assess import detect_release as release
from assess.context import Detect

VIEWS = {
    "people": "People",
    "model_creation": "Model creation",
    "model_release": "Model release",
    "application_integration": "Application integration",
}


@dataclass(frozen=True)
class Detector:
    practice: str
    view: str
    level: int
    needs: str
    detect: Detect


DETECTORS = (
    Detector(
        "versioned_code",
        "model_creation",
        1,
        "Python modules outside notebooks with an entry point (argparse, click, typer, a main block, a web route, a "
        "serverless handler or a pipeline decorator); training inside functions, not at the top of a script",
        creation.versioned_code,
    ),
    Detector(
        "unit_tests",
        "application_integration",
        1,
        "test functions pytest or unittest would collect (test_*.py files; fixtures and helpers named test_* do not "
        "count)",
        integration.unit_tests,
    ),
    Detector(
        "ci",
        "application_integration",
        1,
        "a CI workflow its service runs on every push (.github/workflows, .gitlab-ci.yml, Jenkinsfile, CircleCI, "
        "Azure, Bitbucket, Travis), with its steps",
        integration.ci,
    ),
    Detector(
        "packaged_service",
        "application_integration",
        1,
        "an HTTP or serverless endpoint that answers with a model's prediction, plus a Dockerfile, compose or "
        "Kubernetes manifest, Procfile or bento that packages it",
        integration.packaged_service,
    ),
    Detector(
        "ops_metrics",
        "application_integration",
        1,
        "service metrics defined and exposed (prometheus_client metrics with generate_latest or start_http_server, "
        "prometheus-fastapi-instrumentator, statsd, OpenTelemetry)",
        integration.ops_metrics,
    ),
    Detector(
        "orchestrated_pipeline",
        "model_creation",
        2,
        "a flow, DAG, asset, pipeline or DVC stage (or an automated CI/cron job) whose code, followed across modules, "
        "trains a model; a flow that only scores or monitors does not count",
        creation.orchestrated_pipeline,
    ),
    Detector(
        "experiment_tracking",
        "model_creation",
        2,
        "calls that log runs to a tracker (mlflow.start_run/log_*/autolog, MLflowLoggerCallback, Lightning and W&B "
        "loggers, wandb, neptune, comet, dvclive) in code that runs",
        creation.experiment_tracking,
    ),
    Detector(
        "model_registry",
        "model_release",
        2,
        "a model registered as a version (register_model, log_model(registered_model_name=...), "
        "create_model_version) or promoted by alias or stage",
        release.model_registry,
    ),
    Detector(
        "automated_deployment",
        "model_release",
        3,
        "an HTTP endpoint (/deploy, /promote, /reload …) that loads or promotes the requested model, or an automated "
        "job whose steps or code deploy one (kubectl, helm, cloud deploy, registry promotion)",
        release.automated_deployment,
    ),
    Detector(
        "quality_gate",
        "model_release",
        3,
        "an `if` on a metric comparison (or on a gate's outcome) that decides whether a candidate is deployed or "
        "registered, or refuses it",
        release.quality_gate,
    ),
    Detector(
        "continuous_delivery",
        "model_release",
        3,
        "an automated job or scheduled flow whose code trains, passes a quality gate and deploys, with no person in "
        "between",
        release.continuous_delivery,
    ),
    Detector(
        "ab_testing",
        "model_release",
        3,
        "a function used by a prediction endpoint that picks a model variant by a random or hashed draw, or a "
        "traffic split in a serving manifest (KServe canary, Seldon traffic)",
        release.ab_testing,
    ),
    Detector(
        "model_monitoring",
        "application_integration",
        3,
        "drift or model-quality reports computed by code that runs (Evidently Report or TestSuite, whylogs, NannyML, "
        "alibi-detect, deepchecks, drift statistics in a drift function)",
        integration.model_monitoring,
    ),
    Detector(
        "automated_retraining",
        "model_creation",
        4,
        "a schedule or trigger (cron in CI, Prefect serve/deploy, Airflow or Dagster schedule, CronJob, a drift "
        "condition) whose code trains and registers or deploys the model",
        creation.automated_retraining,
    ),
)
