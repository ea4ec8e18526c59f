"""NYC taxi trip duration: training pipeline, tracking, registry, and an ML platform that deploys through a
quality gate, A/B tests, logs every prediction and monitors it."""
