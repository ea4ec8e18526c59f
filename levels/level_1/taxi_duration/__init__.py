"""NYC taxi trip duration: a training command, and a prediction service with operational metrics."""
