"""The secrets of the platforms (levels 3-4): the admin token, from the environment or a file only its owner
can read, and the key pair that signs each version's lineage (the pipeline signs with the private key, the
platform verifies with the public key: taxi_duration/lineage.py).

A secret never travels as a Prefect flow or deployment parameter (Prefect stores parameters in clear
and serves them to anyone who can reach its API), never in a URL, a log or a report. A token file is
created with mode 0600 from its first byte, in a 0700 folder: there is no moment when another local
user could read it.
"""

from __future__ import annotations

import os
import secrets as random_tokens
import shutil
import stat
import tempfile
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


LINEAGE_FOLDER = "lineage"  # secrets/lineage/: lineage.key (0600) and lineage.pub, as the level's keygen names them
SIGNING_KEY_ENV, PUBLIC_KEY_ENV = "LINEAGE_SIGNING_KEY_FILE", "LINEAGE_PUBLIC_KEY_FILE"  # what the levels read


def lineage_keys(settings: Settings) -> tuple[Path, Path]:
    """The workspace's lineage key pair (private, public), made on first use.

    The pair is written into a fresh 0700 folder and renamed into place in one step, so another command
    sees both files or neither; a folder another command renamed first is theirs to keep.
    """
    folder = settings.layout.secrets / LINEAGE_FOLDER
    private, public = folder / "lineage.key", folder / "lineage.pub"
    if not folder.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        settings.layout.secrets.mkdir(mode=0o700, parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".lineage-", dir=settings.layout.secrets))  # 0700
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(scratch / private.name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        fd = os.open(scratch / public.name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)  # nobody else writes it
        with os.fdopen(fd, "wb") as handle:
            handle.write(public_pem)
        try:
            scratch.rename(folder)
        except OSError:  # another command made the pair a moment ago: use theirs
            shutil.rmtree(scratch, ignore_errors=True)
    if not (private.is_file() and public.is_file()):
        raise StoreError(
            "the workspace's lineage key pair is incomplete", where=str(folder), fix=f"move {folder} aside"
        )
    return private, public


def lineage_env(settings: Settings, signs: bool) -> dict[str, str]:
    """Where a level's process finds the lineage keys: file paths only, never a key. The training pipeline
    (`signs`) gets the private key's path; the platform only the public one (its signing variable is blanked),
    so it can verify a signature and never make one.

    The pair is the person's own when their environment names a public key (LINEAGE_PUBLIC_KEY_FILE, with
    LINEAGE_SIGNING_KEY_FILE where they train: e.g. a class whose workers sign with the class's key),
    else the workspace's."""
    if os.environ.get(PUBLIC_KEY_ENV):
        private, public = os.environ.get(SIGNING_KEY_ENV, ""), os.environ[PUBLIC_KEY_ENV]
    else:
        private, public = (str(path) for path in lineage_keys(settings))
    return {PUBLIC_KEY_ENV: public, SIGNING_KEY_ENV: private if signs else ""}


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
