"""Pumping a bus subscription into a WebSocket, shared by the live page and the agent's page."""

from __future__ import annotations

import asyncio

from fastapi import WebSocket

from cti.bus import Subscription


async def relay(websocket: WebSocket, sub: Subscription) -> None:
    """Send the bus's messages until the page goes away or the bus drops it.

    The page's side is read at the same time: without it a closed page would only be noticed
    at the next send, and a quiet bus would keep the handler (and server shutdown) waiting.
    """

    async def pump() -> None:
        while (message := await sub.get()) is not None:
            if isinstance(message, str):
                await websocket.send_text(message)
            else:
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
