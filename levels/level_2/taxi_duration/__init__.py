"""NYC taxi trip duration: the training pipeline, its tracking and registry, and the prediction service."""
