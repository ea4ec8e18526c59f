"""What `mlops-levels run N` and `serve N` do around a level, from outside it: one module per level.

Each drives the level's own commands (teaching/levelproc.py) in the order a person would, then reports
what happened for the CLI to render (teaching/infra/runs.py).
"""
