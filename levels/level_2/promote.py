"""Level 2 · model_registry: the manual step. A person reads the runs and promotes a version.

    python levels/level_2/promote.py --version 3          # version 3 becomes `champion`
    python levels/level_2/promote.py --list                # versions, newest first, with their RMSE

Then restart the service (`mlops-levels serve 2`) so it loads the new champion. Level 3 replaces this
file with a quality gate and a deploy API.
"""

from __future__ import annotations

import argparse
import sys

import mlflow

from common.config import Settings
from common.errors import MlopsLevelsError
from levels.level_2.registry import CHAMPION, latest_versions, promote
from levels.level_2.tracking import tracking_uri


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", help="registered version to promote")
    parser.add_argument("--alias", default=CHAMPION)
    parser.add_argument("--list", action="store_true", help="show the versions")
    args = parser.parse_args(argv)
    settings = Settings()
    mlflow.set_tracking_uri(tracking_uri(settings))
    try:
        if args.list or not args.version:
            for version in latest_versions(settings.model_name):
                rmse = mlflow.get_run(version.run_id).data.metrics.get("rmse_val", float("nan"))
                print(f"v{version.version}  val RMSE {rmse:.4f}  aliases: {', '.join(version.aliases) or '-'}")
            return 0
        promote(settings.model_name, args.version, args.alias)
    except MlopsLevelsError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    print(f"{settings.model_name} v{args.version} is now @{args.alias}; restart the service to serve it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
