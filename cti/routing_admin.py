"""Changing the routing configuration while calls flow, and reading the router's live state.

A new configuration is validated (``routing.config``), checked against what the running
product needs (the default service must exist), saved as a new version, then applied at
once: the router swaps its engine, carrying agents and waiting calls over, and the service
labels shown on the cards follow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, MutableMapping
from typing import Any

from sqlalchemy import Connection

from cti import routing_store
from cti.db import Database
from cti.router import RouterShell
from cti.routing_store import StoredConfig
from routing.config import RoutingConfig, parse_config
from routing.engine import RoutingEngine
from routing.errors import ConfigError
from screenpop.directory import Directory


class RoutingAdmin:
    def __init__(
        self,
        db: Database,
        router: RouterShell,
        labels: MutableMapping[str, str],
        default_service: str,
    ) -> None:
        self.db = db
        self.router = router
        self.labels = labels
        self.default_service = default_service
        self._lock = asyncio.Lock()
        #: Several nodes: the router's lease, checked by the publication's transaction.
        self.fence: Callable[[Connection], None] | None = None

    def validate(self, document: Any) -> RoutingConfig:
        """Raises ``ConfigError`` naming the field at fault."""
        config = parse_config(document, "configuration du routage")
        if self.default_service not in config.services:
            raise ConfigError(
                f"configuration du routage: services: le service {self.default_service!r} "
                "(CTI_DEFAULT_SERVICE, où vont les appels sans choix de menu) doit exister",
                field="services",
            )
        return config

    def apply(self, config: RoutingConfig) -> None:
        self.router.reload(RoutingEngine(config))
        self.labels.clear()
        self.labels.update({name: spec.label for name, spec in config.services.items()})

    async def current(self) -> StoredConfig:
        stored = await asyncio.to_thread(routing_store.current, self.db)
        if stored is None:  # the product seeds a version at start
            raise ConfigError("aucune configuration du routage enregistrée")
        return stored

    async def versions(self) -> list[StoredConfig]:
        return await asyncio.to_thread(routing_store.history, self.db)

    async def update(self, document: Any, author: str, comment: str) -> StoredConfig:
        config = self.validate(document)
        async with self._lock:
            stored = await asyncio.to_thread(
                routing_store.save, self.db, config, author, comment, self.fence
            )
            self.apply(stored.config)
        detail = f"version {stored.version}" + (f" : {comment}" if comment else "")
        await asyncio.to_thread(Directory(self.db).audit, author, "routing.update", None, detail)
        return stored

    async def restore(self, version: int, author: str) -> StoredConfig:
        old = await asyncio.to_thread(routing_store.version, self.db, version)
        if old is None:
            raise KeyError(version)
        return await self.update(
            old.config.model_dump(mode="json"), author, f"retour à la version {version}"
        )

    def agents(self) -> list[dict[str, Any]]:
        return [
            {
                "agent": view.agent,
                "name": view.name,
                "state": view.state.value,
                "reason": view.reason,
                "skills": dict(view.skills),
                "missed_offers": view.missed_offers,
                "phone_busy": view.phone_busy,
                "call_id": view.call_id,
                "service": view.service,
            }
            for view in self.router.engine.agents()
        ]

    def queues(self) -> dict[str, list[dict[str, Any]]]:
        engine = self.router.engine
        return {
            name: [
                {
                    "call_id": w.call_id,
                    "priority": w.priority,
                    "since": w.since,
                    "position": w.position,
                    "reserved_for": w.reserved_for,
                }
                for w in engine.waiting(name)
            ]
            for name in engine.config.services
        }
