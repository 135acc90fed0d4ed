"""Transfers from the agent's page: whom she can pass the call to, and the transfer itself.

A colleague by name or a service by label, each shown with who is free, on the phone or
paused (``cti.transfer_targets``); blind (the colleague's phone rings with the card) or
attended (Asterisk's Atxfer: she talks to the colleague first, then hangs up to hand the
citizen over). A service goes to its free colleague idle the longest; with nobody free, a
blind transfer puts the citizen in the service's wait (« mettre en attente »), where the
next agent of that service takes her with the notes, as any caller waiting for it.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field, model_validator

from cti.desk import AgentDesk, DeskError
from cti.transfer_targets import ServiceTarget, TransferTargets, can_wait_for
from cti.web.agent_api import Desk, DeskUser
from cti.web.auth import agent_of

router = APIRouter()


class ColleagueOut(BaseModel):
    agent: str
    name: str
    availability: Literal["free", "on_call", "paused", "front_desk", "offline"]
    label: str  # « Libre », « En communication »...
    services: list[str]


class ServiceOut(BaseModel):
    service: str
    label: str
    free: int  # colleagues free to take it now
    waiting: int  # callers waiting for it now
    # Nobody free: what a transfer does. « wait »: she waits for the service; « overflow »:
    # nobody logged in could ever take her, the wait hands her to ``overflow`` at once;
    # « none »: the service cannot take a waiting transfer (its name, see the dialplan).
    when_busy: Literal["wait", "overflow", "none"]
    overflow: Literal["voicemail", "callback", "service"]


class TargetsOut(BaseModel):
    colleagues: list[ColleagueOut]
    services: list[ServiceOut]


class TransferForm(BaseModel):
    to_agent: str | None = Field(default=None, pattern=r"^[0-9]{2,8}$")
    to_service: str | None = Field(default=None, max_length=64)
    attended: bool = False

    @model_validator(mode="after")
    def _one_target(self) -> TransferForm:
        if (self.to_agent is None) == (self.to_service is None):
            raise ValueError("un collègue ou un service, pas les deux")
        return self


class TransferDone(BaseModel):
    to_agent: str | None  # None: put in the service's wait
    to_name: str  # the colleague, or the service's label when she waits for it
    attended: bool
    queued: bool = False  # the citizen waits for the service (nobody was free)
    waiting: int = 0  # callers who were already waiting for it


def _out(targets: TransferTargets) -> TargetsOut:
    return TargetsOut(
        colleagues=[
            ColleagueOut(
                agent=c.agent,
                name=c.name,
                availability=c.availability.value,
                label=c.label,
                services=list(c.services),
            )
            for c in targets.colleagues
        ],
        services=[
            ServiceOut(
                service=s.service,
                label=s.label,
                free=len(s.free),
                waiting=s.waiting,
                when_busy=_when_busy(s),
                overflow=s.overflow.value,
            )
            for s in targets.services
        ],
    )


def _when_busy(service: ServiceTarget) -> Literal["wait", "overflow", "none"]:
    if not can_wait_for(service.service):
        return "none"
    return "wait" if service.staffed else "overflow"


@router.get("/api/agent/transfer-targets", tags=["agent"])
async def transfer_targets(user: DeskUser, desk: Desk) -> TargetsOut:
    try:
        return _out(desk.transfer_targets(agent_of(user)))
    except DeskError as exc:
        raise HTTPException(409, str(exc)) from exc


@router.post("/api/calls/{call_id}/transfer", tags=["agent"])
async def transfer(call_id: str, form: TransferForm, user: DeskUser, desk: Desk) -> TransferDone:
    me = agent_of(user)
    try:
        targets = desk.transfer_targets(me)
        to_agent = form.to_agent
        if form.to_service is not None:
            service = next((s for s in targets.services if s.service == form.to_service), None)
            if service is None:
                raise HTTPException(422, f"Service « {form.to_service} » inconnu.")
            if not service.free:
                return await _to_the_wait(call_id, me, service, form.attended, desk)
            to_agent = service.free[0]
        assert to_agent is not None
        await desk.transfer(call_id, me, to_agent, attended=form.attended)
    except DeskError as exc:
        raise HTTPException(409, str(exc)) from exc
    names = {c.agent: c.name for c in targets.colleagues}
    return TransferDone(
        to_agent=to_agent, to_name=names.get(to_agent, f"poste {to_agent}"), attended=form.attended
    )


async def _to_the_wait(
    call_id: str, me: str, service: ServiceTarget, attended: bool, desk: AgentDesk
) -> TransferDone:
    """Nobody free at ``service``: the citizen waits for it (blind only: presenting the call
    needs a colleague on the line)."""
    if attended:
        raise HTTPException(
            409,
            f"Personne n'est libre au service {service.label} pour présenter l'appel : "
            "« Transférer » le met en attente pour ce service.",
        )
    if not can_wait_for(service.service):
        raise HTTPException(
            409,
            f"Personne n'est libre au service {service.label} pour le moment : "
            "choisissez un collègue ou proposez un rappel.",
        )
    await desk.transfer_to_service(call_id, me, service.service)
    return TransferDone(
        to_agent=None, to_name=service.label, attended=False, queued=True, waiting=service.waiting
    )
