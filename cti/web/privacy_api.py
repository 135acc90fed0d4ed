"""RGPD right of access over HTTP: ``GET /api/admin/citizens/{id}/export`` (admins).

The work is ``cti.citizen_export``; this route only checks who asks and picks the status.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request

from cti.citizen_export import CitizenExport, export_and_audit
from cti.db import Database
from cti.web.auth import require
from screenpop.accounts import Role, UserView
from screenpop.errors import CitizenNotFound

router = APIRouter(tags=["rgpd"])

AdminUser = Annotated[UserView, Depends(require(Role.ADMIN))]


@router.get("/api/admin/citizens/{citizen_id}/export")
async def citizen_export(citizen_id: int, user: AdminUser, request: Request) -> CitizenExport:
    db: Database = request.app.state.database
    try:
        return await asyncio.to_thread(
            export_and_audit, db, citizen_id, user.username, datetime.now(UTC)
        )
    except CitizenNotFound as exc:
        raise HTTPException(404, f"Export impossible : {exc}.") from exc
