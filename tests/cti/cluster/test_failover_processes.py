"""Two real nodes, one lease: a paused holder steps down without acting; a killed one is replaced.

Each node is a process (``lease_probe.py``) that sends AMI actions to the simulated PBX over
TCP while it holds the router's lease; a listener on the PBX sees every action in the order
the PBX received them. The database is a real SQLite file or PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from bench.cluster_lab import wait_until
from cti.ami.connection import AmiConnection, AmiParams
from cti.db import Database
from cti.pbxsim import SimulatedPbx

PROBE = Path(__file__).with_name("lease_probe.py")
TTL = 1.0


class Node:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self.changed = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            self.lines.append(raw.decode().strip())
            self.changed.set()

    async def said(self, prefix: str) -> str:
        def line() -> str | None:
            return next((text for text in self.lines if text.startswith(prefix)), None)

        await wait_until(self.changed, lambda: line() is not None, 20)
        return line() or ""

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()
        self._reader.cancel()


class Lab:
    def __init__(self, url: str, pbx: SimulatedPbx) -> None:
        self.url = url
        self.pbx = pbx
        self.actions: list[tuple[int, float]] = []  # (token, arrival) in the PBX's order
        self.changed = asyncio.Event()
        self.nodes: list[Node] = []

    def on_event(self, event: Mapping[str, Any], _received: float) -> None:
        if event.get("Event") == "UserEvent" and event.get("UserEvent") == "CtiProbe":
            self.actions.append((int(event["Token"]), time.monotonic()))
            self.changed.set()

    async def node(self) -> Node:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(PROBE),
            self.url,
            str(self.pbx.port),
            str(TTL),
            stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        node = Node(proc)
        self.nodes.append(node)
        await node.said("ready")
        return node

    async def until(self, predicate: Callable[[], bool]) -> None:
        await wait_until(self.changed, predicate, 20)

    def tokens(self) -> list[int]:
        return [token for token, _ in self.actions]


@pytest.fixture
async def lab(database_url: str) -> AsyncIterator[Lab]:
    db = Database(database_url)
    db.migrate()
    db.close()
    pbx = SimulatedPbx(agents={})
    await pbx.start()
    lab = Lab(database_url, pbx)
    listener = AmiConnection(AmiParams(port=pbx.port, secret="cti-secret"), lab.on_event)
    listener.start()
    await listener.wait_ready(10)
    try:
        yield lab
    finally:
        for node in lab.nodes:
            if node.proc.returncode is None:
                node.proc.send_signal(signal.SIGCONT)
            await node.stop()
        await listener.close()
        await pbx.close()


async def test_a_paused_holder_wakes_up_deposed_and_sends_nothing(lab: Lab) -> None:
    a = await lab.node()
    first = int((await a.said("elected")).split()[1])
    await lab.until(lambda: first in lab.tokens())
    b = await lab.node()
    # While A holds the lease, B only waits: ten more of A's actions and none of B's.
    seen = len(lab.actions)
    await lab.until(lambda: len(lab.actions) >= seen + 10)
    assert set(lab.tokens()) == {first}

    a.proc.send_signal(signal.SIGSTOP)
    second = int((await b.said("elected")).split()[1])
    assert second > first
    await lab.until(lambda: second in lab.tokens())
    a.proc.send_signal(signal.SIGCONT)
    assert await a.said("deposed") == f"deposed {first}"
    # A is awake and has tried to act again (its loop runs every 20 ms): let B act ten more
    # times, then nothing of A's may have reached the PBX after B's first action.
    takeover = lab.tokens().index(second)
    await lab.until(lambda: lab.tokens().count(second) >= 10)
    assert first not in lab.tokens()[takeover:]
    assert not any(line.startswith("elected") for line in a.lines[1:] if line != f"elected {first}")


async def test_a_killed_holder_is_replaced_within_the_lease(lab: Lab) -> None:
    a = await lab.node()
    b = await lab.node()
    first = int((await a.said("elected")).split()[1])
    await lab.until(lambda: first in lab.tokens())
    killed_at = time.monotonic()
    a.proc.kill()
    second = int((await b.said("elected")).split()[1])
    await lab.until(lambda: second in lab.tokens())
    took_over = next(at for token, at in lab.actions if token == second) - killed_at
    # A figure, not an assertion on time: the lease's length bounds it on a quiet machine.
    print(f"failover after kill -9: {took_over:.2f} s (lease {TTL} s)")
    assert second == first + 1
    assert set(lab.tokens()) == {first, second}
