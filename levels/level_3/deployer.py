"""Level 3+ · automated_deployment: what the platform serves, changed only through the quality gate.

Every deploy and promote, from any caller (the API, `run 3`, the CD workflow, level 4's loop), goes
through `Platform`: one lock serialises them, so after any number of concurrent promotions the version
served is the registry's champion; the gate decides; an override needs a reason and is recorded in the
registry and in the audit log. A new deployment is loaded completely, then swapped in with one
assignment: a request already running keeps the deployment it started with, so none fails or drops.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, model_validator

from common.config import Settings
from common.errors import MlopsLevelsError
from levels.level_3.ab import Variant
from levels.level_3.gate import GateDecision, check_candidate
from levels.level_3.registry import CHAMPION, VERSION_PATTERN

LEVEL = int(__name__.split(".")[1].removeprefix("level_"))  # carried forward unchanged into level 4


class Override(BaseModel):
    """An explicit, audited way past the gate, for a human (a rollback at 3 a.m., say)."""

    force: bool = False
    reason: str | None = Field(default=None, min_length=10, max_length=500)

    @model_validator(mode="after")
    def force_needs_a_reason(self) -> Override:
        if self.force and not self.reason:
            raise ValueError("force needs a reason (10 characters or more): it is recorded")
        return self


class VariantSpec(BaseModel):
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
    """Every admin action and its gate decision, one JSON line each, synced before the answer goes out."""

    path: Path

    def record(self, entry: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps({"at": time.strftime("%Y-%m-%dT%H:%M:%S"), **entry}, separators=(",", ":")) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)


# [quality_gate]
class Platform:
    """The current deployment, a cache of loaded versions, and the only way to change either."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.variants: list[Variant] = []
        self.unready: str | None = "no model is deployed yet: POST /deployments or /promote (admin)"
        self.audit = AuditLog(settings.level_dir(LEVEL) / "audit.jsonl")
        self._loaded: dict[str, Any] = {}
        self._lock = asyncio.Lock()

    def _load(self, version: str) -> Any:
        from levels.level_3.registry import load_version

        if version not in self._loaded:
            self._loaded[version] = load_version(self.settings, version)
        return self._loaded[version]

    def _champion(self) -> str | None:
        from levels.level_3.registry import resolve_version

        try:
            return str(resolve_version(self.settings, CHAMPION).version)
        except MlopsLevelsError:
            return None

    async def _gate(self, versions: list[str], override: Override, action: str) -> list[GateDecision]:
        from levels.level_3.registry import resolve_version

        for version in versions:  # an unknown version is a 404 before any gate talk [exercise: deploy-gate]
            await asyncio.to_thread(resolve_version, self.settings, version)
        champion = await asyncio.to_thread(self._champion)
        decisions = [await asyncio.to_thread(check_candidate, self.settings, v, champion) for v in versions]
        refused = [d for d in decisions if not d.passed]
        if refused and not override.force:
            self.audit.record({"action": action, "outcome": "refused", "gate": [d.to_dict() for d in decisions]})
            raise GateRefused(refused[0])
        if refused:
            await asyncio.to_thread(self._record_override, refused, override, action)
        return decisions  # [/exercise: deploy-gate]

    def _record_override(self, refused: list[GateDecision], override: Override, action: str) -> None:
        from levels.level_3.registry import registry_client

        note = json.dumps({"reason": override.reason, "action": action, "at": time.strftime("%Y-%m-%dT%H:%M:%S")})
        for decision in refused:
            registry_client(self.settings).set_model_version_tag(
                self.settings.model_name, decision.candidate_version, "gate.override", note
            )

    async def _swap(self, specs: list[VariantSpec]) -> list[Variant]:
        models = [await asyncio.to_thread(self._load, spec.version) for spec in specs]
        self.variants = [Variant(s.name, s.version, s.weight, m) for s, m in zip(specs, models, strict=True)]
        self.unready = None
        return self.variants

    async def deploy(self, spec: DeploymentSpec) -> list[GateDecision]:
        async with self._lock:  # one change at a time; predictions never wait for this lock
            decisions = await self._gate([v.version for v in spec.variants], spec, "deploy")
            await self._swap(spec.variants)
            outcome = "forced" if any(not d.passed for d in decisions) else "passed"
            gate = [d.to_dict() for d in decisions]
            self.audit.record(
                {
                    "action": "deploy",
                    "outcome": outcome,
                    "reason": spec.reason,
                    "gate": gate,
                    "deployed": self.describe(),
                }
            )
            return decisions

    async def promote(self, spec: PromoteSpec) -> GateDecision:
        from levels.level_3.registry import registry_client

        async with self._lock:  # the alias and the traffic move together, or neither does
            [decision] = await self._gate([spec.version], spec, "promote")
            await self._swap([VariantSpec(version=spec.version, weight=1)])
            client = registry_client(self.settings)
            await asyncio.to_thread(client.set_registered_model_alias, self.settings.model_name, CHAMPION, spec.version)
            outcome = "passed" if decision.passed else "forced"
            self.audit.record(
                {
                    "action": "promote",
                    "version": spec.version,
                    "outcome": outcome,
                    "reason": spec.reason,
                    "gate": decision.to_dict(),
                }
            )
            return decision

    async def serve_champion(self) -> None:
        """At start-up: serve the registry's champion if it can be served; otherwise say why not."""
        async with self._lock:
            champion = await asyncio.to_thread(self._champion)
            if champion is None:
                return
            try:
                await self._swap([VariantSpec(version=champion, weight=1)])
            except MlopsLevelsError as exc:
                self.unready = f"champion v{champion} cannot be served: {exc.one_line()}"

    def describe(self) -> list[dict[str, Any]]:
        return [{"name": v.name, "version": v.version, "weight": v.weight} for v in self.variants]
