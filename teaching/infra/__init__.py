"""The toolkit's own infrastructure: settings and the workspace, the Prefect and MLflow servers it starts,
processes and their guardian, stores, secrets, the class server. Nothing of it is a level's business:
a level is configured by the tools' own environment (teaching/levelproc.py)."""
