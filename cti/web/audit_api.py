"""The audit trail over HTTP: ``GET /api/audit`` (admins) and its page ``/audit``.

Admins only, supervisors not: the trail is how the town hall checks who looked at which
citizen, supervisors included, and it is itself personal data about the staff.
The page is a static shell without data (it asks for a login like the agent's page); every
entry comes from the API, with one identity per member of staff (``cti.staff_identity``: her
name, login and phone, whether the entry was written under her login or her phone) and the
citizen by name. Staff are found by login, name or phone; citizens by name or number.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel

from cti.accounts.admin import accounts
from cti.audit_trail import AuditFilter, AuditRecord, entries
from cti.db import Database
from cti.staff_identity import Staff
from cti.web.audit_log import read_after_writes
from cti.web.auth import AdminUser
from screenpop.directory import Directory
from screenpop.errors import DatabaseUnavailable
from screenpop.pop import ScreenPop
from screenpop.text_rules import shown

router = APIRouter(tags=["audit"])
STATIC = Path(__file__).parent / "static"


class AuditEntryOut(BaseModel):
    at: datetime
    username: str
    who: str  # « Marie Lambert (marie, poste 201) »
    action: str
    citizen_id: int | None
    citizen_name: str | None  # « madame Jeanne Dupont »; None: none, or no longer known
    detail: str


CITIZENS_BY_NAME = 20  # a name matching more is too vague: the page says so


def _citizen_names(directory: Directory, ids: set[int]) -> dict[int, str]:
    names = {}
    for citizen_id in ids:
        c = directory.citizen(citizen_id)
        if c is not None:
            names[citizen_id] = " ".join(
                shown(p) for p in (c.civility, c.first_name, c.last_name) if p
            )
    return names


def _detail(entry: AuditRecord) -> str:
    # Entries written before a creation outside a call was said in words.
    return "hors appel" if entry.detail == "appel None" else entry.detail


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
    citizen: Annotated[str | None, Query(max_length=100)] = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[AuditEntryOut]:
    since, until = _utc(since), _utc(until)
    if since is not None and until is not None and until <= since:
        raise HTTPException(422, "La fin de la période doit être après son début.")
    db: Database = request.app.state.database
    directory: Directory = request.app.state.directory
    staff = Staff.of_accounts(await asyncio.to_thread(accounts, db))
    authors = staff.authors(username) if username and username.strip() else ()
    citizen_ids: tuple[int, ...] | None = None
    citizen_id = None
    if citizen and citizen.strip().isdigit():
        citizen_id = int(citizen.strip())
    elif citizen and citizen.strip():
        found_citizens = await asyncio.to_thread(
            directory.search, citizen.strip(), CITIZENS_BY_NAME
        )
        citizen_ids = tuple(c.id for c in found_citizens)
    wanted = AuditFilter(
        since,
        until,
        None,
        citizen_id,
        action or None,
        limit,
        usernames=authors,
        citizen_ids=citizen_ids,
    )
    pop: ScreenPop | None = getattr(request.app.state, "pop", None)
    if pop is None:
        found = await asyncio.to_thread(entries, db, wanted)
    else:  # the entries still on their way to the database are read too
        try:
            found = await read_after_writes(pop, lambda: entries(db, wanted))
        except DatabaseUnavailable as exc:
            raise HTTPException(503, str(exc)) from exc
    ids = {e.citizen_id for e in found if e.citizen_id is not None}
    names = await asyncio.to_thread(_citizen_names, directory, ids)
    return [
        AuditEntryOut(
            at=e.at,
            username=e.username,
            who=staff.label(e.username),
            action=e.action,
            citizen_id=e.citizen_id,
            citizen_name=names.get(e.citizen_id) if e.citizen_id is not None else None,
            detail=_detail(e),
        )
        for e in found
    ]


@router.get("/audit", include_in_schema=False)
async def audit_page() -> FileResponse:
    return FileResponse(STATIC / "audit.html")
