"""Web nodes apart from the router: calls per second and agents' WebSockets held, with 1, 2
and 3 web nodes behind (``python -m bench webnodes [--sockets-per-node 200] [--seconds 20]``).

One router (``CTI_ROLE=router``) and N web nodes (``CTI_ROLE=web``) as processes, a NATS
server of the bench's own, a SQLite file shared by them (``CTI_BENCH_DATABASE_URL`` for
PostgreSQL), the simulated PBX in the bench's process with 60 agents who answer at once and
talk one second, one service without wrap-up. ``sockets-per-node`` pages per web node, spread
over the 60 agents (each logged in once), read every message. Calls arrive at a steady rate
(``--rate``, 4 a second) for ``seconds``; measured: calls rung per second, pages still open
at the end (held), cards received, and how long after the PBX rang the agent her pages had
the card (p50, p99). The pages and the PBX share the bench's event loop, so the latency is an
upper bound.

The citizens wait as long as it takes (the agent hangs up after her second of talk): a router
slowed down by a loaded machine costs latency, not calls. Until issue 23 each citizen hung up
one second after the PBX answered her (``place_call``'s ``talk`` counts from there), so a router
half a second late lost the call to the bench's own caller, and the Setvar that followed got
« No such channel »; such a call was counted never rung. A call whose citizen leaves before
any phone rang is now counted apart (``abandoned``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets
from sqlalchemy import text

from bench.broker_lab import NatsServer
from bench.cluster_lab import ClusterLab
from cti.ami.connection import AmiConnection, AmiParams
from cti.db import Database
from cti.pbxsim import SimulatedPbx
from cti.pbxsim.pbx import AgentPhone, SimCall
from cti.web.auth import COOKIE
from screenpop import accounts
from screenpop.accounts import Role

AGENTS = [str(300 + n) for n in range(60)]
PASSWORD = "mot-de-passe-du-banc"


def routing_yaml() -> str:
    lines = [
        "max_missed_offers: 3",
        "skills: {accueil: Accueil}",
        "services:",
        "  accueil:",
        "    label: Accueil",
        "    required_skills: {accueil: 1}",
        "    max_wait_s: 600",
        "    wrap_up_s: 0",
        "    overflow: {kind: voicemail, target: accueil}",
        "agents:",
    ]
    for agent in AGENTS:
        lines += [f'  "{agent}":', f"    name: Agent {agent}", "    skills: {accueil: 3}"]
    return "\n".join(lines) + "\n"


@dataclass
class Round:
    web_nodes: int
    sockets: int
    held: int = 0
    calls: int = 0
    rung: int = 0
    abandoned: int = 0  # the citizen left before any phone rang
    seconds: float = 0.0
    cards: int = 0
    latencies: list[float] = field(default_factory=list)


class Pages:
    """Agents' sockets; the time each card reached each page."""

    def __init__(self) -> None:
        self.sockets: list[websockets.ClientConnection] = []
        self.readers: list[asyncio.Task[None]] = []
        self.arrived: dict[str, list[float]] = defaultdict(list)  # call id -> times

    async def open(self, url: str, cookie: str) -> None:
        ws = await websockets.connect(
            url.replace("http://", "ws://") + "ws/agent",
            additional_headers={"Cookie": f"{COOKIE}={cookie}"},
            max_queue=None,
        )
        self.sockets.append(ws)
        self.readers.append(asyncio.create_task(self._read(ws)))

    async def _read(self, ws: websockets.ClientConnection) -> None:
        try:
            async for raw in ws:
                message: dict[str, Any] = json.loads(raw)
                if message.get("type") == "card.offered":
                    self.arrived[message["card"]["call_id"]].append(time.monotonic())
        except websockets.ConnectionClosed:
            pass

    def held(self) -> int:
        return sum(1 for ws in self.sockets if ws.close_code is None)

    async def close(self) -> None:
        for ws in self.sockets:
            await ws.close()
        await asyncio.gather(*self.readers, return_exceptions=True)


def tally(calls: list[SimCall]) -> tuple[int, int]:
    """Calls rung, and calls whose citizen left before any phone rang (abandoned, not a call
    the router failed to ring)."""
    rung = sum(1 for call in calls if call.agent is not None)
    abandoned = sum(1 for call in calls if call.agent is None and call.gone.is_set())
    return rung, abandoned


def _prepare(url: str) -> None:
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
    for agent in AGENTS:
        accounts.create_user(db, f"a{agent}", PASSWORD, Role.AGENT, f"Agent {agent}", agent)
    db.close()


async def _login(url: str, agent: str) -> str:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        answer = await client.post(
            "/api/login", json={"username": f"a{agent}", "password": PASSWORD}
        )
        answer.raise_for_status()
        return client.cookies[COOKIE]


async def measure_round(
    workdir: Path, web_nodes: int, per_node: int, seconds: float, rate: float = 4.0
) -> Round:
    measured = Round(web_nodes, per_node * web_nodes)
    if rate <= 0:
        raise ValueError("--rate: calls per second, above 0")
    url = os.environ.get("CTI_BENCH_DATABASE_URL") or f"sqlite:///{workdir / 'cti.db'}"
    config = workdir / "routing.yaml"
    config.write_text(routing_yaml(), encoding="utf-8")
    await asyncio.to_thread(_prepare, url)
    rang_at: dict[str, float] = {}
    pbx = SimulatedPbx(
        agents={agent: AgentPhone(ring=0.2, talk=1.0) for agent in AGENTS}, safety_net=600.0
    )
    await pbx.start()
    lab = ClusterLab(url, pbx, workdir, ttl=0)

    def on_event(event: Mapping[str, Any], received: float) -> None:
        lab.on_event(event, received)
        if event.get("Event") == "DialBegin":
            rang_at.setdefault(str(event.get("Linkedid")), time.monotonic())

    listener = AmiConnection(AmiParams(port=pbx.port, secret="cti-secret"), on_event)
    listener.start()
    broker = NatsServer(workdir / "jetstream")
    await broker.start()
    pages = Pages()
    extra = {"CTI_ROUTING_CONFIG": str(config), "CTI_DEFAULT_SERVICE": "accueil"}
    try:
        await listener.wait_ready(10)
        router = await lab.node("router", role="router", broker=broker.url, extra=extra)
        await lab.ready(router)
        urls = []
        for n in range(web_nodes):
            node = await lab.node(f"web{n}", role="web", broker=broker.url, extra=extra)
            urls.append(await lab.ready(node))
        cookies = {agent: await _login(urls[0], agent) for agent in AGENTS}
        for i in range(measured.sockets):
            await pages.open(urls[i % web_nodes], cookies[AGENTS[i % len(AGENTS)]])
        calls: list[SimCall] = []
        start = time.monotonic()
        for n in range(int(seconds * rate)):
            # talk=None: she never hangs up on her own (place_call counts talk from the PBX's
            # answer, not the agent's); her agent does, after AgentPhone's second.
            calls.append(pbx.place_call(f"0612{n:06d}", "Banc", service="accueil", talk=None))
            await asyncio.sleep(max(0.0, start + (n + 1) / rate - time.monotonic()))
        with contextlib.suppress(TimeoutError):  # what never rang is counted below
            await lab.until(lambda: sum(tally(calls)) == len(calls), timeout=120)
        measured.seconds = time.monotonic() - start
        measured.calls = len(calls)
        measured.rung, measured.abandoned = tally(calls)
        # The last cards are on their way: until every page of each rung agent has its card.
        pages_of = defaultdict(int)
        for i in range(measured.sockets):
            pages_of[AGENTS[i % len(AGENTS)]] += 1
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(
            len(pages.arrived.get(c.linkedid, ())) < pages_of[c.agent or ""] for c in calls
        ):
            await asyncio.sleep(0.1)  # a bench's settling, not a test's wait
        measured.held = pages.held()
        for call in calls:
            for at in pages.arrived.get(call.linkedid, ()):
                measured.cards += 1
                if call.linkedid in rang_at:
                    measured.latencies.append(at - rang_at[call.linkedid])
    finally:
        await pages.close()
        for node in lab.nodes:
            await node.stop()
        await broker.stop()
        await listener.close()
        await pbx.close()
    return measured


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(options: list[str] | None = None) -> Iterator[str]:
    args = dict(zip(options[::2], options[1::2], strict=False)) if options else {}
    per_node = int(args.get("--sockets-per-node", 200))
    seconds = float(args.get("--seconds", 20))
    nodes = [int(n) for n in args.get("--nodes", "1,2,3").split(",")]
    rate = float(args.get("--rate", 4))  # calls per second offered
    for count in nodes:
        with tempfile.TemporaryDirectory() as tmp:
            r = asyncio.run(measure_round(Path(tmp), count, per_node, seconds, rate))
        yield (
            f"{r.web_nodes} web node(s): {r.held}/{r.sockets} agent sockets held, "
            f"{r.rung}/{r.calls} calls rung in {r.seconds:.1f} s "
            f"(abandoned before ringing: {r.abandoned}, "
            f"never rung: {r.calls - r.rung - r.abandoned}) "
            f"({r.rung / r.seconds:.1f} calls/s), {r.cards} cards on pages, "
            f"ring -> card p50 {1000 * statistics.median(r.latencies or [0]):.0f} ms, "
            f"p99 {1000 * _pct(r.latencies, 0.99):.0f} ms"
        )
