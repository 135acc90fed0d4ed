"""Reading the audit trail: who opened which citizen's card, changed what, exported whom.

Entries are written where the action happens (``Directory.audit``); this module only reads
them back, filtered, newest first, for the audit page and the right-of-access export.
Actions in use: ``login``, ``login.failed``, ``card.open`` (one per citizen shown),
``citizen.search`` (the query and the ids found), ``citizen.create``,
``routing.update``, ``ivr.publish``, ``hours.update``, ``retention.run``, ``citizen.export``,
and for staff accounts (``cti.accounts.admin``) ``user.create``, ``user.disable``, ``user.enable``,
``user.role``, ``user.extension``, ``user.password.reset``, ``user.first_admin``,
``password.change``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from cti.db import Database
from screenpop.models import AuditEntry

SYSTEM_USER = "système"  # author of the entries written by commands, not by a person


@dataclass(frozen=True, slots=True)
class AuditFilter:
    since: datetime | None = None
    until: datetime | None = None
    username: str | None = None
    citizen_id: int | None = None
    action: str | None = None
    limit: int = 500
    # Any of these authors (one person: her login and her phone) / citizens (found by name).
    usernames: tuple[str, ...] = ()
    citizen_ids: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    at: datetime
    username: str
    action: str
    citizen_id: int | None
    detail: str


def _utc(value: datetime) -> datetime:
    # SQLite gives naive datetimes back; everything stored is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def entries(db: Database, wanted: AuditFilter) -> list[AuditRecord]:
    """Entries matching ``wanted``, newest first, at most ``wanted.limit``."""
    query = select(AuditEntry)
    if wanted.since is not None:
        query = query.where(AuditEntry.at >= wanted.since)
    if wanted.until is not None:
        query = query.where(AuditEntry.at < wanted.until)
    if wanted.username:
        query = query.where(AuditEntry.username == wanted.username)
    if wanted.usernames:
        query = query.where(AuditEntry.username.in_(wanted.usernames))
    if wanted.citizen_id is not None:
        query = query.where(AuditEntry.citizen_id == wanted.citizen_id)
    if wanted.citizen_ids is not None:
        query = query.where(AuditEntry.citizen_id.in_(wanted.citizen_ids))
    if wanted.action:
        query = query.where(AuditEntry.action == wanted.action)
    query = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(wanted.limit)
    with db.session() as session, session.begin():
        return [
            AuditRecord(_utc(row.at), row.username, row.action, row.citizen_id, row.detail)
            for row in session.scalars(query)
        ]
