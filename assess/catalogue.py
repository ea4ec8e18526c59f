"""The practices of the maturity model, in ladder order: the vocabulary assess scores against.

It lives here, with the scorer, and the toolkit's level catalogue reads it from here: one list, and
assess imports nothing of the toolkit.
"""

from __future__ import annotations

PRACTICES: dict[str, str] = {
    "versioned_code": "Versioned, modular code",
    "unit_tests": "Unit and integration tests",
    "ci": "Continuous integration",
    "packaged_service": "Packaged prediction service",
    "ops_metrics": "Operational metrics",
    "experiment_tracking": "Experiment tracking",
    "model_registry": "Model registry",
    "orchestrated_pipeline": "Orchestrated training pipeline",
    "automated_deployment": "Deployment by one API call",
    "quality_gate": "Quality gate enforced by the platform",
    "continuous_delivery": "Continuous delivery of models (train, gate, deploy)",
    "ab_testing": "A/B testing",
    "model_monitoring": "Model monitoring",
    "automated_retraining": "Automated retraining",
}
