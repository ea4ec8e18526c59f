"""The product code every level shares, written once: TLC schema, reading and validating months, data
sources, the synthetic generator, features, the model, months. The toolkit's own plumbing is in teaching/infra."""

import os as _os

# A teaching toolkit never phones home. This is the one side effect at import, on purpose: every entry
# point (the CLI, `python -m taxi_duration.pipeline`, `mlflow run`, a test) imports `common` before it
# imports mlflow, prefect or evidently, so their telemetry is off before they can start it.
for _name, _value in {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "EVIDENTLY_DISABLE_TELEMETRY": "1",
    # With a tracking server, MLflow writes "View run at …" to stdout, which would corrupt `--json`.
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
}.items():
    _os.environ.setdefault(_name, _value)
