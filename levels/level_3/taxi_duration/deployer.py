"""Level 3+ · automated_deployment: what the platform serves, changed only through the quality gate.

Every deploy and promote, from any caller (the API, the CD workflow, level 4's loop), goes
through `Platform`: one lock serialises them; the gate decides; an override needs a reason and is
recorded in the registry and in the audit log. A new deployment is loaded completely, then swapped in
with one assignment: a request already running keeps the deployment it started with.

The champion the gate compares with is the platform's own: the last version its audit log shows it
promoted. The registry's `champion` alias follows it; an alias moved by other means (the MLflow UI, a
script) is put back and the repair recorded, so nothing becomes champion without passing the gate.
A promotion is recorded first, then the alias moves, then the traffic: if the registry cannot be
written, the answer is 503 and what serves has not changed.

Because the champion is rebuilt from the audit log, the log is a trust root, and it is sealed
(`SealedLog`): 0600, and each record carries `seal`, an HMAC-SHA256 over the previous record's seal and
its own bytes, with a key only the platform holds (`audit.key` beside the log, 0600, made on first use).
A plain hash chain (each line naming the sha256 of the one before) would catch an accident, but whoever
can append a line can compute the next hash too; without the key, nobody can compute the next seal. An
edited, inserted, reordered or deleted record, a torn last line, or a log cut short (`audit.head`, sealed
too, says how many records there are) stops the platform with `file:line`: 503 from the API, exit 3 from
its command. The key never leaves that file: no argument, parameter, environment variable or log holds it.
What a seal cannot stop: someone who can read the key (the platform's own account, root), or who puts
back an older log together with its older head; keep the state folder the platform's own (0700).
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlflow.exceptions import MlflowException
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from common.errors import StoreError, TaxiDurationError
from taxi_duration.ab import Variant
from taxi_duration.config import Config
from taxi_duration.gate import GateDecision, Measurements, check_candidate
from taxi_duration.lineage import load_private, public_key, verified_lineage
from taxi_duration.registry import (
    CHAMPION,
    VERSION_PATTERN,
    UnknownVersion,
    registry_client,
    resolve_version,
)

# Admin bodies are read strictly: "force": "yes" or a weight of "1" is a mistake to refuse, not to guess.
STRICT = ConfigDict(strict=True, extra="forbid")


class Override(BaseModel):
    """An explicit, audited way past the gate, for a human (a rollback at 3 a.m., say)."""

    model_config = STRICT
    force: bool = False
    reason: str | None = Field(default=None, max_length=500)

    @field_validator("reason")
    @classmethod
    def reason_is_words(cls, reason: str | None) -> str | None:
        if reason is None:
            return None
        reason = reason.strip()
        if len(reason) < 10 or not reason.isprintable():
            raise ValueError("a reason is 10 or more printable characters: it is recorded for people to read")
        return reason

    @model_validator(mode="after")
    def force_needs_a_reason(self) -> Override:
        if self.force and not self.reason:
            raise ValueError("force needs a reason (10 characters or more): it is recorded")
        return self


class VariantSpec(BaseModel):
    model_config = STRICT
    version: str = Field(pattern=VERSION_PATTERN)
    weight: float = Field(gt=0, le=1)
    name: str = Field(default="champion", pattern=r"^[a-z][a-z0-9_-]{0,31}$")


class DeploymentSpec(Override):
    variants: list[VariantSpec] = Field(min_length=1, max_length=2)

    @model_validator(mode="after")
    def weights_add_up(self) -> DeploymentSpec:
        if abs(sum(v.weight for v in self.variants) - 1) > 1e-6:
            raise ValueError("the variants' weights must add up to 1")
        if len({v.name for v in self.variants}) != len(self.variants):
            raise ValueError("variant names must differ")
        return self


class PromoteSpec(Override):
    version: str = Field(pattern=VERSION_PATTERN)


class GateRefused(TaxiDurationError):
    """The quality gate said no: the body tells why and what to do."""

    def __init__(self, decision: GateDecision) -> None:
        self.decision = decision
        super().__init__(
            f"the quality gate refused v{decision.candidate_version}: {decision.reason}",
            fix=decision.fix or 'train a better candidate, or override with "force": true and a "reason" (recorded)',
        )


# A sealed line is the record's JSON with `"seal":"<64 hex>"` as its last field.
_SEALED = re.compile(rb'^(\{.+),"seal":"([0-9a-f]{64})"\}$', re.DOTALL)


def _private(path: Path, what: str) -> None:
    """A store only this account may read or write: anything wider is refused, never widened silently."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"cannot read {what} ({exc.strerror or exc})", where=str(path)) from None
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
        raise StoreError(f"{what} is not a plain file", where=str(path), fix="move it aside")
    if info.st_uid != os.geteuid():
        raise StoreError(f"{what} belongs to another user", where=str(path), fix="move it aside")
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise StoreError(f"{what} can be read or written by others", where=str(path), fix=f"chmod 600 {path}")


def _read_private(path: Path, what: str) -> bytes | None:
    _private(path, what)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"cannot read {what} ({exc.strerror or exc})", where=str(path)) from None


class SealedLog:
    """An append-only JSON-lines file whose records only the holder of its key can write or reorder.

    `log.jsonl` holds the records, `log.key` the HMAC key and `log.head` how many records there are and
    the last seal (itself sealed, so a log cut short is caught). All three are 0600.
    """

    def __init__(self, path: Path, name: str, writer: str, fix: str) -> None:
        self.path = Path(path)
        self.name = name  # "the audit log", "the decision log"
        self.key_path = self.path.with_suffix(".key")
        self.head_path = self.path.with_suffix(".head")
        self.writer = writer  # who writes it: "the platform", "the loop"
        self.fix = fix
        self._seen = (0, "")  # what this process last verified or wrote: the file may only grow from it

    def _refuse(self, what: str, line: int | None = None) -> StoreError:
        where = f"{self.path}:{line}" if line else str(self.path)
        return StoreError(what, where=where, fix=self.fix)

    def _seal(self, key: bytes, message: bytes) -> str:
        return hmac.new(key, message, hashlib.sha256).hexdigest()

    def _key(self, create: bool) -> bytes | None:
        text = _read_private(self.key_path, f"{self.name}'s key")
        if text is None and create:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            try:
                fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            except FileExistsError:  # another process made it first: use theirs
                return self._key(create=False)
            try:
                os.write(fd, secrets.token_hex(32).encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            self._write_head(self._key(create=False) or b"", 0, "")
            return self._key(create=False)
        if text is None:
            return None
        if not re.fullmatch(rb"[0-9a-f]{64}", text.strip()):
            raise StoreError(f"{self.name}'s key is damaged", where=str(self.key_path), fix=self.fix)
        return bytes.fromhex(text.strip().decode())

    def _head_seal(self, key: bytes, count: int, last: str) -> str:
        return self._seal(key, f"head\n{count}\n{last}".encode())

    def _write_head(self, key: bytes, count: int, last: str) -> None:
        body = json.dumps({"records": count, "last": last, "seal": self._head_seal(key, count, last)}).encode()
        part = self.head_path.with_name(f".{self.head_path.name}.part")
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, body)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(part, self.head_path)  # readers see the old head or the new one, never half of one

    def _head(self, key: bytes | None) -> tuple[int, str] | None:
        text = _read_private(self.head_path, f"{self.name}'s head")
        if text is None:
            return None
        try:
            head = json.loads(text)
            count, last, seal = head["records"], head["last"], head["seal"]
            valid = key is not None and hmac.compare_digest(str(seal), self._head_seal(key, int(count), str(last)))
        except (ValueError, KeyError, TypeError):
            valid = False
        if not valid:
            raise StoreError(
                f"{self.name}'s head was not written by {self.writer}", where=str(self.head_path), fix=self.fix
            )
        return int(count), str(last)

    def _verified(self) -> tuple[list[dict[str, Any]], str]:
        """Every record, each checked against its seal and the one before; then the head and this process's memory."""
        data = _read_private(self.path, self.name)
        key = self._key(create=False)
        head = self._head(key)
        lines = data.split(b"\n") if data else []
        if lines and lines[-1]:
            raise self._refuse("the last record is cut short (a crash mid-write, or an edit)", len(lines))
        lines = lines[:-1]
        if lines and (key is None or head is None):
            missing = self.key_path if key is None else self.head_path
            raise self._refuse(f"its records cannot be verified: {missing.name} is missing", 1)
        records, seals, last = [], [], ""
        for number, line in enumerate(lines, start=1):
            match = _SEALED.match(line)
            assert key is not None
            if not match or not hmac.compare_digest(
                match[2].decode(), self._seal(key, last.encode() + b"\n" + match[1] + b"}")
            ):
                raise self._refuse(
                    f"this line is not a record {self.writer} wrote: edited, inserted or out of place", number
                )
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, dict):
                raise self._refuse("this line is not a record", number)
            record.pop("seal")
            last = match[2].decode()
            records.append(record)
            seals.append(last)
        for count, seal, whose in ((*head, "its head") if head else (0, "", ""), (*self._seen, "this process")):
            if len(records) < count:
                raise self._refuse(
                    f"records are missing: {whose} counts {count}, the log has {len(records)}", len(records) + 1
                )
            if count and seals[count - 1] != seal:
                raise self._refuse(f"this record is not the one {whose} recorded", count)
        self._seen = (len(records), last)
        return records, last

    def records(self) -> list[dict[str, Any]]:
        """The records, verified, without their seals."""
        return self._verified()[0]

    def append(self, record: dict[str, Any]) -> None:
        """Seal the record onto the verified log, synced, then move the head: no seal, no record."""
        body = json.dumps(record, separators=(",", ":")).encode()
        assert record and "seal" not in record and b"\n" not in body
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            _private(self.path, self.name)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
        except OSError as exc:
            raise StoreError(f"cannot write {self.name} ({exc.strerror or exc})", where=str(self.path)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # two processes on one log: one chain, not two
            records, last = self._verified()  # never extend a log that is not ours
            key = self._key(create=True)
            assert key is not None
            seal = self._seal(key, last.encode() + b"\n" + body)
            line = body[:-1] + b',"seal":"' + seal.encode() + b'"}\n'
            written = os.write(fd, line)
            if written != len(line):
                os.ftruncate(fd, os.fstat(fd).st_size - written)
                raise StoreError("the record was not written whole (disk full?)", where=str(self.path))
            os.fsync(fd)
            self._seen = (len(records) + 1, seal)
            self._write_head(key, len(records) + 1, seal)
        except OSError as exc:
            raise StoreError(f"cannot write {self.name} ({exc.strerror or exc})", where=str(self.path)) from None
        finally:
            os.close(fd)


AUDIT_FIX = "restore audit.* from a backup, or move them aside to start the platform's history anew"


@dataclass
class AuditLog:
    """Every admin action and its gate decision, one sealed JSON line each, synced before anything changes."""

    path: Path

    def __post_init__(self) -> None:
        self.sealed = SealedLog(self.path, "the audit log", "the platform", AUDIT_FIX)

    def record(self, entry: dict[str, Any]) -> None:
        # an action that cannot be recorded is not taken (503)
        self.sealed.append({"at": time.strftime("%Y-%m-%dT%H:%M:%S"), **entry})

    def champion(self) -> str | None:
        """The last version this platform promoted (a promotion that then failed does not count)."""
        promoted = self._promotions()
        return str(promoted[-1]["version"]) if promoted else None

    def identity(self, version: str) -> dict[str, str] | None:
        """Which run and which files the platform promoted as `version` (None in records older than that)."""
        found = [entry for entry in self._promotions() if str(entry["version"]) == version]
        return found[-1].get("identity") if found else None

    def _promotions(self) -> list[dict[str, Any]]:
        promotions: list[dict[str, Any]] = []
        for entry in self.sealed.records():  # only what the platform itself sealed
            if entry.get("action") != "promote":
                continue
            if entry.get("outcome") in ("passed", "forced"):
                promotions.append(entry)
            elif entry.get("outcome") == "failed" and promotions and promotions[-1]["version"] == entry.get("version"):
                promotions.pop()
        return promotions


class Platform:
    """The current deployment, a cache of loaded versions, and the only way to change either."""

    def __init__(self, config: Config, state_dir: Path) -> None:
        self.config = config
        self.variants: list[Variant] = []
        self.unready: str | None = "no model is deployed yet: POST /deployments or /promote (admin)"
        self.audit = AuditLog(Path(state_dir) / "audit.jsonl")
        self.loaded: dict[str, Any] = {}  # a candidate is the copy whose signed files the gate checked
        # version -> the run and the files' digest of what was loaded: a registry writer can delete a model
        # and register other files under the same version numbers, or change a version's files in place
        self.identities: dict[str, dict[str, str]] = {}
        self.measured: Measurements = {}  # the gate's own numbers: never read back from registry tags
        self.lock = asyncio.Lock()

    def _load(self, version: str) -> Any:
        if version not in self.loaded:
            self.loaded[version], files = load_private(self.config, version)
            self.identities[version] = {"run_id": resolve_version(self.config, version).run_id, "files": files}
        elif version not in self.identities:  # the gate's copy of a candidate: its signed run and files
            lineage = verified_lineage(self.config, version, public_key())
            self.identities[version] = {"run_id": lineage.run_id, "files": lineage.model_sha256}
        return self.loaded[version]

    def _champion_checked(self, version: str) -> Any:
        """The champion, loaded, if its run and files are the ones this platform promoted as that version."""
        model = self._load(version)
        promoted, now = self.audit.identity(version), self.identities[version]
        if promoted is not None and promoted != now:
            what = "run" if promoted.get("run_id") != now["run_id"] else "model files"
            raise StoreError(
                f"v{version} in the registry is not the model this platform promoted (another {what}: the "
                "registry was changed by other means)",
                where=str(self.audit.path),
                fix="restore the registry from a backup, or promote a version again (with force and a reason)",
            )
        return model

    def _alias(self) -> str | None:
        try:
            return str(resolve_version(self.config, CHAMPION).version)
        except UnknownVersion:
            return None

    def champion(self) -> str | None:
        """The champion the gate compares with: the platform's own record, which the alias must match."""
        approved, alias = self.audit.champion(), self._alias()
        if approved is None or approved == alias:
            return alias  # a registry no platform has promoted in yet: its alias is all there is
        self.audit.record({"action": "restore champion alias", "found": alias, "restored": approved})
        self._set_alias(approved)
        return approved

    def _set_alias(self, version: str) -> None:
        try:
            registry_client(self.config).set_registered_model_alias(self.config.model_name, CHAMPION, version)
        except MlflowException as exc:  # a locked or damaged store: nothing moved, say so
            raise StoreError(
                f"the registry did not record v{version} as champion: {exc.message[:200]}",
                where=self.config.tracking_uri,
                fix="try again; if it persists, check the tracking store",
            ) from None

    async def _gate(self, versions: list[str], override: Override, action: str) -> list[GateDecision]:
        for version in versions:  # an unknown version is a 404 before any gate talk
            await asyncio.to_thread(resolve_version, self.config, version)
        champion = await asyncio.to_thread(self.champion)
        if champion is not None:  # measured as served: its files checked against its promotion record
            await asyncio.to_thread(self._champion_checked, champion)
        decisions = [
            await asyncio.to_thread(check_candidate, self.config, v, champion, self.measured, self.loaded)
            for v in versions
        ]
        refused = [d for d in decisions if not d.passed]
        if refused and not override.force:
            self.audit.record({"action": action, "outcome": "refused", "gate": [d.to_dict() for d in decisions]})
            raise GateRefused(refused[0])
        return decisions

    async def _record(self, entry: dict[str, Any], decisions: list[GateDecision], override: Override) -> None:
        """The audit line first (no record, no change), then an override on each version it let past."""
        refused = [d for d in decisions if not d.passed]
        self.audit.record({**entry, "outcome": "forced" if refused else "passed", "reason": override.reason})
        if refused:
            try:
                await asyncio.to_thread(self._record_override, refused, override, entry["action"])
            except StoreError as exc:
                self.audit.record({**entry, "outcome": "failed", "error": exc.one_line()})
                raise

    def _record_override(self, refused: list[GateDecision], override: Override, action: str) -> None:
        note = json.dumps({"reason": override.reason, "action": action, "at": time.strftime("%Y-%m-%dT%H:%M:%S")})
        try:
            for decision in refused:
                registry_client(self.config).set_model_version_tag(
                    self.config.model_name, decision.candidate_version, "gate.override", note
                )
        except MlflowException as exc:  # an override that cannot be recorded is not granted
            raise StoreError(
                f"the registry did not record the override: {exc.message[:200]}",
                where=self.config.tracking_uri,
            ) from None

    async def _load_all(self, specs: list[VariantSpec]) -> list[Variant]:
        models = [await asyncio.to_thread(self._load, spec.version) for spec in specs]
        return [Variant(s.name, s.version, s.weight, m) for s, m in zip(specs, models, strict=True)]

    def _swap(self, variants: list[Variant]) -> None:
        self.variants = variants  # one assignment: a request in flight keeps the list it took
        self.unready = None

    async def deploy(self, spec: DeploymentSpec) -> list[GateDecision]:
        async with self.lock:  # one change at a time; predictions never wait for this lock
            decisions = await self._gate([v.version for v in spec.variants], spec, "deploy")
            variants = await self._load_all(spec.variants)
            deployed = [{"name": v.name, "version": v.version, "weight": v.weight} for v in variants]
            await self._record(
                {"action": "deploy", "gate": [d.to_dict() for d in decisions], "deployed": deployed}, decisions, spec
            )
            self._swap(variants)
            return decisions

    async def promote(self, spec: PromoteSpec) -> GateDecision:
        async with self.lock:  # recorded, then the alias, then the traffic: a failure leaves all as it was
            [decision] = await self._gate([spec.version], spec, "promote")
            variants = await self._load_all([VariantSpec(version=spec.version, weight=1)])
            identity = self.identities.get(spec.version)
            entry = {"action": "promote", "version": spec.version, "gate": decision.to_dict(), "identity": identity}
            await self._record(entry, [decision], spec)
            try:
                await asyncio.to_thread(self._set_alias, spec.version)
            except StoreError as exc:
                self.audit.record({**entry, "outcome": "failed", "error": exc.one_line()})
                raise
            self._swap(variants)
            return decision

    async def serve_champion(self) -> None:
        """At start-up: serve the registry's champion if it can be served; otherwise say why not."""
        async with self.lock:
            try:
                champion = await asyncio.to_thread(self.champion)
            except TaxiDurationError as exc:
                self.unready = f"the platform cannot tell its champion: {exc.one_line()}"
                return
            if champion is None:
                return
            try:
                model = await asyncio.to_thread(self._champion_checked, champion)
                self._swap([Variant("champion", champion, 1.0, model)])
            except TaxiDurationError as exc:
                self.unready = f"champion v{champion} cannot be served: {exc.one_line()}"

    def describe(self) -> list[dict[str, Any]]:
        return [{"name": v.name, "version": v.version, "weight": v.weight} for v in self.variants]
