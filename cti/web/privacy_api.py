"""RGPD right of access over HTTP: ``GET /api/admin/citizens/{id}/export`` (admins).

The work is ``cti.citizen_export``; this route only checks who asks and picks the status.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse

from cti.accounts.admin import accounts
from cti.citizen_export import CitizenExport, export_and_audit
from cti.citizen_export_html import render
from cti.db import Database
from cti.staff_identity import Staff
from cti.web.auth import AdminUser
from screenpop.accounts import UserView
from screenpop.errors import CitizenNotFound
from screenpop.pop import ScreenPop

router = APIRouter(tags=["rgpd"])


async def _export(citizen_id: int, user: UserView, request: Request) -> CitizenExport:
    db: Database = request.app.state.database
    try:
        return await asyncio.to_thread(
            export_and_audit, db, citizen_id, user.username, datetime.now(UTC)
        )
    except CitizenNotFound as exc:
        raise HTTPException(404, f"Export impossible : {exc}.") from exc


@router.get("/api/admin/citizens/{citizen_id}/export")
async def citizen_export(
    citizen_id: int, user: AdminUser, request: Request, response: Response, download: bool = False
) -> CitizenExport:
    """``download``: as a file to save (a link on the audit page: one click)."""
    data = await _export(citizen_id, user, request)
    if download:
        response.headers["Content-Disposition"] = (
            f'attachment; filename="administre-{citizen_id}.json"'
        )
    return data


@router.get("/api/admin/citizens/{citizen_id}/export.html", response_class=HTMLResponse)
async def citizen_export_page(citizen_id: int, user: AdminUser, request: Request) -> HTMLResponse:
    """The same export as a page the citizen reads and prints (audited the same way)."""
    data = await _export(citizen_id, user, request)
    pop: ScreenPop = request.app.state.pop
    db: Database = request.app.state.database
    staff = Staff.of_accounts(await asyncio.to_thread(accounts, db))

    def who(author: str) -> str:
        person = staff.of(author)
        if person is not None:
            return person.name
        if author.startswith("poste "):
            return pop.names.agent(author.removeprefix("poste "))
        return "l'administration de la mairie"

    return HTMLResponse(render(data, pop.names, who))
