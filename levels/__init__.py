"""The five builds of one product, level 0 (no MLOps) to level 4 (full automation)."""
