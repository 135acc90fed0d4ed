"""A citizen's file opened from the desk's search, outside any call.

Audited as a card is (``card.open``), saying it was opened outside a call: the right of
access lists it like any other look at her file.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException

from cti.web.agent_api import Dir, Pop
from cti.web.audit_log import audit
from cti.web.auth import AgentUser
from screenpop.citizen_file import citizen_file
from screenpop.messages import CitizenItem

router = APIRouter()


@router.get("/api/citizens/{citizen_id}", tags=["directory"])
async def open_file(citizen_id: int, user: AgentUser, directory: Dir, pop: Pop) -> CitizenItem:
    found = await asyncio.to_thread(citizen_file, directory, pop.names, citizen_id)
    if found is None:
        raise HTTPException(404, "Administré introuvable (fiche supprimée ?).")
    # Through the writer: held while the database is away, never lost (cti.web.audit_log).
    await audit(pop, user.username, "card.open", citizen_id, "fiche ouverte hors appel")
    return found
