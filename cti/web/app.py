"""FastAPI application: the live calls page, its WebSocket and a small JSON API."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from cti.bus import Subscription
from cti.service import CallService

STATIC = Path(__file__).parent / "static"


def get_service(request: Request) -> CallService:
    service: CallService = request.app.state.service
    return service


Service = Annotated[CallService, Depends(get_service)]


async def relay(websocket: WebSocket, sub: Subscription) -> None:
    """Send the bus's messages until the page goes away or the bus drops it.

    The page's side is read at the same time: without it a closed page would only be noticed
    at the next send, and a quiet bus would keep the handler (and server shutdown) waiting.
    """

    async def pump() -> None:
        while (message := await sub.get()) is not None:
            await websocket.send_json(message)
        await websocket.close(code=1013, reason="trop lent : reconnectez-vous")

    async def watch() -> None:
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass

    tasks = {asyncio.create_task(pump()), asyncio.create_task(watch())}
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    for task in done:
        task.result()


def create_app(service: CallService) -> FastAPI:
    app = FastAPI(title="CTI mairie", version="0.1.0")
    app.state.service = service
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

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
