"""Level 2 · model_registry: the manual step. A person reads the runs and promotes a version.

    python levels/level_2/promote.py --version 3          # version 3 becomes `champion`
    python levels/level_2/promote.py --list                # versions, newest first, with their RMSE

Then restart the service (`mlops-levels serve 2`) so it loads the new champion. Level 3 replaces this
file with a quality gate and a deploy API.
"""

from __future__ import annotations

import argparse
import sys

from common.config import Settings
from common.errors import MlopsLevelsError
from levels.level_2.registry import CHAMPION, latest_versions, promote, registry_client


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", help="registered version to promote")
    parser.add_argument("--alias", default=CHAMPION)
    parser.add_argument("--list", action="store_true", help="show the versions")
    args = parser.parse_args(argv)
    settings = Settings()
    try:
        if args.list or not args.version:
            for version in latest_versions(settings):
                rmse = registry_client(settings).get_run(version.run_id).data.metrics.get("rmse_val", float("nan"))
                print(f"v{version.version}  val RMSE {rmse:.4f}  aliases: {', '.join(version.aliases) or '-'}")
            return 0
        promote(settings, args.version, args.alias)
    except MlopsLevelsError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    print(f"{settings.model_name} v{args.version} is now @{args.alias}; restart the service to serve it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
