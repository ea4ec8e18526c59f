"""The admin token of the platforms (levels 3-4): from the environment, or a file only its owner can read.

A secret never travels as a Prefect flow or deployment parameter (Prefect stores parameters in clear
and serves them to anyone who can reach its API), never in a URL, a log or a report. A token file is
created with mode 0600 from its first byte, in a 0700 folder: there is no moment when another local
user could read it.
"""

from __future__ import annotations

import os
import secrets as random_tokens
import stat
from collections.abc import Mapping
from pathlib import Path

from common.errors import StoreError
from teaching.infra.config import Settings, url_holds_credential

TOKEN_ENV = "MLOPS_LEVELS_ADMIN_TOKEN"
TOKEN_FILE = "admin-token"
# Prefect's own basic auth: the server compares every API request's `Authorization: Basic` to its
# PREFECT_SERVER_API_AUTH_STRING; clients send their PREFECT_API_AUTH_STRING.
PREFECT_AUTH_FILE = "prefect-auth"
PREFECT_CLIENT_AUTH = "PREFECT_API_AUTH_STRING"
PREFECT_SERVER_AUTH = "PREFECT_SERVER_API_AUTH_STRING"


def token_file(settings: Settings) -> Path:
    return settings.layout.secrets / TOKEN_FILE


def read_admin_token(settings: Settings) -> str | None:
    """The token the platform accepts: the environment's, else the workspace's token file, else none."""
    if os.environ.get(TOKEN_ENV):
        return os.environ[TOKEN_ENV]
    return read_secret_file(token_file(settings))  # a token others could read is refused, not used


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


def prefect_auth_file(settings: Settings) -> Path:
    """The workspace's Prefect secret: what its own Prefect server asks of every API request."""
    return settings.layout.secrets / PREFECT_AUTH_FILE


def read_secret_file(path: Path) -> str | None:
    """A secret file's text (None if there is none); one readable by anyone but its owner is refused:
    another local user may have read it, or written it."""
    try:
        info = os.stat(path)
        if stat.S_IMODE(info.st_mode) & 0o077 or info.st_uid != os.getuid():
            raise StoreError(
                "the secret file can be read or written by others",
                where=str(path),
                fix=f"delete it (a new one is made) or chmod 600 {path} if only you could have read it",
            )
        return path.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"cannot read the secret file ({exc.strerror})", where=str(path)) from None


def ensure_secret_file(path: Path) -> str:
    """The secret in `path`, made on first use: mode 0600 from its first byte, in a 0700 folder."""
    existing = read_secret_file(path)
    if existing:
        return existing
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Prefect's setting is documented as 'user:password'; the server compares the whole string.
    secret = f"mlops-levels:{random_tokens.token_urlsafe(24)}"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # an empty file: a secret nobody kept cannot be trusted to be anyone's
        raise StoreError("the secret file is empty", where=str(path), fix="delete it: a new one is made") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret)
    return secret


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
