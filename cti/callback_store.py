"""Callback requests in the database: written exactly once, moved by compare-and-set.

Theory of operation: ``add`` inserts a request under its id and does nothing if the id is
already there (a retried write never makes two). ``move`` writes a request's new state only
if the row is still in the state the caller read (same state, same attempt count): two
writers never both win, and the one who loses is told (False) and must not act. The shell
commits ``dialling`` (with the attempt's ActionID) through ``move`` *before* sending the
Originate, so a product killed between the two finds the request dialling after its restart
and never dials it a second time. Everything here is blocking: call it in a thread.

Several nodes: a move is the active router's decision and is fenced by its lease (``fence``):
a deposed router loses the compare-and-set whatever the row says. ``add`` is not: a citizen
who asked the menu to be called back did ask, whichever node heard her.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select, update
from sqlalchemy.exc import IntegrityError

from cti.db import Database
from routing.callbacks.request import (
    FINAL,
    CallbackRequest,
    CallbackState,
    Source,
    Window,
)
from screenpop.models import AuditEntry, CallbackRow


def _utc(value: datetime | None) -> datetime | None:
    # SQLite gives naive datetimes back; everything stored is UTC.
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _request(row: CallbackRow) -> CallbackRequest:
    asked = _utc(row.asked_at)
    start = _utc(row.window_start)
    assert asked is not None and start is not None
    return CallbackRequest(
        id=row.id,
        number=row.number,
        service=row.service,
        asked_at=asked,
        window=Window(row.window),
        window_start=start,
        window_end=_utc(row.window_end),
        source=Source(row.source),
        menu_path=tuple(row.menu_path or ()),
        citizen_id=row.citizen_id,
        note=row.note or "",
        requested_by=row.requested_by,
        call_id=row.call_id,
        state=CallbackState(row.state),
        attempts=row.attempts,
        not_before=_utc(row.not_before),
        agent=row.agent,
        action_id=row.action_id,
        outcome=row.outcome,
        updated_at=_utc(row.updated_at),
    )


def _values(request: CallbackRequest) -> dict[str, object]:
    return {
        "number": request.number,
        "service": request.service,
        "asked_at": request.asked_at,
        "window": request.window.value,
        "window_start": request.window_start,
        "window_end": request.window_end,
        "source": request.source.value,
        "menu_path": list(request.menu_path),
        "citizen_id": request.citizen_id,
        "note": request.note,
        "requested_by": request.requested_by,
        "call_id": request.call_id,
        "state": request.state.value,
        "attempts": request.attempts,
        "not_before": request.not_before,
        "agent": request.agent,
        "action_id": request.action_id,
        "outcome": request.outcome,
        "updated_at": request.updated_at or request.asked_at,
    }


def _audit_row(audit: Audit) -> AuditEntry:
    """The audit entry written in the same transaction as the request's change."""
    return AuditEntry(
        username=audit.username,
        action=audit.action,
        citizen_id=audit.citizen_id,
        detail=audit.detail,
    )


def add(db: Database, request: CallbackRequest, audit: Audit | None = None) -> bool:
    """Store a new request; False (and nothing written) if its id is already stored."""
    with db.session() as session:
        if session.get(CallbackRow, request.id) is not None:
            return False
        session.add(CallbackRow(id=request.id, **_values(request)))
        if audit is not None:
            session.add(_audit_row(audit))
        try:
            session.commit()
        except IntegrityError:  # the same id written meanwhile by another writer
            session.rollback()
            return False
    return True


@dataclass(frozen=True, slots=True)
class Audit:
    """An audit-trail entry written in the same transaction as the move it records."""

    username: str
    action: str
    citizen_id: int | None
    detail: str


def move(
    db: Database,
    before: CallbackRequest,
    after: CallbackRequest,
    audit: Audit | None = None,
    fence: Callable[[Connection], None] | None = None,
) -> bool:
    """Write ``after`` if the row is still ``before`` (state and attempts); else False.
    ``audit`` is written with it, or not at all. ``fence`` (several nodes): the router's
    lease, checked in the same transaction; raises ``NotLeader`` once another node leads."""
    with db.session() as session, session.begin():
        if fence is not None:
            fence(session.connection())
        result = session.execute(
            update(CallbackRow)
            .where(
                CallbackRow.id == before.id,
                CallbackRow.state == before.state.value,
                CallbackRow.attempts == before.attempts,
            )
            .values(**_values(after))
        )
        if getattr(result, "rowcount", 0) != 1:
            return False
        if audit is not None:
            session.add(_audit_row(audit))
        return True


def get(db: Database, request_id: str) -> CallbackRequest | None:
    with db.session() as session:
        row = session.get(CallbackRow, request_id)
        return _request(row) if row is not None else None


def open_requests(db: Database) -> list[CallbackRequest]:
    """Every request not final, oldest first (what a restart routes again)."""
    finals = [state.value for state in FINAL]
    query = (
        select(CallbackRow)
        .where(CallbackRow.state.not_in(finals))
        .order_by(CallbackRow.asked_at, CallbackRow.id)
    )
    with db.session() as session:
        return [_request(row) for row in session.scalars(query)]


def between(db: Database, since: datetime, until: datetime) -> list[CallbackRequest]:
    """Requests asked in [since, until), oldest first (reports)."""
    query = (
        select(CallbackRow)
        .where(CallbackRow.asked_at >= since, CallbackRow.asked_at < until)
        .order_by(CallbackRow.asked_at, CallbackRow.id)
    )
    with db.session() as session:
        return [_request(row) for row in session.scalars(query)]


@dataclass(frozen=True, slots=True)
class StateCount:
    state: CallbackState
    count: int


def count_by_state(db: Database) -> list[StateCount]:
    query = select(CallbackRow.state, func.count()).group_by(CallbackRow.state)
    with db.session() as session:
        return [StateCount(CallbackState(s), int(n)) for s, n in session.execute(query)]
