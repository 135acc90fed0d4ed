"""Two real products under one router lease (active and standby) against the simulated PBX.

Both are ``python -m cti.app`` processes sharing one database (a SQLite file or PostgreSQL);
only the lease's holder connects to the AMI and routes. Killed (``kill -9``) or paused
(SIGSTOP) with calls in progress, the active node is replaced by the standby, which rebuilds
from the PBX and the database as a restarted product does: every call is answered, and each
is offered exactly once (one ``DialBegin`` per call: no offer replayed by either node).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from cti.ami.connection import AmiConnection, AmiParams
from cti.db import Database
from cti.pbxsim import SimulatedPbx
from cti.pbxsim.pbx import AgentPhone, SimCall

ROOT = Path(__file__).resolve().parents[3]
TTL = 1.5
# What a node may send without driving anything (its link's upkeep and resync).
READ_ONLY = {"ping", "coreshowchannels", "getvar", "events"}
AGENTS = ("201", "202", "203", "204", "205", "206")


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
        async def wait() -> None:
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(wait(), timeout)

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


class Lab:
    def __init__(self, url: str, pbx: SimulatedPbx, tmp: Path) -> None:
        self.url = url
        self.pbx = pbx
        self.tmp = tmp
        self.nodes: list[Node] = []
        self.dials: Counter[str] = Counter()  # DialBegin per call (Linkedid)
        self.changed = asyncio.Event()

    def on_event(self, event: Mapping[str, Any], _received: float) -> None:
        if event.get("Event") == "DialBegin":
            self.dials[str(event.get("Linkedid"))] += 1
        self.changed.set()

    async def node(self, name: str) -> Node:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CTI_")}
        env |= {
            "CTI_AMI_HOST": "127.0.0.1",
            "CTI_AMI_PORT": str(self.pbx.port),
            "CTI_AMI_SECRET": "cti-secret",
            "CTI_AMI_RECONNECT_MIN": "0.1",
            "CTI_AMI_RECONNECT_MAX": "0.5",
            "CTI_HTTP_PORT": "0",
            "CTI_AGI_PORT": "0",
            "CTI_DATABASE_URL": self.url,
            "CTI_ROUTER_LEASE_TTL": str(TTL),
            "CTI_SPOOL_DIR": str(self.tmp / f"spool-{name}"),
            "CTI_SOUNDS_DIR": os.environ.get("CTI_SOUNDS_DIR", str(self.tmp / "sounds")),
            "PYTHONUNBUFFERED": "1",
        }
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
        async def wait() -> None:
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(wait(), timeout)

    async def ready(self, node: Node) -> str:
        """The node's URL once it serves and its AMI link is up (``/readyz``)."""
        await node.until(lambda: node.url() is not None)
        url = node.url()
        assert url is not None
        async with httpx.AsyncClient(base_url=url) as client:
            while (await client.get("/readyz")).status_code != 200:
                await asyncio.sleep(0.05)  # polling a probe, as a load balancer does
        return url

    def calls(self) -> list[SimCall]:
        """One call for each of three services, each with two free agents able to take it."""
        return [
            self.pbx.place_call(f"061234567{n}", "Citoyen", service=service, talk=30.0)
            for n, service in enumerate(("accueil", "etat-civil", "urbanisme"))
        ]


def all_rung(lab: Lab, calls: list[SimCall]) -> bool:
    return all(call.agent is not None for call in calls)


@pytest.fixture
async def lab(database_url: str, tmp_path: Path) -> AsyncIterator[Lab]:
    db = Database(database_url)
    db.migrate()
    with db.engine.begin() as conn:  # the agents were at their desks, "Prêt", before
        for agent in AGENTS:
            conn.execute(
                text(
                    "INSERT INTO agent_states (agent, state, reason, updated_at) "
                    "VALUES (:agent, 'ready', NULL, CURRENT_TIMESTAMP)"
                ),
                {"agent": agent},
            )
    db.close()
    pbx = SimulatedPbx(
        agents={agent: AgentPhone(ring=0.5, talk=60.0) for agent in AGENTS},
        safety_net=600.0,
    )
    await pbx.start()
    lab = Lab(database_url, pbx, tmp_path)
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


async def test_the_standby_takes_over_a_killed_node_with_calls_in_progress(lab: Lab) -> None:
    a = await lab.node("a")
    await lab.ready(a)
    b = await lab.node("b")
    await b.until(lambda: b.said("nœud en attente"))
    assert b.url() is None  # a standby serves nothing: the balancer sends pages to A
    calls = lab.calls()
    await lab.until(lambda: all_rung(lab, calls))

    killed_at = time.monotonic()
    a.proc.kill()
    later = lab.calls()  # they wait while nobody routes
    await lab.ready(b)
    print(f"failover: node B ready {time.monotonic() - killed_at:.1f} s after kill -9")
    await lab.until(lambda: all_rung(lab, later))
    assert all(lab.dials[call.linkedid] == 1 for call in calls + later), lab.dials


async def test_a_paused_node_steps_down_without_acting(lab: Lab) -> None:
    a = await lab.node("a")
    await lab.ready(a)
    b = await lab.node("b")
    await b.until(lambda: b.said("nœud en attente"))
    first = lab.calls()
    await lab.until(lambda: all_rung(lab, first))

    # Calls arrive and A freezes before it has read them (a partition, a frozen VM): it wakes
    # up believing it leads, with stale free agents and new callers to offer them.
    waiting = lab.calls()
    a.proc.send_signal(signal.SIGSTOP)
    await lab.ready(b)
    await lab.until(lambda: all_rung(lab, waiting))
    actions = lab.pbx.ami.actions
    drivers = [login for login, name in actions if name == "redirect"]
    a_login, b_login = drivers[0], drivers[-1]  # A offered the first calls, B the last ones
    assert a_login != b_login
    took_over = next(i for i, (login, _) in enumerate(actions) if login == b_login)
    a.proc.send_signal(signal.SIGCONT)
    assert await asyncio.wait_for(a.proc.wait(), 60) == 75
    assert a.said("a perdu la main sur l'autocommutateur")

    # Nothing from A reached the PBX once B drove it, other than reading its state.
    driven = {name for login, name in actions[took_over:] if login == a_login} - READ_ONLY
    assert not driven, driven
    assert all(lab.dials[call.linkedid] == 1 for call in first + waiting), lab.dials
