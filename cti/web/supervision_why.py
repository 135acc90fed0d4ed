"""Why the routing engine did what it did with a call, for supervisors.

Route: ``GET /api/supervision/calls/{call_id}/why`` (supervisors and admins). The explanation
is ``routing.explain``'s, read from the engine for a call that waits or rings, or the one the
router kept when it last offered the call (answered since); the wallboard's « Pourquoi ? »
shows it.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from cti.web.auth import SupervisorUser
from cti.web.supervision_api import Feed
from routing.explain import CallExplanation

router = APIRouter(tags=["supervision"])


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class AgentReasonOut(_Model):
    agent: str
    name: str
    verdict: Literal["chosen", "set_aside"]
    reason: str = Field(description="in French, for supervisors")


class WhyOut(_Model):
    """The requirement in force, the rule that chose (or why nobody), each agent's reason."""

    call_id: str
    service: str
    service_label: str
    stage: Literal["waiting", "held", "ringing", "offered"] = Field(
        description="offered: no longer in the queue (answered...): its last offer explained"
    )
    waited_s: float
    requirement: str
    decision: str
    agents: list[AgentReasonOut]
    at: float = Field(description="the routing engine's time of the explanation")


def why_out(why: CallExplanation) -> WhyOut:
    return WhyOut(
        call_id=why.call_id,
        service=why.service,
        service_label=why.service_label,
        stage=why.stage.value,
        waited_s=why.waited_s,
        requirement=why.requirement,
        decision=why.decision,
        agents=[
            AgentReasonOut(agent=r.agent, name=r.name, verdict=r.verdict.value, reason=r.reason)
            for r in why.agents
        ],
        at=why.at,
    )


@router.get("/api/supervision/calls/{call_id}/why")
async def why_this_call(call_id: str, user: SupervisorUser, feed: Feed) -> WhyOut:
    why = feed.why(call_id)
    if why is None:
        raise HTTPException(404, "Cet appel n'est pas (ou plus) dans les files : rien à expliquer.")
    return why_out(why)
