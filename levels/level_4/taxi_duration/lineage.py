"""Level 3+ · signed lineage: which data trained a version and which validated it, in words only the
training pipeline can write.

The gate (gate.py) judges a candidate on a month it never trained on. What it trained on is written on
its run as tags, for people to read; but anyone who can write to the registry (the MLflow UI has no
login) can write tags too: a model fitted on the gate's own month, tagged as trained on the month
before, would pass. So the training pipeline signs what it knows about the version it registers, the
`Lineage` record below, with a private key only it holds (Ed25519), and the platform checks the
signature with the matching public key, which can verify a signature but cannot make one. Registry
writers hold neither key. The record and its signature travel as two tags of the model version
(`lineage`, `lineage.signature`): a tag can be edited, but an edited record no longer verifies.

The record names the model files too (`model_sha256`, a digest of every file of the logged model), so
files replaced after signing are caught, and the version and run it belongs to, so a signature copied
onto another version is caught.

    python -m taxi_duration.lineage keygen keys                 # keys/lineage.key (0600), keys/lineage.pub
    export LINEAGE_SIGNING_KEY_FILE=keys/lineage.key            # where the training pipeline runs
    export LINEAGE_PUBLIC_KEY_FILE=keys/lineage.pub             # where the platform runs
    python -m taxi_duration.lineage show 7                      # v7's record, and whether it verifies

A key comes from the file an environment variable names, never from an argument (any local user can read
the process list) or a flow parameter (Prefect keeps them in clear). A private key file others could read
is refused, and so is a public key file others could write (whoever replaces it could sign).

What a signature cannot stop: whoever holds the private key (the account that trains) can sign anything,
so it stays with the pipeline, away from the registry's writers and from the platform.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import stat
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from mlflow.exceptions import MlflowException

from common.data import fingerprint
from common.errors import StoreError, TaxiDurationError, UsageError
from taxi_duration.config import Config
from taxi_duration.registry import TRAIN, model_location, registry_client, resolve_version

SIGNING_KEY_ENV = "LINEAGE_SIGNING_KEY_FILE"  # the training pipeline's private key
PUBLIC_KEY_ENV = "LINEAGE_PUBLIC_KEY_FILE"  # the platform's public key
RECORD_TAG, SIGNATURE_TAG = "lineage", "lineage.signature"
KEY_FILE, PUBLIC_FILE = "lineage.key", "lineage.pub"
SIGN_FIX = f"register it through the training pipeline ({TRAIN}) with {SIGNING_KEY_ENV} set"
KEYGEN = "make a pair: python -m taxi_duration.lineage keygen keys"


class LineageRefused(TaxiDurationError):
    """A version whose lineage the platform cannot verify: the gate does not measure it."""

    exit_code = 2


@dataclass(frozen=True)
class Lineage:
    """What the training pipeline vouches for, about one registered version."""

    model_name: str
    version: str
    run_id: str
    train_data: str  # the month(s) it trained on: "2021-01", "2021-01..2021-03" or "2021-01,2021-02"
    train_sha256: str
    val_data: str  # the month it was validated on
    val_sha256: str
    model_sha256: str  # files_digest() of the logged model's files
    pipeline: str  # what trained it, e.g. "taxi_duration.pipeline"
    git_commit: str

    def to_bytes(self) -> bytes:
        """The exact bytes that are signed: keys sorted, no spaces, so the same record is always the same bytes."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()


# --- keys ---------------------------------------------------------------------------------------------


def keygen(folder: Path) -> tuple[Path, Path]:
    """A new key pair in `folder` (0700): the private key 0600 from its first byte, the public key 0644."""
    folder = Path(folder)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem, unencrypted = serialization.Encoding.PEM, serialization.NoEncryption()  # the file's mode protects it
    private = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, unencrypted)
    public = key.public_key().public_bytes(pem, serialization.PublicFormat.SubjectPublicKeyInfo)
    for name, data, mode in ((KEY_FILE, private, 0o600), (PUBLIC_FILE, public, 0o644)):
        try:  # O_EXCL: an existing key is never overwritten (versions signed with it would stop verifying)
            fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        except FileExistsError:
            raise UsageError(f"{folder / name} exists already", fix="keep it, or move it aside first") from None
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    return folder / KEY_FILE, folder / PUBLIC_FILE


def _key_bytes(variable: str, what: str, refused: int, by_others: str, mode: str) -> bytes | None:
    """The bytes of the key file `variable` names, unless its mode lets others do what they must not."""
    path = os.environ.get(variable)
    if not path:
        return None
    try:
        if stat.S_IMODE(os.stat(path).st_mode) & refused:
            raise StoreError(f"{what} can be {by_others} by others", where=path, fix=f"chmod {mode} {path}")
        return Path(path).read_bytes()
    except OSError as exc:
        raise StoreError(
            f"cannot read {what} ({exc.strerror})", where=path, fix=f"check {variable}, or {KEYGEN}"
        ) from None


def signing_key() -> Ed25519PrivateKey | None:
    """The pipeline's private key, from the file LINEAGE_SIGNING_KEY_FILE names; None when it is not set."""
    data = _key_bytes(SIGNING_KEY_ENV, "the lineage signing key", 0o077, "read or written", "600")
    if data is None:
        return None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except ValueError:
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise StoreError("not an Ed25519 private key", where=os.environ[SIGNING_KEY_ENV], fix=KEYGEN)
    return key


def public_key() -> Ed25519PublicKey | None:
    """The platform's public key, from the file LINEAGE_PUBLIC_KEY_FILE names; None when it is not set."""
    data = _key_bytes(PUBLIC_KEY_ENV, "the lineage public key", 0o022, "written", "644")
    if data is None:
        return None
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        key = None
    if not isinstance(key, Ed25519PublicKey):
        raise StoreError("not an Ed25519 public key", where=os.environ[PUBLIC_KEY_ENV], fix=KEYGEN)
    return key


# --- the model's files --------------------------------------------------------------------------------


def copy_model_files(config: Config, version: str, into: Path) -> Path:
    """A copy of a version's model files in `into` (a local store's folder, or fetched through a tracking
    server). Compiled Python caches are left out: loading a model may write them, and they are not the model."""
    import mlflow.artifacts

    location = model_location(config, resolve_version(config, version))
    target = Path(into) / "model"
    try:
        if not Path(location).is_dir():
            location = mlflow.artifacts.download_artifacts(artifact_uri=location, tracking_uri=config.tracking_uri)
        shutil.copytree(location, target, ignore=shutil.ignore_patterns("__pycache__"), symlinks=True)
    except (MlflowException, OSError) as exc:  # a source a registry writer pointed elsewhere: refused, not a 500
        raise LineageRefused(f"v{version}'s model files cannot be read ({type(exc).__name__})", fix=SIGN_FIX) from None
    return target


def files_digest(folder: Path) -> str:
    """sha256 over every file's relative path and sha256, in order: any file added, removed or changed shows."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*")):
        # checked before is_dir(): a link to a folder is a folder to is_dir(), and would not be digested.
        if path.is_symlink():  # a link could point at anything, at any time: a signed model has none
            raise StoreError("the model's files hold a symbolic link", where=str(path), fix=SIGN_FIX)
        if not path.is_dir():
            digest.update(f"{path.relative_to(folder).as_posix()}\0{fingerprint(path)}\n".encode())
    return digest.hexdigest()


# --- signing (the training pipeline) and verifying (the platform) ----------------------------------------


def sign_version(config: Config, lineage: Lineage, key: Ed25519PrivateKey) -> Lineage:
    """Digest the registered version's files, sign the record and put both on the version (two tags)."""
    with tempfile.TemporaryDirectory(prefix="lineage-") as scratch:
        files = copy_model_files(config, lineage.version, Path(scratch))
        signed = Lineage(**{**asdict(lineage), "model_sha256": files_digest(files)})
    record = signed.to_bytes()
    signature = base64.b64encode(key.sign(record)).decode()
    client = registry_client(config)
    client.set_model_version_tag(config.model_name, lineage.version, RECORD_TAG, record.decode())
    client.set_model_version_tag(config.model_name, lineage.version, SIGNATURE_TAG, signature)
    return signed


def verified_lineage(config: Config, version: str, key: Ed25519PublicKey | None) -> Lineage:
    """v`version`'s lineage, if its signature verifies and it is about this very version and run."""
    if key is None:
        raise LineageRefused(
            f"the platform cannot verify v{version}'s lineage: {PUBLIC_KEY_ENV} is not set",
            fix=f"start the platform with {PUBLIC_KEY_ENV} naming the pipeline's public key ({KEYGEN})",
        )
    found = resolve_version(config, version)
    record, signature = found.tags.get(RECORD_TAG), found.tags.get(SIGNATURE_TAG)
    if not record or not signature:
        raise LineageRefused(f"v{version} has no signed lineage", fix=SIGN_FIX)
    try:
        key.verify(base64.b64decode(signature, validate=True), record.encode())
        lineage = Lineage(**json.loads(record))
    except (InvalidSignature, ValueError, TypeError):
        raise LineageRefused(
            f"v{version}'s lineage is not signed by the training pipeline's key (edited, or signed with another key)",
            fix=SIGN_FIX,
        ) from None
    if (lineage.model_name, lineage.version, lineage.run_id) != (config.model_name, str(version), found.run_id):
        raise LineageRefused(
            f"v{version}'s signed lineage is about {lineage.model_name} v{lineage.version} (run {lineage.run_id}), "
            f"not v{version} (run {found.run_id}): a signature copied from another version",
            fix=SIGN_FIX,
        )
    return lineage


def load_verified(config: Config, lineage: Lineage) -> Any:
    """The version's model, loaded from a private copy of its files whose digest is the signed one (what is
    checked is what is loaded: the registry's files could change between a check and a load)."""
    model, _ = load_private(config, lineage.version, expected=lineage.model_sha256)
    return model


def load_private(config: Config, version: str, expected: str | None = None) -> tuple[Any, str]:
    """A version's model loaded from a private copy of its files, and the digest of exactly those files (the
    platform records it with every promotion and serves a champion only if its files still have it).
    With `expected`, files with another digest are refused before anything is unpickled."""
    import mlflow.sklearn

    with tempfile.TemporaryDirectory(prefix="lineage-") as scratch:
        files = copy_model_files(config, version, Path(scratch))
        digest = files_digest(files)
        if expected is not None and digest != expected:
            raise LineageRefused(
                f"v{version}'s model files are not the ones the pipeline signed (replaced after training)",
                fix=SIGN_FIX,
            )
        try:
            return mlflow.sklearn.load_model(str(files)), digest
        except Exception as exc:  # unpickling and file errors all mean one thing to the person reading
            raise StoreError(f"cannot load v{version} ({type(exc).__name__})", fix=SIGN_FIX) from None


# --- the command --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Make a lineage key pair, or show a version's signed lineage.")
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("keygen", help="write lineage.key (0600) and lineage.pub into FOLDER")
    make.add_argument("folder", type=Path)
    show = commands.add_parser("show", help=f"a version's signed lineage, verified with {PUBLIC_KEY_ENV}")
    show.add_argument("version")
    args = parser.parse_args(argv)
    try:
        if args.command == "keygen":
            private, public = keygen(args.folder)
            print(f"export {SIGNING_KEY_ENV}={private.resolve()}   # the training pipeline's: keep it to yourself")
            print(f"export {PUBLIC_KEY_ENV}={public.resolve()}   # the platform's")
            return 0
        lineage = verified_lineage(Config.from_env(), args.version, public_key())
        print(json.dumps(asdict(lineage), indent=2))
        return 0
    except (TaxiDurationError, MlflowException) as exc:
        line = exc.one_line() if isinstance(exc, TaxiDurationError) else str(exc.message)
        print(f"error: {line}", file=sys.stderr)
        return exc.exit_code if isinstance(exc, TaxiDurationError) else 3


if __name__ == "__main__":
    sys.exit(main())
