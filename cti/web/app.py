"""FastAPI application: the live calls page, the agents' desk, their WebSockets and JSON API.

``create_app(service)`` alone serves the live calls board; given ``DeskParts`` (directory,
screen pop, router desk, sessions) it also serves the agent's page at ``/agent``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from cti.db import Database
from cti.desk import AgentDesk
from cti.routing_admin import RoutingAdmin
from cti.service import CallService
from cti.web import agent_api, routing_api
from cti.web.auth import LoginLimiter, Sessions
from cti.web.relay import relay
from screenpop.directory import Directory
from screenpop.hub import AgentHub
from screenpop.pop import ScreenPop

STATIC = Path(__file__).parent / "static"


def get_service(request: Request) -> CallService:
    service: CallService = request.app.state.service
    return service


Service = Annotated[CallService, Depends(get_service)]


@dataclass
class DeskParts:
    """What the agents' desk needs besides the call service."""

    database: Database
    directory: Directory
    pop: ScreenPop
    hub: AgentHub
    desk: AgentDesk
    routing: RoutingAdmin | None = None
    sessions: Sessions = field(default_factory=Sessions)
    login_limiter: LoginLimiter = field(default_factory=LoginLimiter)


def create_app(service: CallService, parts: DeskParts | None = None) -> FastAPI:
    app = FastAPI(title="CTI mairie", version="0.1.0")
    app.state.service = service
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    if parts is not None:
        for name in ("database", "directory", "pop", "hub", "desk", "sessions", "login_limiter"):
            setattr(app.state, name, getattr(parts, name))
        app.include_router(agent_api.router)
        if parts.routing is not None:
            app.state.routing = parts.routing
            app.include_router(routing_api.router)

        @app.get("/agent", include_in_schema=False)
        async def agent_page() -> FileResponse:
            return FileResponse(STATIC / "agent.html")

    @app.get("/", include_in_schema=False)
    async def live_page() -> FileResponse:
        return FileResponse(STATIC / "live.html")

    @app.get("/healthz")
    async def health(service: Service) -> dict[str, Any]:
        return {
            "status": "ok",
            "ami": service.link_state,
            "live_calls": len(service.view.calls),
            "ami_events": service.events_seen,
        }

    @app.get("/api/calls")
    async def live_calls(service: Service) -> dict[str, Any]:
        return service.snapshot()

    @app.websocket("/ws/events")
    async def events(websocket: WebSocket) -> None:
        svc: CallService = websocket.app.state.service
        await websocket.accept()
        sub = svc.bus.subscribe()
        try:
            await websocket.send_json(svc.snapshot())
            await relay(websocket, sub)
        except WebSocketDisconnect:
            pass
        finally:
            sub.close()

    return app
