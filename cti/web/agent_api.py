"""The agent's desk over HTTP and WebSocket: log in, set a state, receive cards, take notes.

Routes are a few lines each: they check who asks (``cti.web.auth``) and call the screen pop
service, the directory or the router's desk, which own the work. Status codes are chosen
here and only here.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response, WebSocket
from pydantic import BaseModel, Field
from starlette.websockets import WebSocketDisconnect

from cti.desk import AgentDesk, DeskError
from cti.web.audit_log import audit
from cti.web.auth import (
    COOKIE,
    AgentUser,
    CurrentSession,
    Sessions,
    SocketRefused,
    agent_of,
    refuse_socket,
    socket_guard,
    websocket_agent,
)
from cti.web.login_limits import LoginLimits
from cti.web.relay import relay
from cti.web.transport import client_address, cookie_secure
from screenpop import accounts
from screenpop.accounts import UserView
from screenpop.card import address_line, phone_display
from screenpop.directory import CitizenView, Directory
from screenpop.errors import DatabaseUnavailable, ScreenPopError
from screenpop.hub import AgentHub
from screenpop.messages import AgentStateChanged, Hello, agent_message_schema
from screenpop.phones import normalise
from screenpop.pop import NotYourCall, ScreenPop
from screenpop.text_rules import refusal, shown

router = APIRouter()


def _desk_user(user: AgentUser) -> UserView:
    agent_of(user)  # as a dependency: a user without a phone is refused before the form is read
    return user


# Routes acting on "my phone, my call": the user must have an extension.
DeskUser = Annotated[UserView, Depends(_desk_user)]

DISPOSITIONS = [
    "Renseignement donné",
    "Rendez-vous pris",
    "Dossier mis à jour",
    "Pièce manquante signalée",
    "Transféré à un autre service",
    "Rappel à prévoir",
    "Réclamation",
    "Erreur de numéro",
]

AGENT_STATES = {
    "ready": "Prêt",
    "paused": "Pause",
    "front_desk": "Au guichet",
    "offline": "Déconnecté",
}


class LoginForm(BaseModel):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=200)


class Me(BaseModel):
    username: str
    display_name: str
    role: str
    agent: str | None
    csrf: str
    state: str | None = None
    reason: str | None = None
    # A one-time password: until POST /api/password, every other route answers 403.
    password_change_required: bool = False


class StateForm(BaseModel):
    state: Literal["ready", "paused", "front_desk", "offline"]
    reason: str | None = Field(default=None, max_length=80)


class NoteForm(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class DispositionForm(BaseModel):
    disposition: str = Field(
        min_length=1, max_length=120, description="un des motifs de /api/agent/dispositions"
    )


class CitizenPick(BaseModel):
    citizen_id: int


class NewCitizen(BaseModel):
    civility: Literal["madame", "monsieur"] | None = None
    last_name: str = Field(min_length=1, max_length=120)
    first_name: str | None = Field(default=None, max_length=120)
    phone: str | None = Field(default=None, max_length=40)
    address: str | None = Field(default=None, max_length=200)
    postal_code: str | None = Field(default=None, max_length=10)
    city: str | None = Field(default=None, max_length=120)
    email: str | None = Field(default=None, max_length=200)
    call_id: str | None = Field(default=None, description="attach this call to her")


class CitizenOut(BaseModel):
    id: int
    civility: str | None
    last_name: str
    first_name: str | None
    city: str | None
    phones: list[str]
    # What tells namesakes apart, as people read it.
    address: str | None = None
    phones_display: list[str] = []


def _citizen_out(c: CitizenView) -> CitizenOut:
    return CitizenOut(
        id=c.id,
        civility=c.civility,
        last_name=shown(c.last_name),
        first_name=None if c.first_name is None else shown(c.first_name),
        city=None if c.city is None else shown(c.city),
        phones=list(c.phones),
        address=address_line(c),
        phones_display=[phone_display(p) for p in c.phones],
    )


def _check_texts(*, multiline: bool = False, **fields: tuple[str | None, int]) -> None:
    """422 naming the first field too long or holding invisible control or bidi characters
    (``screenpop.text_rules``); pydantic's own errors would be in English."""
    for name, (text, limit) in fields.items():
        if text is not None:
            why = refusal(text, limit=limit, multiline=multiline)
            if why is not None:
                raise HTTPException(422, f"Champ « {name.replace('_', ' ')} » refusé : {why}.")


def _pop(request: Request) -> ScreenPop:
    pop: ScreenPop = request.app.state.pop
    return pop


def _desk(request: Request) -> AgentDesk:
    desk: AgentDesk = request.app.state.desk
    return desk


def _directory(request: Request) -> Directory:
    directory: Directory = request.app.state.directory
    return directory


Pop = Annotated[ScreenPop, Depends(_pop)]
Desk = Annotated[AgentDesk, Depends(_desk)]
Dir = Annotated[Directory, Depends(_directory)]


def _me(session_user: UserView, csrf: str, desk: AgentDesk) -> Me:
    state = reason = None
    if session_user.agent_extension is not None:
        try:
            state, reason = desk.agent_state(session_user.agent_extension)
        except DeskError:  # a new account whose phone the routing does not know yet
            state = reason = None
    return Me(
        username=session_user.username,
        display_name=session_user.display_name,
        role=session_user.role.value,
        agent=session_user.agent_extension,
        csrf=csrf,
        state=state,
        reason=reason,
        password_change_required=session_user.must_change_password,
    )


@router.post("/api/login", tags=["session"])
async def login(form: LoginForm, request: Request, response: Response, desk: Desk) -> Me:
    limits: LoginLimits = request.app.state.login_limiter
    sessions: Sessions = request.app.state.sessions
    address = client_address(request)
    wait = limits.retry_after(form.username, address)
    if wait > 0:
        seconds = int(wait) + 1
        raise HTTPException(
            429,
            f"Trop de tentatives pour ce compte depuis cette adresse : réessayez dans {seconds} s.",
            headers={"Retry-After": str(seconds)},
        )
    db = request.app.state.database
    # Audited through the screen pop's writer: held, not lost, while the database refuses.
    pop = _pop(request)
    user = await asyncio.to_thread(accounts.authenticate, db, form.username, form.password)
    if user is None:
        limits.failed(form.username, address)
        await audit(pop, form.username, "login.failed", None, f"depuis {address}")
        raise HTTPException(401, "Identifiant ou mot de passe incorrect.")
    limits.succeeded(form.username, address)
    await audit(pop, user.username, "login", None, f"depuis {address}")
    session = sessions.open(user)
    response.set_cookie(
        COOKIE,
        session.token,
        httponly=True,
        samesite="strict",
        path="/",
        secure=cookie_secure(request, request.app.state.cookie_secure),
    )
    return _me(user, session.csrf, desk)


@router.post("/api/logout", tags=["session"])
async def logout(session: CurrentSession, request: Request, response: Response) -> None:
    sessions: Sessions = request.app.state.sessions
    sessions.close(session.token)
    response.delete_cookie(COOKIE, path="/")


@router.get("/api/me", tags=["session"])
async def me(session: CurrentSession, desk: Desk) -> Me:
    return _me(session.user, session.csrf, desk)


@router.get("/api/agent/dispositions", tags=["agent"])
async def dispositions(user: AgentUser) -> list[str]:
    return DISPOSITIONS


@router.post("/api/agent/state", tags=["agent"])
async def set_state(
    form: StateForm,
    user: DeskUser,
    session: CurrentSession,
    desk: Desk,
    pop: Pop,
    request: Request,
) -> Me:
    _check_texts(motif=(form.reason, 80))
    agent = agent_of(user)
    reason = form.reason if form.state == "paused" else None
    try:
        desk.set_agent_state(agent, form.state, reason)
    except DeskError as exc:
        raise HTTPException(409, str(exc)) from exc
    await pop.records.saved()  # the state she chose survives a crash once she sees it
    state, reason = desk.agent_state(agent)
    hub: AgentHub = request.app.state.hub
    hub.send(agent, AgentStateChanged(agent=agent, state=state, reason=reason), keep=False)
    return _me(user, session.csrf, desk)


@router.get("/api/citizens", tags=["directory"])
async def search_citizens(q: str, user: AgentUser, directory: Dir, pop: Pop) -> list[CitizenOut]:
    if len(q.strip()) < 2:
        raise HTTPException(422, "Tapez au moins deux caractères (nom, numéro ou dossier).")
    _check_texts(recherche=(q, 100))
    found = await asyncio.to_thread(directory.search, q.strip(), 20)
    # RGPD: a search shows citizens as a card does; who looked for what, and whom it showed.
    ids = ", ".join(str(c.id) for c in found) or "aucun"
    detail = f"recherche « {q.strip()} » : {len(found)} administré(s), identifiants {ids}"
    await audit(pop, user.username, "citizen.search", None, detail)
    return [_citizen_out(c) for c in found]


@router.post("/api/citizens", tags=["directory"], status_code=201)
async def create_citizen(form: NewCitizen, user: AgentUser, directory: Dir, pop: Pop) -> CitizenOut:
    _check_texts(
        nom=(form.last_name, 120),
        prénom=(form.first_name, 120),
        adresse=(form.address, 200),
        code_postal=(form.postal_code, 10),
        ville=(form.city, 120),
        courriel=(form.email, 200),
    )
    phone = None
    if form.phone:
        number = normalise(form.phone)
        if number.e164 is None:
            raise HTTPException(422, f"Numéro « {form.phone} » : {number.reason}")
        phone = number.e164
    citizen = await asyncio.to_thread(
        directory.create_citizen,
        form.civility,
        form.last_name,
        form.first_name,
        phone,
        address=form.address,
        postal_code=form.postal_code,
        city=form.city,
        email=form.email,
    )
    await audit(
        pop,
        user.username,
        "citizen.create",
        citizen.id,
        f"appel {form.call_id}" if form.call_id else "hors appel",
    )
    if form.call_id:
        await _on_call(pop.select_citizen(form.call_id, agent_of(user), citizen.id))
    return _citizen_out(citizen)


async def _on_call(action: Any) -> Any:
    try:
        return await action
    except NotYourCall as exc:
        raise HTTPException(403, str(exc)) from exc
    except DatabaseUnavailable as exc:
        raise HTTPException(503, str(exc)) from exc
    except ScreenPopError as exc:
        raise HTTPException(404, str(exc)) from exc


@router.post("/api/calls/{call_id}/citizen", tags=["agent"])
async def pick_citizen(call_id: str, form: CitizenPick, user: DeskUser, pop: Pop) -> None:
    await _on_call(pop.select_citizen(call_id, agent_of(user), form.citizen_id))
    await audit(pop, user.username, "card.open", form.citizen_id, f"appel {call_id}")


# The database away: the agent's work is kept and written on its return; she is told so.
PENDING = "enregistrée, en attente de la base de données (elle sera écrite à son retour)"


@router.post("/api/calls/{call_id}/note", tags=["agent"], status_code=201)
async def add_note(call_id: str, form: NoteForm, user: DeskUser, pop: Pop) -> dict[str, Any]:
    _check_texts(multiline=True, note=(form.text, 4000))
    saved = await _on_call(pop.add_note(call_id, agent_of(user), form.text))
    note = saved.note
    body: dict[str, Any] = {
        "agent": note.agent,
        "text": note.text,
        "at": note.at.isoformat(timespec="seconds"),
    }
    if saved.pending:
        body |= {"pending": True, "message": f"Note {PENDING}."}
    return body


@router.post("/api/calls/{call_id}/disposition", tags=["agent"])
async def set_disposition(
    call_id: str, form: DispositionForm, user: DeskUser, pop: Pop
) -> dict[str, Any] | None:
    if form.disposition not in DISPOSITIONS:
        raise HTTPException(
            422,
            f"Motif « {shown(form.disposition)} » inconnu : choisissez un des motifs proposés "
            f"({', '.join(DISPOSITIONS)}).",
        )
    saved = await _on_call(pop.set_disposition(call_id, agent_of(user), form.disposition))
    return {"pending": True, "message": f"Qualification {PENDING}."} if saved.pending else None


@router.post("/api/calls/{call_id}/done", tags=["agent"])
async def wrap_up_done(
    call_id: str, user: DeskUser, desk: Desk, pop: Pop, request: Request
) -> None:
    """The agent finished the call's paperwork: the card closes and wrap-up ends. Answered
    once the call's record (its end included) and her state are committed or spooled."""
    agent = agent_of(user)
    hub: AgentHub = request.app.state.hub
    if not hub.holds(agent, call_id):
        raise HTTPException(
            404, f"L'appel {call_id} n'est pas (ou plus) sur l'écran du poste {agent}."
        )
    hub.dismiss(agent, call_id)
    desk.wrap_up_done(agent)
    await pop.records.saved()


@router.get("/api/schema/agent-messages.json", tags=["schema"])
async def agent_messages_schema() -> dict[str, Any]:
    return agent_message_schema()


@router.websocket("/ws/agent")
async def agent_socket(websocket: WebSocket) -> None:
    try:
        session, agent = await websocket_agent(websocket)
    except SocketRefused as exc:
        await refuse_socket(websocket, exc)
        return
    user = session.user
    hub: AgentHub = websocket.app.state.hub
    desk: AgentDesk = websocket.app.state.desk
    await websocket.accept()
    sub = hub.subscribe(agent)
    try:
        state, reason = desk.agent_state(agent)
        hello = Hello(
            agent=agent,
            display_name=user.display_name,
            role=user.role.value,
            state=state,
            reason=reason,
        )
        await websocket.send_json(hello.model_dump(mode="json"))
        current = hub.current(agent)
        if current is not None:
            await websocket.send_text(current)
        await relay(websocket, sub, socket_guard(websocket, session))
    except WebSocketDisconnect:
        pass
    finally:
        sub.close()
