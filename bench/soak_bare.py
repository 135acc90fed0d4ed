"""The soak bench's bare baseline, in a process of its own that imports nothing of the product.

A plain ``websockets`` server holds the agents' sockets and, at the call rate, sends each
call's three card-sized messages (offered, answered, ended) to one agent's pages, round the
agents, with the same loop-lag probe as the product's (how late a task asked to wake every
0.5 s wakes). What 500 pages cost without any telephony, database or routing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from multiprocessing.connection import Connection
from pathlib import Path

import websockets

CARD = json.dumps({"v": 1, "type": "card.offered", "card": {"greeting": "x" * 1800}})
SAMPLE_S = 5.0


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _probe(lags: list[float]) -> None:
    loop = asyncio.get_running_loop()
    while True:
        asked = loop.time() + 0.5
        await asyncio.sleep(0.5)
        lags.append(max(0.0, loop.time() - asked))


async def _serve(conn: Connection, rate: float, seconds: float, agents: int) -> None:
    sockets: list[websockets.ServerConnection] = []
    lags: list[float] = []

    async def handler(ws: websockets.ServerConnection) -> None:
        sockets.append(ws)
        await ws.wait_closed()

    async with websockets.serve(handler, "127.0.0.1", 0) as server:
        conn.send(server.sockets[0].getsockname()[1])
        await asyncio.to_thread(conn.recv)  # every socket is open: go
        probe = asyncio.create_task(_probe(lags))
        start, n, rss = time.monotonic(), 0, []
        next_sample = SAMPLE_S
        while (elapsed := time.monotonic() - start) < seconds:
            await asyncio.sleep(max(0.0, n * 60 / rate - elapsed))
            for _ in range(3):  # offered, answered, ended: to that agent's pages
                for ws in sockets[n % agents :: agents]:
                    with contextlib.suppress(websockets.ConnectionClosed):
                        await ws.send(CARD)
            n += 1
            if elapsed >= next_sample:
                rss.append((elapsed, rss_mb(os.getpid())))
                next_sample += SAMPLE_S
        probe.cancel()
        ordered = sorted(lags)
        p99 = ordered[int(0.99 * (len(ordered) - 1))] if ordered else None
        conn.send((rss, p99))


def serve(conn: Connection, rate: float, seconds: float, agents: int) -> None:
    """The child process's entry: port out, "go" in, (RSS samples, loop lag p99) out."""
    asyncio.run(_serve(conn, rate, seconds, agents))
