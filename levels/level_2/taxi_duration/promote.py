"""Level 2 · model_registry: the manual step. A person reads the runs and promotes a version.

    python -m taxi_duration.promote --list          # versions, newest first, with their RMSE
    python -m taxi_duration.promote --version 3     # version 3 becomes `champion`

Then restart the service (`python -m taxi_duration.serve`) so it loads the new champion. Level 3
replaces this file with a quality gate and a deploy API.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from mlflow.exceptions import MlflowException

from common.errors import TaxiDurationError
from taxi_duration.config import Config
from taxi_duration.registry import CHAMPION, registry_client, require_store, resolve_version


def promote(config: Config, version: str, alias: str = CHAMPION) -> None:
    client = registry_client(config)
    resolve_version(config, version, fix="list them with: python -m taxi_duration.promote --list")
    client.set_registered_model_alias(config.model_name, alias, version)


def latest_versions(config: Config, limit: int = 10) -> list[Any]:
    client = registry_client(config)
    try:
        versions = client.search_model_versions(f"name='{config.model_name}'")
    except MlflowException:
        return []
    newest = sorted(versions, key=lambda v: int(v.version), reverse=True)[:limit]
    # search results leave the aliases out; fetching each version brings them
    return [client.get_model_version(config.model_name, str(v.version)) for v in newest]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", help="registered version to promote")
    parser.add_argument("--alias", default=CHAMPION)
    parser.add_argument("--list", action="store_true", help="show the versions")
    args = parser.parse_args(argv)
    config = Config.from_env()
    try:
        require_store(config)
        if args.list or not args.version:
            for version in latest_versions(config):
                rmse = registry_client(config).get_run(version.run_id).data.metrics.get("rmse_val", float("nan"))
                print(f"v{version.version}  val RMSE {rmse:.4f}  aliases: {', '.join(version.aliases) or '-'}")
            return 0
        promote(config, args.version, args.alias)
    except TaxiDurationError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    print(f"{config.model_name} v{args.version} is now @{args.alias}; restart the service to serve it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
