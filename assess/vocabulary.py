"""The spellings of MLOps constructs in real projects, as predicates on resolved calls.

Each predicate looks at a call the way `pyfacts` resolved it (through imports), so `mf.log_metric`
after `import mlflow as mf` is tracking, and a `# mlflow.register_model(...)` comment is nothing.
Spellings were collected from public projects: the MLOps Zoomcamp course modules, MLflow autologging
and `registered_model_name`, Ray Tune's `MLflowLoggerCallback`, Prefect `flow.serve(cron=...)` and
`.deploy(...)`, Airflow `DAG(schedule=...)`, Dagster `ScheduleDefinition`, Evidently reports,
`prometheus_client` and `prometheus_fastapi_instrumentator`, FastAPI, Flask and BentoML services.
"""

from __future__ import annotations

import re

from assess.pyfacts import Call

FIT_METHODS = {"fit", "partial_fit", "fit_generator", "train_on_batch"}
# Called on something outside the project, these names train (xgb.train, trainer.train(), ml.train).
TRAIN_NAMES = {"train", "retrain", "train_model", "train_models", "fit_model", "train_and_log", "train_and_register"}
TRAIN_FUNCTIONS = {"mlflow.run", "mlflow.projects.run", "ray.tune.run", "lightgbm.cv", "xgboost.cv"}

TRACKING_LOGS = set(
    "start_run log_param log_params log_metric log_metrics log_artifact log_artifacts log_model autolog "
    "log_figure log_dict log_input log_table log_text evaluate".split()
)
TRACKING_SETUP = {"set_experiment", "set_tracking_uri", "create_experiment", "set_tag", "set_tags"}
TRACKING_CALLBACKS = set(
    "MLflowLoggerCallback MLFlowLoggerCallback MlflowCallback MLflowCallback MLFlowLogger MLflowLogger "
    "WandbLogger WandbCallback WandbLoggerCallback NeptuneLogger CometLogger setup_mlflow mlflow_mixin".split()
)
OTHER_TRACKERS = {
    "wandb": {"init", "log"},
    "neptune": {"init_run", "init", "init_model_version"},
    "comet_ml": {"Experiment", "start"},
    "dvclive": {"Live"},
    "aim": {"Run"},
    "clearml": {"init"},
}
REGISTRY_WRITES = {"register_model", "create_model_version", "create_registered_model", "link_model", "link_artifact"}
REGISTRY_PROMOTIONS = {"set_registered_model_alias", "transition_model_version_stage"}
REGISTRY_READS = {"get_model_version_by_alias", "get_latest_versions", "search_model_versions", "get_registered_model"}
PREDICT_METHODS = {"predict", "predict_proba", "predict_log_proba", "decision_function"}
LOADERS = {"load_model", "load", "load_learner", "InferenceSession", "get"}
LOADER_ROOTS = set("mlflow joblib pickle cloudpickle dill torch tensorflow keras bentoml onnxruntime".split())
DEPLOY_PATH = re.compile(r"/(deploy|deployments?|promote|rollout|release|reload|switch)\b", re.IGNORECASE)
SDK_DEPLOYS = {
    ("sagemaker", "deploy"),
    ("google", "deploy"),
    ("mlflow", "create_deployment"),
    ("mlflow", "update_deployment"),
    ("azure", "begin_create_or_update"),
    ("kubernetes", "patch_namespaced_deployment"),
    ("kubernetes", "create_namespaced_deployment"),
    ("boto3", "update_endpoint"),
    ("boto3", "create_endpoint"),
}
MONITOR_ROOTS = {"evidently", "whylogs", "nannyml", "alibi_detect", "deepchecks", "frouros"}
DRIFT_STATS = {"ks_2samp", "wasserstein_distance", "jensenshannon", "chisquare", "chi2_contingency"}
METRIC_TYPES = {"Counter", "Histogram", "Summary", "Gauge", "Info", "Enum"}
METRIC_EXPORTS = {"generate_latest", "start_http_server", "make_asgi_app", "make_wsgi_app", "push_to_gateway"}
INSTRUMENTATORS = {
    "prometheus_fastapi_instrumentator": {"instrument", "expose"},
    "starlette_exporter": {"PrometheusMiddleware", "handle_metrics"},
    "prometheus_flask_exporter": {"PrometheusMetrics"},
    "opentelemetry": {"get_meter", "create_counter", "create_histogram"},
    "statsd": {"increment", "timing", "gauge", "incr", "timer"},
    "datadog": {"increment", "timing", "gauge", "histogram", "distribution"},
}
WEB_APPS = {
    "fastapi.FastAPI": "FastAPI app",
    "fastapi.APIRouter": "FastAPI router",
    "flask.Flask": "Flask app",
    "flask.Blueprint": "Flask blueprint",
    "starlette.applications.Starlette": "Starlette app",
    "litestar.Litestar": "Litestar app",
    "sanic.Sanic": "Sanic app",
    "quart.Quart": "Quart app",
    "bentoml.Service": "BentoML service",
    "aiohttp.web.Application": "aiohttp app",
}
ROUTE_METHODS = {"get", "post", "put", "patch", "delete", "route", "api_route", "api", "websocket"}
RANDOM_ROOTS = {"random", "hashlib", "mmh3", "xxhash", "zlib", "secrets"}
ORCHESTRATOR_DECORATORS = {
    "prefect.flow": "Prefect flow",
    "airflow.decorators.dag": "Airflow DAG",
    "airflow.sdk.dag": "Airflow DAG",
    "dagster.asset": "Dagster asset",
    "dagster.multi_asset": "Dagster asset",
    "dagster.op": "Dagster op",
    "dagster.job": "Dagster job",
    "dagster.graph": "Dagster graph",
    "zenml.pipeline": "ZenML pipeline",
    "zenml.step": "ZenML step",
    "kfp.dsl.pipeline": "Kubeflow pipeline",
    "kfp.dsl.component": "Kubeflow component",
    "flytekit.workflow": "Flyte workflow",
    "flytekit.task": "Flyte task",
    "metaflow.step": "Metaflow step",
}
AIRFLOW_DAGS = {"airflow.DAG", "airflow.models.DAG", "airflow.models.dag.DAG", "airflow.sdk.DAG"}
SCHEDULE_KWARGS = ("cron", "interval", "rrule", "schedule", "schedules")


def plain(name: str) -> str:
    """The dotted name without instance markers: "mlflow.MlflowClient().get_run" -> "mlflow.MlflowClient.get_run"."""
    return name.replace("()", "")


def is_training(call: Call, resolved: bool) -> bool:
    """A call that fits a model. Names like `train` count only when they are not the project's own
    functions (those are followed into instead)."""
    if call.api in FIT_METHODS:
        return True
    if plain(call.name) in TRAIN_FUNCTIONS:
        return True
    return not resolved and call.api in TRAIN_NAMES and bool(call.receiver or call.root)


def is_tracking(call: Call) -> bool:
    if call.api in TRACKING_CALLBACKS:
        return True
    if call.root == "mlflow":
        return call.api in TRACKING_LOGS or call.api.endswith("autolog")
    if call.root in OTHER_TRACKERS:
        return call.api in OTHER_TRACKERS[call.root]
    return call.kw("report_to") in ("mlflow", "wandb", "all", "comet_ml", "neptune")


def is_tracking_setup(call: Call) -> bool:
    return call.root == "mlflow" and call.api in TRACKING_SETUP


def registers(call: Call) -> bool:
    if call.api in REGISTRY_WRITES and call.root in ("mlflow", "wandb", None):
        return True
    return call.api in ("log_model", "autolog") and call.kw("registered_model_name") not in (None, "")


def promotes(call: Call) -> bool:
    return call.api in REGISTRY_PROMOTIONS and call.root in ("mlflow", None)


def reads_registry(call: Call) -> bool:
    if call.api in REGISTRY_READS and call.root in ("mlflow", None):
        return True
    return any(s.startswith("models:/") for s in call.strings())


def stores_model_locally(call: Call) -> bool:
    """BentoML's model store versions models on one machine: a registry in part."""
    return call.root == "bentoml" and call.api == "save_model"


def predicts(call: Call) -> bool:
    return call.api in PREDICT_METHODS


def loads_model(call: Call) -> bool:
    if reads_registry(call):
        return True
    return call.root in LOADER_ROOTS and call.api in LOADERS


def deploys(call: Call) -> bool:
    """Deploys or promotes a model: a cloud SDK's deploy, a registry promotion, a POST to /deploy."""
    if promotes(call):
        return True
    if call.root and (call.root, call.api) in SDK_DEPLOYS:
        return True
    if call.api in ("post", "put", "patch"):
        return any(DEPLOY_PATH.search(s) for s in call.strings())
    return False


def monitors(call: Call) -> bool:
    if call.root in MONITOR_ROOTS:
        return call.root != "evidently" or call.api in ("Report", "TestSuite") or "Preset" in call.api
    return call.api in DRIFT_STATS and "drift" in call.scope.lower()


def draws_at_random(call: Call) -> bool:
    if call.root in RANDOM_ROOTS or plain(call.name).startswith("numpy.random"):
        return True
    return call.root is None and call.name in ("hash", "?.hash")


def defines_metric(call: Call) -> bool:
    if call.root == "prometheus_client" and call.api in METRIC_TYPES:
        return True
    return call.root == "bentoml" and plain(call.name).startswith("bentoml.metrics.")


def exports_metrics(call: Call) -> bool:
    if call.root == "prometheus_client" and call.api in METRIC_EXPORTS:
        return True
    return call.root in INSTRUMENTATORS and call.api in INSTRUMENTATORS[call.root]


def web_app(call: Call) -> str | None:
    return WEB_APPS.get(plain(call.name)) if call.root else None


def orchestrator(decorator: Call) -> str | None:
    return ORCHESTRATOR_DECORATORS.get(plain(decorator.name)) if decorator.root else None


def schedule_kwargs(call: Call) -> str | None:
    """The schedule a Prefect serve/deploy call declares ("cron 0 3 * * *"), if any."""
    for key in SCHEDULE_KWARGS:
        value = call.kw(key)
        if value is not None and value != ():
            return f"{key} {value}" if isinstance(value, (str, int, float)) else key
    return None
