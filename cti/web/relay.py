"""Pumping a bus subscription into a WebSocket, shared by every page's socket, until the page
goes, the bus drops it or its session ends."""

from __future__ import annotations

import asyncio

from fastapi import WebSocket

from cti.bus import Subscription
from cti.web.socket_guard import CLOSE_CODE, SocketGuard


async def relay(websocket: WebSocket, sub: Subscription, guard: SocketGuard | None = None) -> None:
    """Send the bus's messages until the page goes away, the bus drops it or, with a
    ``guard``, its session ends (closed 4401 with the reason; nothing is sent after the end).

    The page's side is read at the same time: without it a closed page would only be noticed
    at the next send, and a quiet bus would keep the handler (and server shutdown) waiting.
    """

    async def pump() -> str | None:
        while (message := await sub.get()) is not None:
            if guard is not None and (reason := guard.closing()) is not None:
                return reason
            if isinstance(message, str):
                await websocket.send_text(message)
            else:
                await websocket.send_json(message)
        code, reason = sub.ending
        await websocket.close(code=code, reason=reason)
        return None

    async def watch() -> None:
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass

    tasks: set[asyncio.Task[str | None]] = {
        asyncio.create_task(pump()),
        asyncio.create_task(watch()),
    }
    if guard is not None:
        tasks.add(asyncio.create_task(guard.wait()))
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    # Stopped before the close below: no send of the pump may slip in after it.
    await asyncio.gather(*pending, return_exceptions=True)
    reasons = [reason for task in done if (reason := task.result()) is not None]
    if reasons:
        await websocket.close(code=CLOSE_CODE, reason=reasons[0])
