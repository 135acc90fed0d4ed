"""The agents' side of the pop bench, in a process of its own.

In production the agent's page runs in a browser on another machine: reading a card does
not wait for the server's event loop, nor for anything the server does after the card left.
Clients in the server's own loop would be read only once the loop is done with everything
queued before them (the rest of the AMI chunk, other calls, the writer's results): the
figure would measure the server's load, not when the agent has her card. So the sockets are
opened and read here, in a child process; receipt times are ``perf_counter`` readings, the
same system-wide monotonic clock as the parent's (``CLOCK_MONOTONIC`` on Linux).

The parent talks to the child over a pipe: ``ready`` once every socket is open (and, for
the product, its ``hello`` read), ``complete`` once ``expected`` cards are in, and on
``close`` the child closes its sockets and sends back what it read.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import websockets

# call id -> (perf_counter when its card.offered was read, the frame's text)
Received = dict[str, tuple[float, str]]


@dataclass(frozen=True)
class ClientSocket:
    url: str
    headers: dict[str, str]
    hello: str | None = None  # the agent the first message (hello) must name, if any


class Clients:
    """The parent's handle on the child process."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def _receive(self, timeout: float | None = None) -> tuple[str, Any] | None:
        if not await asyncio.to_thread(self._conn.poll, timeout):
            return None
        kind, value = self._conn.recv()
        if kind == "error":
            raise RuntimeError(f"bench clients: {value}")
        return kind, value

    async def complete(self, timeout: float) -> None:
        """Until every expected card is read, or ``timeout`` (the missing ones are reported)."""
        await self._receive(timeout)

    async def close(self) -> Received:
        self._conn.send("close")
        while (message := await self._receive()) is not None:
            kind, value = message
            if kind == "received":
                return dict(value)
        raise RuntimeError("bench clients: ended without their results")


@asynccontextmanager
async def client_process(sockets: list[ClientSocket], expected: int) -> AsyncIterator[Clients]:
    """A child process holding ``sockets`` open and reading them; yields once all are open."""
    parent, child = multiprocessing.get_context("spawn").Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=_child, args=(child, sockets, expected), name="pop-bench-clients", daemon=True
    )
    process.start()
    child.close()
    clients = Clients(parent)
    try:
        message = await clients._receive()
        if message is None or message[0] != "ready":
            raise RuntimeError(f"bench clients: expected ready, got {message}")
        yield clients
    finally:
        await asyncio.to_thread(process.join, 10)
        if process.is_alive():
            process.kill()
        parent.close()


# ------------------------------------------------------------------ the child


def _child(conn: Connection, sockets: list[ClientSocket], expected: int) -> None:
    try:
        asyncio.run(_serve(conn, sockets, expected))
    except Exception as exc:  # the parent must hear why rather than wait for ever
        with suppress(OSError):
            conn.send(("error", repr(exc)))
    finally:
        conn.close()


async def _serve(conn: Connection, sockets: list[ClientSocket], expected: int) -> None:
    opened = await asyncio.gather(*(_open(s) for s in sockets))
    received: Received = {}
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_reader(conn.fileno(), stop.set)  # the parent's "close"

    def card(text: str) -> None:
        at = time.perf_counter()
        message = json.loads(text)
        if message.get("type") != "card.offered":
            return
        cid = message["card"]["call_id"]
        if cid not in received:
            received[cid] = (at, text)
            if len(received) == expected:
                conn.send(("complete", None))

    async def read(ws: Any) -> None:
        with suppress(websockets.ConnectionClosed):
            async for text in ws:
                card(text)

    readers = [asyncio.create_task(read(ws)) for ws in opened]
    conn.send(("ready", None))
    await stop.wait()
    loop.remove_reader(conn.fileno())
    conn.recv()
    await asyncio.gather(*(ws.close() for ws in opened))
    await asyncio.gather(*readers)
    conn.send(("received", list(received.items())))


async def _open(socket: ClientSocket) -> Any:
    ws = await websockets.connect(socket.url, additional_headers=socket.headers, ping_interval=None)
    if socket.hello is not None:
        hello = json.loads(await ws.recv())
        if hello.get("type") != "hello" or hello.get("agent") != socket.hello:
            raise RuntimeError(f"{socket.url}: expected a hello to {socket.hello}, got {hello}")
    return ws
