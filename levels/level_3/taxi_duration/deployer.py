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
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlflow.exceptions import MlflowException
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from common.errors import MlopsLevelsError, StoreError
from taxi_duration.ab import Variant
from taxi_duration.config import Config
from taxi_duration.gate import GateDecision, Measurements, check_candidate
from taxi_duration.registry import (
    CHAMPION,
    VERSION_PATTERN,
    UnknownVersion,
    load_version,
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


class GateRefused(MlopsLevelsError):
    """The quality gate said no: the body tells why and what to do."""

    def __init__(self, decision: GateDecision) -> None:
        self.decision = decision
        super().__init__(
            f"the quality gate refused v{decision.candidate_version}: {decision.reason}",
            fix='train a better candidate, or override with "force": true and a "reason" (recorded)',
        )


@dataclass
class AuditLog:
    """Every admin action and its gate decision, one JSON line each, synced before anything changes."""

    path: Path

    def record(self, entry: dict[str, Any]) -> None:
        line = (json.dumps({"at": time.strftime("%Y-%m-%dT%H:%M:%S"), **entry}, separators=(",", ":")) + "\n").encode()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:  # an action that cannot be recorded is not taken (503)
            raise StoreError(f"cannot record in the audit log: {exc.strerror or exc}", where=str(self.path)) from None

    def champion(self) -> str | None:
        """The last version this platform promoted (a promotion that then failed does not count)."""
        champions: list[str] = []
        for entry in self._entries():
            if entry.get("action") != "promote":
                continue
            if entry.get("outcome") in ("passed", "forced"):
                champions.append(str(entry["version"]))
            elif entry.get("outcome") == "failed" and champions and champions[-1] == str(entry.get("version")):
                champions.pop()
        return champions[-1] if champions else None

    def _entries(self) -> list[dict[str, Any]]:
        try:
            lines = self.path.read_bytes().splitlines() if self.path.exists() else []
        except OSError as exc:
            raise StoreError(f"cannot read the audit log: {exc.strerror or exc}", where=str(self.path)) from None
        entries = []
        for number, line in enumerate(lines, start=1):
            try:
                entry = json.loads(line)
            except ValueError:
                entry = None
            if not isinstance(entry, dict):  # the platform's memory of what it approved: no guessing past it
                raise StoreError(
                    "the audit log has a line that is not a record",
                    where=f"{self.path}:{number}",
                    fix="restore it from a backup, or move it aside to start the platform's history anew",
                )
            entries.append(entry)
        return entries


# [quality_gate]
class Platform:
    """The current deployment, a cache of loaded versions, and the only way to change either."""

    def __init__(self, config: Config, state_dir: Path) -> None:
        self.config = config
        self.variants: list[Variant] = []
        self.unready: str | None = "no model is deployed yet: POST /deployments or /promote (admin)"
        self.audit = AuditLog(Path(state_dir) / "audit.jsonl")
        self._loaded: dict[str, Any] = {}
        self.measured: Measurements = {}  # the gate's own numbers: never read back from registry tags
        self.lock = asyncio.Lock()

    def _load(self, version: str) -> Any:
        if version not in self._loaded:
            self._loaded[version] = load_version(self.config, version)
        return self._loaded[version]

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
        decisions = [
            await asyncio.to_thread(check_candidate, self.config, v, champion, self.measured) for v in versions
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
            entry = {"action": "promote", "version": spec.version, "gate": decision.to_dict()}
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
            except MlopsLevelsError as exc:
                self.unready = f"the platform cannot tell its champion: {exc.one_line()}"
                return
            if champion is None:
                return
            try:
                self._swap(await self._load_all([VariantSpec(version=champion, weight=1)]))
            except MlopsLevelsError as exc:
                self.unready = f"champion v{champion} cannot be served: {exc.one_line()}"

    def describe(self) -> list[dict[str, Any]]:
        return [{"name": v.name, "version": v.version, "weight": v.weight} for v in self.variants]
