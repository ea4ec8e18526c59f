"""Level 3+ · continuous_delivery: the steps of the CD workflow (cd.yml), runnable on any machine.

    python -m taxi_duration.cd train --train-data 2021-01 --val-data 2021-02     # prints the new version
    python -m taxi_duration.cd evaluate --version 5 --platform http://127.0.0.1:8000
    python -m taxi_duration.cd gate --version 5 --platform http://127.0.0.1:8000   # exit 1: refused
    python -m taxi_duration.cd deploy --version 5 --platform http://127.0.0.1:8000

Each step is one job of cd.yml, so a failed gate is a red job and the deploy job never runs. The gate's
verdict comes from the platform itself (POST /evaluations): the workflow holds no rule of its own, and
/promote checks again, so skipping the gate job deploys nothing the gate refuses. The admin token comes
from the environment (a CI secret), never from an argument.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

# Standard library only (the training step imports the pipeline when it runs): the evaluate, gate and
# deploy jobs install nothing. So the platform's variable name is spelt here too (platform_api.py).
TOKEN_ENV = "PLATFORM_ADMIN_TOKEN"
PLATFORM_ENV = "PLATFORM_URL"


def _post(platform: str, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    token = os.environ.get(TOKEN_ENV, "")
    request = urllib.request.Request(
        f"{platform.rstrip('/')}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def train(args: argparse.Namespace) -> int:
    from common.errors import TaxiDurationError
    from taxi_duration.pipeline import training_pipeline

    try:
        result = training_pipeline(args.train_data, args.val_data, args.model)
    except TaxiDurationError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    version = result["model_version"]
    print(f"registered version {version} (val RMSE {result['metrics']['rmse_val']:.4f})")
    if os.environ.get("GITHUB_OUTPUT"):  # the next jobs read it as needs.train.outputs.version
        with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
            out.write(f"version={version}\n")
    return 0


def evaluate(args: argparse.Namespace) -> int:
    status, decision = _post(args.platform, "/evaluations", {"version": args.version})
    print(json.dumps(decision, indent=2))
    return 0 if status == 200 else 2


def gate(args: argparse.Namespace) -> int:
    status, decision = _post(args.platform, "/evaluations", {"version": args.version})
    if status != 200:
        print(f"error: the platform answered {status}: {decision}", file=sys.stderr)
        return 2
    print(("passed: " if decision["passed"] else "refused: ") + decision["reason"])
    return 0 if decision["passed"] else 1  # [continuous_delivery] the verdict is the job's status


def deploy(args: argparse.Namespace) -> int:
    status, answer = _post(args.platform, "/promote", {"version": args.version})
    if status != 200:
        print(f"not deployed ({status}): {json.dumps(answer.get('detail', answer))}", file=sys.stderr)
        return 1
    print(f"v{args.version} is champion and serves all traffic")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Level 3 CD steps: train, evaluate, gate, deploy.")
    steps = parser.add_subparsers(dest="step", required=True)
    trainer = steps.add_parser("train", help="run the training pipeline; print the registered version")
    trainer.add_argument("--train-data", default="2021-01")
    trainer.add_argument("--val-data", default="2021-02")
    trainer.add_argument("--model", default="linear_regression")
    for name in ("evaluate", "gate", "deploy"):
        step = steps.add_parser(name, help=f"{name} a registered version through the platform")
        step.add_argument("--version", required=True)
        step.add_argument("--platform", default=os.environ.get(PLATFORM_ENV, "http://127.0.0.1:8000"))
    args = parser.parse_args(argv)
    return {"train": train, "evaluate": evaluate, "gate": gate, "deploy": deploy}[args.step](args)


if __name__ == "__main__":
    sys.exit(main())
