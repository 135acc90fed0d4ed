"""FastAPI application: the live calls page, the agents' desk, their WebSockets and JSON API.

``create_app(service)`` alone serves the live calls board; given ``DeskParts`` (directory,
screen pop, router desk, sessions) it also serves the agent's page at ``/agent``.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from cti.callbacks.desk import CallbackDesk
from cti.db import Database
from cti.desk import AgentDesk
from cti.hours_admin import HoursAdmin
from cti.ivr_admin import IvrAdmin
from cti.metrics import Metrics
from cti.routing_admin import RoutingAdmin
from cti.service import CallService
from cti.web import (
    admin_pages,
    agent_api,
    audit_api,
    callbacks_api,
    citizen_api,
    field_errors,
    hours_api,
    ivr_api,
    lease_lost,
    metrics_api,
    privacy_api,
    probes_api,
    reports_api,
    routing_api,
    sounds_api,
    supervision_api,
    supervision_why,
    supervisor_actions_api,
    transfer_api,
    users_api,
    what_if_api,
)
from cti.web.auth import (
    Sessions,
    SocketRefused,
    SupervisorUser,
    refuse_socket,
    socket_guard,
    websocket_session,
)
from cti.web.login_limits import LoginLimits
from cti.web.relay import relay
from cti.web.supervision_api import SupervisionFeed
from cti.web.transport import CookieSecure, trust_proxies
from cti.what_if import WhatIfRunner
from screenpop.accounts import Role
from screenpop.directory import Directory
from screenpop.hub import AgentHub
from screenpop.pop import ScreenPop

STATIC = Path(__file__).parent / "static"


def get_service(request: Request) -> CallService:
    service: CallService = request.app.state.service
    return service


Service = Annotated[CallService, Depends(get_service)]
# The live board shows callers' numbers: supervisors (and admins) only.


@dataclass
class DeskParts:
    """What the agents' desk needs besides the call service."""

    database: Database
    directory: Directory
    pop: ScreenPop
    hub: AgentHub
    desk: AgentDesk
    routing: RoutingAdmin | None = None
    ivr: IvrAdmin | None = None
    supervision: SupervisionFeed | None = None  # the supervisors' wallboard
    voice_menu: asyncio.AbstractServer | None = None  # the FastAGI server (for /healthz)
    callbacks: CallbackDesk | None = None  # callback requests (« à rappeler », Accepter...)
    sessions: Sessions = field(default_factory=Sessions)
    login_limiter: LoginLimits = field(default_factory=LoginLimits)
    what_if: WhatIfRunner | None = None  # « Et si… » on recorded calls (admins)


def create_app(
    service: CallService,
    parts: DeskParts | None = None,
    *,
    metrics: Metrics | None = None,
    metrics_token: str | None = None,
    trusted_proxies: Sequence[str] = (),
    cookie_secure: CookieSecure = "auto",
) -> FastAPI:
    app = FastAPI(title="CTI mairie", version="0.1.0")
    trust_proxies(app, trusted_proxies)
    app.state.cookie_secure = cookie_secure
    app.state.service = service
    app.state.sessions = Sessions()  # no desk: nobody logs in, every protected route says 401
    app.state.metrics = metrics or Metrics()
    app.state.metrics_token = metrics_token
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    field_errors.install(app)
    lease_lost.install(app)
    app.include_router(metrics_api.router)
    app.include_router(probes_api.router)
    if parts is not None:
        for name in ("database", "directory", "pop", "hub", "desk", "sessions", "login_limiter"):
            setattr(app.state, name, getattr(parts, name))
        app.state.voice_menu = parts.voice_menu
        app.include_router(agent_api.router)
        app.include_router(transfer_api.router)
        app.include_router(citizen_api.router)
        app.include_router(audit_api.router)
        app.include_router(privacy_api.router)
        app.include_router(reports_api.router)
        app.include_router(users_api.router)
        app.include_router(admin_pages.router)
        if parts.callbacks is not None:
            app.state.callbacks = parts.callbacks
            app.include_router(callbacks_api.router)
        if parts.routing is not None:
            app.state.routing = parts.routing
            app.include_router(routing_api.router)
            if parts.what_if is not None:
                app.state.what_if = parts.what_if
                app.include_router(what_if_api.router)
        if parts.supervision is not None:
            app.state.supervision = parts.supervision
            app.include_router(supervision_api.router)
            app.include_router(supervision_why.router)
            app.include_router(supervisor_actions_api.router)
        if parts.ivr is not None:
            app.state.ivr = parts.ivr
            app.include_router(ivr_api.router)
            app.state.hours = HoursAdmin(parts.database, parts.ivr)
            app.include_router(hours_api.router)
            if parts.ivr.sounds is not None:
                app.state.sounds = parts.ivr.sounds
                app.include_router(sounds_api.router)

        @app.get("/agent", include_in_schema=False)
        async def agent_page() -> FileResponse:
            return FileResponse(STATIC / "agent.html")

    @app.get("/", include_in_schema=False)
    async def live_page() -> FileResponse:
        return FileResponse(STATIC / "live.html")

    @app.get("/healthz")
    async def health(request: Request, service: Service) -> dict[str, Any]:
        """The AMI link (``ami``), the database and the voice menu's server, each on its own;
        ``status`` is ``degraded`` when one of them is not working."""
        state = request.app.state
        body: dict[str, Any] = {
            "status": "ok",
            "ami": service.link_state,
            "live_calls": len(service.view.calls),
            "ami_events": service.events_seen,
        }
        healthy = service.link_state == "ready"
        pop: ScreenPop | None = getattr(state, "pop", None)
        if pop is not None:  # what the database has not taken yet (held while it is away)
            db = pop.writer.health()
            since = db.since and datetime.fromtimestamp(db.since, UTC).isoformat(timespec="seconds")
            body["database"] = {
                "state": db.state,
                "pending_writes": db.pending_writes,
                "since": since or None,
                "error": db.error,
            }
            healthy = healthy and db.state == "up"
        menu: asyncio.AbstractServer | None = getattr(state, "voice_menu", None)
        if menu is not None:
            serving = menu.is_serving()
            body["voice_menu"] = {"state": "listening" if serving else "stopped"}
            healthy = healthy and serving
        ivr: IvrAdmin | None = getattr(state, "ivr", None)
        if ivr is not None:  # prompts callers cannot hear as meant (menu texts only)
            body["voice_menu_missing_sounds"] = [
                dataclasses.asdict(m) for m in ivr.missing_sounds()
            ]
        body["status"] = "ok" if healthy else "degraded"
        return body

    @app.get("/api/calls")
    async def live_calls(service: Service, user: SupervisorUser) -> dict[str, Any]:
        return service.snapshot()

    @app.websocket("/ws/events")
    async def events(websocket: WebSocket) -> None:
        try:
            session = await websocket_session(websocket, Role.SUPERVISOR)
        except SocketRefused as exc:
            await refuse_socket(websocket, exc)
            return
        svc: CallService = websocket.app.state.service
        await websocket.accept()
        sub = svc.bus.subscribe()
        try:
            snapshot = svc.snapshot()
            feed: SupervisionFeed | None = getattr(websocket.app.state, "supervision", None)
            if feed is not None:  # the page names services and agents as people do
                snapshot["names"] = feed.names()
            await websocket.send_json(snapshot)
            await relay(websocket, sub, socket_guard(websocket, session))
        except WebSocketDisconnect:
            pass
        finally:
            sub.close()

    return app
