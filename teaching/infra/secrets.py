"""The admin token of the platforms (levels 3-4): from the environment, or a file only its owner can read.

A secret never travels as a Prefect flow or deployment parameter (Prefect stores parameters in clear
and serves them to anyone who can reach its API), never in a URL, a log or a report. A token file is
created with mode 0600 from its first byte, in a 0700 folder: there is no moment when another local
user could read it.
"""

from __future__ import annotations

import os
import secrets as random_tokens
from collections.abc import Mapping
from pathlib import Path

from common.errors import StoreError
from teaching.infra.config import Settings, url_holds_credential

TOKEN_ENV = "MLOPS_LEVELS_ADMIN_TOKEN"
TOKEN_FILE = "admin-token"


def token_file(settings: Settings) -> Path:
    return settings.layout.secrets / TOKEN_FILE


def read_admin_token(settings: Settings) -> str | None:
    """The token the platform accepts: the environment's, else the workspace's token file, else none."""
    if os.environ.get(TOKEN_ENV):
        return os.environ[TOKEN_ENV]
    path = token_file(settings)
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"cannot read the admin token ({exc.strerror})", where=str(path)) from None


def ensure_admin_token(settings: Settings) -> str:
    """The token to use: the configured one, or a new random one kept in the workspace's 0600 token file."""
    existing = read_admin_token(settings)
    if existing:
        return existing
    folder = settings.layout.secrets
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    token = random_tokens.token_urlsafe(24)
    try:
        fd = os.open(folder / TOKEN_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another command created it a moment ago: use theirs
        return read_admin_token(settings) or token
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token)
    return token


# What a command may hold and a server it leaves running must not: that server outlives the command,
# and /proc/<pid>/environ keeps every variable for as long as it runs.
# Names and values, not a list of what servers need: they need the rest (PATH, locale, proxy, PREFECT_*).
# They keep their artifacts on local disk, so no cloud credential is theirs to need either.
SECRET_WORDS = ("PASSWORD", "PASSWD", "TOKEN", "SECRET", "API_KEY", "ACCESS_KEY", "CREDENTIAL", "CONNECTION_STRING")
SECRET_NAMES = {"PREFECT_API_AUTH_STRING", "MYSQL_PWD"}  # secrets whose names do not say so
SHELL_NAMES = {"PWD", "OLDPWD"}  # the shell's current folders, not passwords


def without_secrets(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """`env` (default: this process's environment) without the credentials a child server has no use for."""
    source = os.environ if env is None else env
    return {name: value for name, value in source.items() if name in SHELL_NAMES or not _is_secret(name, value)}


def _is_secret(name: str, value: str) -> bool:
    upper = name.upper()
    # A URL with a password is a secret under any name (MLFLOW_TRACKING_URI, DATABASE_URL).
    return upper in SECRET_NAMES or any(word in upper for word in SECRET_WORDS) or url_holds_credential(value)
