"""The routing configuration in force, kept in the database with every earlier version.

A YAML file seeds the first version (``CTI_ROUTING_CONFIG``, the demo's ``routing/demo.yaml``
by default); after that the database is the reference and the API saves new versions. Every
version is validated by ``routing.config`` before it is stored: nothing invalid is saved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, select

from cti.db import Database
from routing.config import RoutingConfig, load_config, parse_config
from screenpop.models import RoutingConfigVersion


@dataclass(frozen=True, slots=True)
class StoredConfig:
    version: int
    created_at: datetime
    author: str
    comment: str
    config: RoutingConfig


def _stored(row: RoutingConfigVersion) -> StoredConfig:
    config = parse_config(row.document, f"routing configuration version {row.id}")
    return StoredConfig(row.id, row.created_at, row.author, row.comment, config)


def current(db: Database) -> StoredConfig | None:
    return next(iter(history(db, limit=1)), None)


def version(db: Database, number: int) -> StoredConfig | None:
    with db.session() as session:
        row = session.get(RoutingConfigVersion, number)
        return None if row is None else _stored(row)


def save(
    db: Database,
    config: RoutingConfig,
    author: str,
    comment: str = "",
    fence: Callable[[Connection], None] | None = None,
) -> StoredConfig:
    """A new version, in force. ``fence`` (several nodes): only the router in charge, which
    applies it, may publish it; raises ``NotLeader`` on a deposed one (its engine would be
    the only one to run it while the database called it current)."""
    with db.session() as session, session.begin():
        if fence is not None:
            fence(session.connection())
        row = RoutingConfigVersion(
            author=author, comment=comment[:200], document=config.model_dump(mode="json")
        )
        session.add(row)
        session.flush()
        return _stored(row)


def history(db: Database, limit: int = 50) -> list[StoredConfig]:
    """Newest first."""
    with db.session() as session:
        rows = session.scalars(
            select(RoutingConfigVersion).order_by(RoutingConfigVersion.id.desc()).limit(limit)
        ).all()
        return [_stored(row) for row in rows]


def ensure(db: Database, seed: Path) -> StoredConfig:
    """The configuration in force, seeding it from ``seed`` the first time."""
    stored = current(db)
    if stored is None:
        stored = save(db, load_config(seed), "installation", f"chargée depuis {seed.name}")
    return stored
