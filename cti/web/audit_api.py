"""The audit trail over HTTP: ``GET /api/audit`` (admins) and its page ``/audit``.

Admins only, supervisors not: the trail is how the town hall checks who looked at which
citizen, supervisors included, and it is itself personal data about the staff.
The page is a static shell without data (it asks for a login like the agent's page); every
entry comes from the API.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel

from cti.audit_trail import AuditFilter, entries
from cti.db import Database
from cti.web.audit_log import read_after_writes
from cti.web.auth import require
from screenpop.accounts import Role, UserView
from screenpop.errors import DatabaseUnavailable
from screenpop.pop import ScreenPop

router = APIRouter(tags=["audit"])
STATIC = Path(__file__).parent / "static"

AdminUser = Annotated[UserView, Depends(require(Role.ADMIN))]


class AuditEntryOut(BaseModel):
    at: datetime
    username: str
    action: str
    citizen_id: int | None
    detail: str


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    # A date without zone from the page's date field is read as UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@router.get("/api/audit")
async def audit_entries(
    user: AdminUser,
    request: Request,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
    username: Annotated[str | None, Query(alias="user", max_length=80)] = None,
    citizen: int | None = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[AuditEntryOut]:
    since, until = _utc(since), _utc(until)
    if since is not None and until is not None and until <= since:
        raise HTTPException(422, "La fin de la période doit être après son début.")
    db: Database = request.app.state.database
    wanted = AuditFilter(since, until, username or None, citizen, action or None, limit)
    pop: ScreenPop | None = getattr(request.app.state, "pop", None)
    if pop is None:
        found = await asyncio.to_thread(entries, db, wanted)
    else:  # the entries still on their way to the database are read too
        try:
            found = await read_after_writes(pop, lambda: entries(db, wanted))
        except DatabaseUnavailable as exc:
            raise HTTPException(503, str(exc)) from exc
    return [
        AuditEntryOut(
            at=e.at, username=e.username, action=e.action, citizen_id=e.citizen_id, detail=e.detail
        )
        for e in found
    ]


@router.get("/audit", include_in_schema=False)
async def audit_page() -> FileResponse:
    return FileResponse(STATIC / "audit.html")
