"""Web nodes apart from the router, the broker between them: real processes on loopback.

A router (``CTI_ROLE=router``, under the lease) and web nodes (``CTI_ROLE=web``) share
PostgreSQL and a NATS server of the test's own (``bench/broker_lab.py``: a free port, its own
JetStream directory, so restarting it disturbs nobody else's broker). Agents' pages are real
WebSocket clients carrying the session cookie, as a browser does; where the load balancer
would send them to another web node, they connect to it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import nats
import nats.errors
import pytest
import websockets
from nats.aio.msg import Msg
from nats.js.api import StreamInfo
from websockets.exceptions import ConnectionClosed

from bench.broker_lab import NATS_SERVER, NatsCluster, NatsServer, nats_cluster
from bench.cluster_lab import AGENT_LOGIN, ClusterLab, Node, all_rung, wait_until
from cti.broker.subjects import STREAM
from cti.pbxsim.pbx import SimCall
from cti.web.auth import COOKIE

Message = dict[str, Any]


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[NatsCluster]:
    if NATS_SERVER is None:
        pytest.skip("nats-server is not installed (Debian package nats-server)")
    async with nats_cluster(tmp_path / "nats") as servers:
        yield servers


class Page:
    """An agent's page: one WebSocket, every message it got, how it closed."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self.messages: list[Message] = []
        self.changed = asyncio.Event()
        self.close_code: int | None = None
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str, cookie: str) -> Page:
        socket_url = url.replace("http://", "ws://") + "ws/agent"
        ws = await websockets.connect(
            socket_url, additional_headers={"Cookie": f"{COOKIE}={cookie}"}
        )
        return cls(ws)

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                self.messages.append(json.loads(raw))
                self.changed.set()
        except ConnectionClosed:
            pass
        self.close_code = self.ws.close_code if self.ws.close_code is not None else 1006
        self.changed.set()

    async def until(
        self, predicate: Callable[[Message], bool], timeout: float = 60, *nodes: Node
    ) -> Message:
        found: list[Message] = []

        def seen() -> bool:
            found[:] = [m for m in self.messages if predicate(m)]
            return bool(found)

        try:
            await wait_until(self.changed, seen, timeout)
        except TimeoutError:
            said = " || ".join(node.tail(12) for node in nodes)
            raise AssertionError(
                f"not seen after {timeout:g} s (closed {self.close_code}): {said}"
            ) from None
        return found[-1]

    async def closed(self, timeout: float = 60, *nodes: Node) -> int:
        try:
            await wait_until(self.changed, lambda: self.close_code is not None, timeout)
        except TimeoutError:
            said = " || ".join(node.tail(12) for node in nodes)
            raise AssertionError(f"page still open after {timeout:g} s: {said}") from None
        assert self.close_code is not None
        return self.close_code

    async def close(self) -> None:
        await self.ws.close()
        await self._reader


async def every_event_stored_once(servers: str, calls: list[SimCall]) -> StreamInfo:
    """Once every call's ``CallOffered`` is in the stream: its router's ids run 1..n without
    a gap or a repeat. ``servers``: comma-separated, those still up."""
    offered: set[str] = set()
    ids: list[str] = []
    stored = asyncio.Event()

    async def read(msg: Msg) -> None:  # the stream from its first event, in order
        ids.append((msg.headers or {}).get("Nats-Msg-Id", ""))
        event = json.loads(msg.data).get("event", {})
        if event.get("type") == "CallOffered":
            offered.add(event["call_id"])
        stored.set()

    nc = await nats.connect(servers=servers.split(","))
    try:
        js = nc.jetstream()
        # A cluster that lost the stream's leader answers once it has elected another.
        async with asyncio.timeout(60):
            while True:
                try:
                    await js.subscribe(
                        "cti.*.events", stream=STREAM, cb=read, ordered_consumer=True
                    )
                    break
                except nats.errors.TimeoutError:
                    continue
        await wait_until(stored, lambda: all(c.linkedid in offered for c in calls))
        info = await js.stream_info(STREAM)
    finally:
        await nc.close()
    assert len(ids) == len(set(ids)), "a domain event stored twice"
    counts = sorted(int(i.rsplit("-", 1)[1]) for i in ids)
    assert counts == list(range(1, len(counts) + 1)), "a domain event missing from the stream"
    return info


def is_card(message: Message) -> bool:
    return str(message.get("type", "")).startswith("card.")


async def login(url: str) -> str:
    async with httpx.AsyncClient(base_url=url) as client:
        username, password = AGENT_LOGIN
        answer = await client.post("/api/login", json={"username": username, "password": password})
        assert answer.status_code == 200, answer.text
        return client.cookies[COOKIE]


async def test_a_killed_web_node_s_pages_reconnect_to_another_and_get_their_card_back(
    lab: ClusterLab, broker: NatsServer
) -> None:
    router = await lab.node("router", role="router", broker=broker.url)
    await lab.ready(router)
    w1 = await lab.node("w1", role="web", broker=broker.url)
    w2 = await lab.node("w2", role="web", broker=broker.url)
    url1, url2 = await lab.ready(w1), await lab.ready(w2)
    cookie = await login(url1)  # the login runs on the router, through w1
    page = await Page.open(url1, cookie)
    hello = await page.until(lambda m: m["type"] == "hello")
    assert (hello["agent"], hello["display_name"]) == ("201", "Marie Lambert")

    calls = await lab.ring("201")
    card = await page.until(is_card)
    mine = next(c for c in calls if c.agent == "201")
    assert card["card"]["call_id"] == mine.linkedid

    w1.proc.kill()
    await page.closed()
    # The balancer sends her browser to w2: same cookie, the card she had.
    again = await Page.open(url2, cookie)
    await again.until(lambda m: m["type"] == "hello")
    back = await again.until(is_card)
    assert back["card"]["call_id"] == mine.linkedid
    assert sum(1 for m in again.messages if is_card(m)) == 1  # shown once, not replayed
    # Her actions from w2 reach the router: « Pause » comes back as her state.
    async with httpx.AsyncClient(base_url=url2, cookies={COOKIE: cookie}) as marie:
        me = (await marie.get("/api/me")).json()
        answer = await marie.post(
            "/api/agent/state",
            json={"state": "paused", "reason": "Pause déjeuner"},
            headers={"X-CSRF-Token": me["csrf"]},
        )
    assert answer.status_code in (200, 409), answer.text  # 409: on a call, refused by the router
    if answer.status_code == 200:
        await again.until(lambda m: m["type"] == "agent.state" and m["state"] == "paused")
    # Her logout runs on the router; the web node holding her socket closes it at once.
    async with httpx.AsyncClient(base_url=url2, cookies={COOKIE: cookie}) as marie:
        out = await marie.post("/api/logout", headers={"X-CSRF-Token": me["csrf"]})
    assert out.status_code == 200, out.text
    assert await again.closed() == 4401


async def test_a_router_failover_behind_web_nodes_brings_the_card_back_on_the_same_socket_url(
    lab: ClusterLab, broker: NatsServer
) -> None:
    a = await lab.node("a", role="router", broker=broker.url)
    await lab.ready(a)
    b = await lab.node("b", role="router", broker=broker.url)
    await b.until(lambda: b.said("nœud en attente"))
    web = await lab.node("web", role="web", broker=broker.url)
    url = await lab.ready(web)
    cookie = await login(url)
    page = await Page.open(url, cookie)
    await page.until(lambda m: m["type"] == "hello")
    calls = await lab.ring("201")
    mine = next(c for c in calls if c.agent == "201")
    await page.until(is_card)

    killed_at = time.monotonic()
    a.proc.kill()
    later = lab.calls()  # they wait while nobody routes
    await lab.ready(b)
    # The web node hears B's token and sends its pages to read everything again from B.
    assert await page.closed() == 1012
    print(f"router failover behind a web node: page told {time.monotonic() - killed_at:.1f} s")
    again = await Page.open(url, cookie)
    back = await again.until(is_card)
    assert back["card"]["call_id"] == mine.linkedid
    await lab.until(lambda: all_rung(later))
    assert all(lab.dials[call.linkedid] == 1 for call in calls + later), lab.dials
    await again.close()


async def test_a_broker_restart_loses_no_domain_event_and_pages_come_back(
    lab: ClusterLab, broker: NatsServer
) -> None:
    router = await lab.node("router", role="router", broker=broker.url)
    await lab.ready(router)
    web = await lab.node("web", role="web", broker=broker.url)
    url = await lab.ready(web)
    cookie = await login(url)
    page = await Page.open(url, cookie)
    await page.until(lambda m: m["type"] == "hello")
    before = lab.calls()
    await lab.until(lambda: all_rung(before))

    await broker.stop()
    during = lab.calls()  # routed while the broker is away: the router does not need it
    await lab.until(lambda: all_rung(during))
    await broker.start()
    # Messages may have been missed: the web node sends its pages to read everything again.
    assert await page.closed(60, web, router) == 1012
    again = await Page.open(url, cookie)
    await again.until(lambda m: m["type"] == "hello", 60, web, router)

    # Every domain event reached the stream once, the calls of the outage included.
    await every_event_stored_once(broker.url, before + during)
    await again.close()


async def test_a_nats_server_of_three_lost_under_the_router_loses_no_event_and_no_card(
    lab: ClusterLab, cluster: NatsCluster
) -> None:
    router = await lab.node(
        "router", role="router", broker=cluster.url, extra={"CTI_BROKER_REPLICAS": "3"}
    )
    await lab.ready(router)
    web = await lab.node("web", role="web", broker=cluster.url)
    url = await lab.ready(web)
    cookie = await login(url)
    page = await Page.open(url, cookie)
    await page.until(lambda m: m["type"] == "hello")  # asked of the router: both are joined

    first = lab.calls()  # calls flowing as the server goes
    lost = await cluster.holding("cti-routeur")
    web_too = lost is await cluster.holding("cti-web")
    led = lost is await cluster.stream_leader(STREAM)  # its events wait for a new leader
    killed_at = time.monotonic()
    await lost.kill()
    await lab.until(lambda: all_rung(first))
    later = lab.calls()  # six calls for six agents: one of them is Marie's
    await lab.until(lambda: all_rung(later))
    mine = next(call for call in first + later if call.agent == "201")

    # Marie's card: on her socket, or on the one she opened again when told to (1012: her
    # web node, or the router, lost its server and messages may be missing).
    def card_or_closed() -> bool:
        return page.close_code is not None or any(
            is_card(m) and m["card"]["call_id"] == mine.linkedid for m in page.messages
        )

    reopened = 0
    while True:
        await wait_until(page.changed, card_or_closed)
        if page.close_code is None:
            break
        assert page.close_code == 1012, page.close_code
        reopened += 1
        page = await Page.open(url, cookie)
    card_after = time.monotonic() - killed_at
    # Both reconnected to a server still up; the web node only if it had lost its own.
    await router.until(lambda: router.said("lien avec le courtier rétabli"))
    if web_too:
        await web.until(lambda: web.said("lien avec le courtier rétabli"))
    print(
        f"NATS server lost under the router (the web node's too: {web_too}, the stream's "
        f"leader: {led}): Marie's card "
        f"{card_after:.1f} s after, her page reopened {reopened} time(s)"
    )

    alive = ",".join(server.url for server in cluster.servers if server is not lost)
    info = await every_event_stored_once(alive, first + later)
    assert info.config.num_replicas == 3
    await page.close()
