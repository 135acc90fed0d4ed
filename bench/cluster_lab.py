"""Two or more ``cti.app`` nodes under one router lease, against the simulated PBX.

Shared by the failover tests (``tests/cti/cluster/``) and the failover bench: real processes
sharing one database, the PBX in the caller's event loop, and what the PBX saw (every action
by login, every ``DialBegin`` by call).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from cti.ami.connection import AmiConnection, AmiParams
from cti.db import Database
from cti.pbxsim import SimulatedPbx
from cti.pbxsim.pbx import AgentPhone, SimCall
from screenpop import accounts
from screenpop.accounts import Role

ROOT = Path(__file__).resolve().parents[1]
# Marie's account (agent 201), as an admin created it and she chose her password.
AGENT_LOGIN = ("marie", "mot-de-passe-de-marie")
# Agents of routing/demo.yaml; each of the three services below has two of them.
AGENTS = ("201", "202", "203", "204", "205", "206")
SERVICES = ("accueil", "etat-civil", "urbanisme")


async def wait_until(
    changed: asyncio.Event, predicate: Callable[[], bool], timeout: float = 60
) -> None:
    """Until ``predicate`` holds, looked at each time ``changed`` is set; TimeoutError after
    ``timeout`` seconds."""

    async def wait() -> None:
        while not predicate():
            changed.clear()
            await changed.wait()

    await asyncio.wait_for(wait(), timeout)


class Node:
    """One ``cti.app`` process: what it printed, and its web address once it serves."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.out: list[str] = []
        self.err: list[str] = []
        self.changed = asyncio.Event()
        self._readers = [
            asyncio.create_task(self._read(proc.stdout, self.out)),
            asyncio.create_task(self._read(proc.stderr, self.err)),
        ]

    async def _read(self, stream: asyncio.StreamReader | None, into: list[str]) -> None:
        assert stream is not None
        async for raw in stream:
            into.append(raw.decode(errors="replace").rstrip())
            self.changed.set()

    async def until(self, predicate: Callable[[], bool], timeout: float = 60) -> None:
        try:
            await wait_until(self.changed, predicate, timeout)
        except TimeoutError:
            raise AssertionError(f"node still waiting after {timeout:g} s: {self.tail()}") from None

    def tail(self, lines: int = 8) -> str:
        """What the node said last, and whether it still runs (for a failure's message)."""
        said = " | ".join((self.out + self.err)[-lines:])
        return f"exit {self.proc.returncode}; {said}"

    def url(self) -> str | None:
        for line in self.out:
            if match := re.search(r"CTI mairie : (http://\S+/)", line):
                return match.group(1)
        return None

    def said(self, words: str) -> bool:
        return any(words in line for line in self.err + self.out)

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
        await self.proc.wait()
        for reader in self._readers:
            reader.cancel()


class ClusterLab:
    def __init__(self, url: str, pbx: SimulatedPbx, workdir: Path, ttl: float) -> None:
        self.url = url
        self.pbx = pbx
        self.workdir = workdir
        self.ttl = ttl
        self.nodes: list[Node] = []
        self.dials: Counter[str] = Counter()  # DialBegin per call (Linkedid)
        self.changed = asyncio.Event()

    def on_event(self, event: Mapping[str, Any], _received: float) -> None:
        if event.get("Event") == "DialBegin":
            self.dials[str(event.get("Linkedid"))] += 1
        self.changed.set()

    async def node(
        self,
        name: str,
        role: str = "all",
        broker: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> Node:
        """A ``cti.app`` process: ``role`` as ``CTI_ROLE``, ``broker`` as ``CTI_BROKER_URL``,
        ``extra`` settings."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("CTI_")}
        env |= {"CTI_ROLE": role} | ({"CTI_BROKER_URL": broker} if broker else {})
        env |= dict(extra or {})
        env |= {
            "CTI_AMI_HOST": "127.0.0.1",
            "CTI_AMI_PORT": str(self.pbx.port),
            "CTI_AMI_SECRET": "cti-secret",
            "CTI_AMI_RECONNECT_MIN": "0.1",
            "CTI_AMI_RECONNECT_MAX": "0.5",
            "CTI_HTTP_PORT": "0",
            "CTI_AGI_PORT": "0",
            "CTI_DATABASE_URL": self.url,
            "CTI_ROUTER_LEASE_TTL": str(self.ttl),
            "CTI_SPOOL_DIR": str(self.workdir / f"spool-{name}"),
            "CTI_SOUNDS_DIR": os.environ.get("CTI_SOUNDS_DIR", str(self.workdir / "sounds")),
            "PYTHONUNBUFFERED": "1",
        }
        env |= dict(extra or {})
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cti.app",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        node = Node(proc)
        self.nodes.append(node)
        return node

    async def until(self, predicate: Callable[[], bool], timeout: float = 60) -> None:
        await wait_until(self.changed, predicate, timeout)

    async def ready(self, node: Node, timeout: float = 60) -> str:
        """The node's URL once it serves and its AMI link is up (``/readyz``)."""
        await node.until(lambda: node.url() is not None, timeout)
        url = node.url()
        assert url is not None

        async def probe() -> None:
            async with httpx.AsyncClient(base_url=url) as client:
                while (await client.get("/readyz")).status_code != 200:
                    await asyncio.sleep(0.05)  # polling a probe, as a load balancer does

        try:
            await asyncio.wait_for(probe(), timeout)
        except TimeoutError:
            raise AssertionError(f"/readyz not 200 after {timeout:g} s: {node.tail()}") from None
        return url

    def calls(self, talk: float = 30.0) -> list[SimCall]:
        """One call for each of three services, each with two agents able to take it."""
        return [
            self.pbx.place_call(f"061234567{n}", "Citoyen", service=service, talk=talk)
            for n, service in enumerate(SERVICES)
        ]

    async def ring(self, agent: str) -> list[SimCall]:
        """Calls (three at a time) until one rings ``agent``'s phone; all of them, each rung."""
        placed: list[SimCall] = []
        for _ in range(4):
            batch = self.calls()
            placed += batch
            await self.until(lambda batch=batch: all_rung(batch))  # type: ignore[misc]
            if any(call.agent == agent for call in placed):
                return placed
        raise AssertionError(f"no call rang {agent}: {[c.agent for c in placed]}")


def all_rung(calls: list[SimCall]) -> bool:
    return all(call.agent is not None for call in calls)


@contextlib.asynccontextmanager
async def cluster_lab(
    url: str, workdir: Path, *, ttl: float, talk: float = 60.0
) -> AsyncIterator[ClusterLab]:
    """A migrated database whose agents were « Prêt », the PBX, a listener; nodes stopped at
    the end."""
    db = Database(url)
    db.migrate()
    with db.engine.begin() as conn:
        for agent in AGENTS:
            conn.execute(
                text(
                    "INSERT INTO agent_states (agent, state, reason, updated_at) "
                    "VALUES (:agent, 'ready', NULL, CURRENT_TIMESTAMP)"
                ),
                {"agent": agent},
            )
    accounts.create_user(db, *AGENT_LOGIN, Role.AGENT, "Marie Lambert", "201")
    db.close()
    pbx = SimulatedPbx(
        agents={agent: AgentPhone(ring=0.5, talk=talk) for agent in AGENTS},
        safety_net=600.0,
    )
    await pbx.start()
    lab = ClusterLab(url, pbx, workdir, ttl)
    listener = AmiConnection(AmiParams(port=pbx.port, secret="cti-secret"), lab.on_event)
    listener.start()
    await listener.wait_ready(10)
    try:
        yield lab
    finally:
        for node in lab.nodes:
            await node.stop()
        await listener.close()
        await pbx.close()
