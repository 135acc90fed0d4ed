"""What a supervisor does to an agent from the wallboard: pause her, or end a session she
forgot (she left without logging out: calls would ring an empty desk).

Supervisors only (admins hold every role); each action is audited with who did it to whom.
The router's desk carries the state out, and tells her page and the wallboard.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from cti.desk import AgentDesk, DeskError
from cti.web.audit_log import audit
from cti.web.auth import Sessions, SupervisorUser
from screenpop.accounts import UserView
from screenpop.hub import AgentHub
from screenpop.messages import AgentStateChanged
from screenpop.text_rules import refusal

router = APIRouter(tags=["supervision"])

PAUSED_BY_SUPERVISION = "Mise en pause par la supervision"
ENDED_BY_SUPERVISION = "session fermée par la supervision : reconnectez-vous"


class PauseForm(BaseModel):
    reason: str | None = Field(default=None, max_length=80)


class AgentActionDone(BaseModel):
    agent: str
    state: str
    message: str  # what the supervisor reads, in French


def _agent_name(request: Request, agent: str) -> str:
    names: dict[str, str] = request.app.state.supervision.names()["agents"]
    return names.get(agent, f"poste {agent}")


async def _apply(
    request: Request, user: UserView, agent: str, state: str, reason: str | None, done: str
) -> str:
    """Sets the state, tells her page, audits ``agent.<state>`` saying who did it; her name."""
    desk: AgentDesk = request.app.state.desk
    try:
        desk.set_agent_state(agent, state, reason)
    except DeskError as exc:
        raise HTTPException(409, str(exc)) from exc
    shown, why = desk.agent_state(agent)
    hub: AgentHub = request.app.state.hub
    hub.send(agent, AgentStateChanged(agent=agent, state=shown, reason=why), keep=False)
    name = _agent_name(request, agent)
    detail = f"{name} (poste {agent}) : {done} par {user.display_name} ({user.username})"
    await audit(request.app.state.pop, user.username, f"agent.{state}", None, detail)
    return name


@router.post("/api/supervision/agents/{agent}/pause")
async def pause_agent(
    agent: str, form: PauseForm, user: SupervisorUser, request: Request
) -> AgentActionDone:
    if form.reason is not None and (why := refusal(form.reason, limit=80)) is not None:
        raise HTTPException(422, f"Champ « motif » refusé : {why}.")
    reason = form.reason or PAUSED_BY_SUPERVISION
    name = await _apply(request, user, agent, "paused", reason, "mise en pause")
    return AgentActionDone(agent=agent, state="paused", message=f"{name} est en pause.")


@router.post("/api/supervision/agents/{agent}/logout")
async def end_agent_session(agent: str, user: SupervisorUser, request: Request) -> AgentActionDone:
    name = await _apply(request, user, agent, "offline", None, "session fermée")
    sessions: Sessions = request.app.state.sessions
    closed = sessions.close_extension(agent, ENDED_BY_SUPERVISION)
    pages = f" ({closed} page{'s' if closed > 1 else ''} fermée{'s' if closed > 1 else ''})"
    told = (
        f"Session de {name} fermée{pages if closed else ''} : plus aucun appel ne lui est proposé."
    )
    return AgentActionDone(agent=agent, state="offline", message=told)
