"""Callbacks over HTTP: the agent's « à rappeler », Accepter / Reporter, the pending list.

Routes are a few lines each: who asks (``cti.web.auth``), then the callbacks desk
(``cti.callbacks``), which owns the work. Errors are told in French; status codes are
chosen here: 404 a request or a call not on the agent's screen, 409 a request no longer hers
to take, 422 a bad number or service.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from cti import callback_store
from cti.callbacks.desk import CallbackDesk
from cti.callbacks.state import NewRequest
from cti.desk import DeskError
from cti.web.auth import AgentUser, SupervisorUser, agent_of, require
from routing.callbacks import figures
from routing.callbacks.request import Source, Window
from screenpop.accounts import Role, UserView
from screenpop.hub import AgentHub
from screenpop.messages import CallbackCard
from screenpop.phones import normalise
from screenpop.text_rules import refusal

router = APIRouter(tags=["callbacks"])

Reader = Annotated[UserView, Depends(require(Role.AGENT, Role.SUPERVISOR))]
PARIS = ZoneInfo("Europe/Paris")

WINDOWS = {
    "ce_matin": Window.MORNING,
    "cet_apres_midi": Window.AFTERNOON,
    "a_la_reouverture": Window.REOPENING,
}


def _desk(request: Request) -> CallbackDesk:
    desk: CallbackDesk | None = getattr(request.app.state, "callbacks", None)
    if desk is None:
        raise HTTPException(503, "Les rappels ne sont pas disponibles sur ce serveur.")
    return desk


Desk = Annotated[CallbackDesk, Depends(_desk)]


class CallbackForm(BaseModel):
    """« À rappeler » from the agent's current call: who to call back, when, and why."""

    note: str = Field(default="", max_length=1000)
    window: Literal["ce_matin", "cet_apres_midi", "a_la_reouverture"] = "a_la_reouverture"
    number: str | None = Field(
        default=None, max_length=40, description="another number than the caller's"
    )


class CallbacksList(BaseModel):
    callbacks: list[CallbackCard]


@router.get("/api/callbacks")
async def pending(user: Reader, desk: Desk) -> CallbacksList:
    """Agents: the pending callbacks of their services; supervisors: every one."""
    services: set[str] | None = None
    if user.role is Role.AGENT:
        extension = user.agent_extension
        services = desk.services_of(extension) if extension is not None else set()
    return CallbacksList(callbacks=[desk.card(r) for r in desk.pending(services)])


@router.post("/api/calls/{call_id}/callback", status_code=201)
async def ask_callback(
    call_id: str, form: CallbackForm, user: AgentUser, desk: Desk, request: Request
) -> CallbackCard:
    """« À rappeler »: a request from the call on the agent's screen (its number, service,
    menu path and citizen), with her note."""
    agent = agent_of(user)
    hub: AgentHub = request.app.state.hub
    card = hub.card_of(agent, call_id)
    if card is None:
        raise HTTPException(404, "Cet appel n'est pas sur votre écran.")
    problem = refusal(form.note, limit=1000, multiline=True)
    if problem is not None:
        raise HTTPException(422, f"note : {problem}")
    number = card.caller.e164 if card.caller.status == "ok" else None
    if form.number:
        typed = normalise(form.number)
        if typed.e164 is None:
            raise HTTPException(422, f"Numéro illisible : « {form.number} ».")
        number = typed.e164
    if number is None:
        raise HTTPException(422, "Numéro masqué ou inconnu : indiquez le numéro à rappeler.")
    new = NewRequest(
        number=number,
        service=card.service or desk.default_service,
        source=Source.AGENT,
        window=WINDOWS[form.window],
        menu_path=tuple(card.ivr_path),
        citizen_id=card.selected_citizen_id,
        note=form.note,
        requested_by=user.username,
        call_id=call_id,
    )
    return desk.card(await desk.request(new, user.username))


@router.post("/api/callbacks/{callback_id}/accept")
async def accept(callback_id: str, user: AgentUser, desk: Desk) -> CallbackCard:
    """« Accepter »: the product calls, the agent's phone first, then the citizen."""
    try:
        return desk.card(await desk.accept(agent_of(user), user.username, callback_id))
    except DeskError as exc:
        raise HTTPException(409, str(exc)) from exc


@router.post("/api/callbacks/{callback_id}/postpone")
async def postpone(callback_id: str, user: AgentUser, desk: Desk) -> CallbackCard:
    """« Reporter »: later, same place in line, no attempt used."""
    try:
        return desk.card(await desk.postpone(agent_of(user), callback_id))
    except DeskError as exc:
        raise HTTPException(409, str(exc)) from exc


class BoardRowOut(BaseModel):
    service: str
    label: str
    waiting: int
    oldest_asked_at: datetime | None
    windows_missed: int
    windows_ending_soon: int


class ReportRowOut(BaseModel):
    service: str
    label: str
    requested: int
    reached: int
    failed: int
    cancelled: int
    expired: int
    open: int
    mean_delay_s: float | None


class ReportOut(BaseModel):
    start: datetime
    end: datetime
    rows: list[ReportRowOut]


@router.get("/api/callbacks/board")
async def board(user: SupervisorUser, desk: Desk) -> list[BoardRowOut]:
    """The wallboard's callbacks: per service, how many wait, the oldest, windows missed or
    ending within 30 minutes."""
    rows = figures.board(desk.pending(), datetime.now(UTC))
    return [BoardRowOut(label=desk.service_label(r.service), **_fields(r)) for r in rows]


@router.get("/api/callbacks/report")
async def report(
    user: SupervisorUser,
    desk: Desk,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
) -> ReportOut:
    """Requests asked in the period (default: the last 7 days; a time without zone is Paris
    time): requested, reached, failed, cancelled, expired, open, mean delay to reach her."""
    until = _paris(end) if end is not None else datetime.now(PARIS)
    since = _paris(start) if start is not None else until - timedelta(days=7)
    if since >= until:
        raise HTTPException(422, "La période est vide : « du » doit précéder « au ».")
    found = await asyncio.to_thread(callback_store.between, desk.db, since, until)
    rows = [
        ReportRowOut(label=desk.service_label(r.service), **_fields(r))
        for r in figures.report(found)
    ]
    return ReportOut(start=since, end=until, rows=rows)


def _paris(value: datetime) -> datetime:
    return value.replace(tzinfo=PARIS) if value.tzinfo is None else value.astimezone(PARIS)


def _fields(row: figures.BoardRow | figures.ReportRow) -> dict[str, object]:
    return {name: getattr(row, name) for name in row.__slots__}
