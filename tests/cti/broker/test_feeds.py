"""The broker's two sides against a real NATS server of the test's own (a free port).

A router's bridge answers requests with a small application of its own; a web node's feeds
follow the router's heartbeat and put page messages on local buses.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import websockets
from fastapi import FastAPI, Request, Response
from websockets.exceptions import ConnectionClosed

from bench.broker_lab import NATS_SERVER, NatsServer
from bench.cluster_lab import wait_until
from cti.broker.envelope import ForwardedRequest, decode_answer, encode_request
from cti.broker.feeds import RECONNECT, Feeds
from cti.broker.link import BrokerLink, BrokerUnavailable
from cti.broker.router_side import RouterBridge
from cti.broker.subjects import Subjects
from cti.web.auth import Sessions
from cti.web.serve import serving
from cti.web.web_node import create_web_app

SUBJECTS = Subjects("essai")


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[NatsServer]:
    if NATS_SERVER is None:
        pytest.skip("nats-server is not installed (Debian package nats-server)")
    server = NatsServer(tmp_path / "js")
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def links(broker: NatsServer) -> AsyncIterator[tuple[BrokerLink, BrokerLink]]:
    router, web = BrokerLink(broker.url, "routeur"), BrokerLink(broker.url, "web")
    for link in (router, web):
        link.start()
        await link.wait_connected(10)
    yield router, web
    for link in (router, web):
        await link.close()


def beat(token: int, node: str, links: int = 0) -> bytes:
    return json.dumps({"token": token, "node": node, "links": links}).encode()


async def test_pages_follow_the_router_with_the_highest_token(
    links: tuple[BrokerLink, BrokerLink],
) -> None:
    router, web = links
    feeds = Feeds(web, SUBJECTS)
    await feeds.start()
    heard = asyncio.Event()
    await web.subscribe(SUBJECTS.router, lambda _s, _d: heard.set())

    async def beating() -> None:  # as a router does, until the feeds have heard it
        while True:
            router.publish(SUBJECTS.router, beat(3, "a"))
            await asyncio.sleep(0.05)

    beater = asyncio.create_task(beating())
    await wait_until(heard, lambda: (feeds.router_token, feeds.router_node) == (3, "a"), 10)
    beater.cancel()

    page = feeds.agent_bus("201").subscribe()
    router.publish(SUBJECTS.agent("201"), b'{"type": "card.offered"}')
    router.publish(SUBJECTS.agent("202"), b'{"type": "not hers"}')
    assert await asyncio.wait_for(page.get(), 10) == '{"type": "card.offered"}'

    # A deposed router (paused, then woken) still beats with its old token: nothing changes.
    router.publish(SUBJECTS.router, beat(2, "old"))
    router.publish(SUBJECTS.router, beat(4, "b"))  # its successor
    assert await asyncio.wait_for(page.get(), 10) is None  # the page is told to reconnect
    assert page.ending == RECONNECT
    assert (feeds.router_token, feeds.router_node, feeds.router_changes) == (4, "b", 1)


async def test_pages_read_everything_again_when_the_router_s_broker_link_came_back(
    links: tuple[BrokerLink, BrokerLink],
) -> None:
    router, web = links
    feeds = Feeds(web, SUBJECTS)
    await feeds.start()
    heard = asyncio.Event()
    await web.subscribe(SUBJECTS.router, lambda _s, _d: heard.set())
    router.publish(SUBJECTS.router, beat(3, "a"))
    await wait_until(heard, lambda: feeds.router_token == 3, 10)
    page = feeds.agent_bus("201").subscribe()
    router.publish(SUBJECTS.router, beat(3, "a"))  # the same router, nothing lost: no change
    router.publish(SUBJECTS.agent("201"), b'{"type": "card.offered"}')
    assert await asyncio.wait_for(page.get(), 10) == '{"type": "card.offered"}'

    # Its link to the broker came back: what it sent meanwhile may be lost.
    router.publish(SUBJECTS.router, beat(3, "a", links=1))
    assert await asyncio.wait_for(page.get(), 10) is None
    assert page.ending == RECONNECT
    assert feeds.router_changes == 0  # the same router


async def test_a_request_runs_through_the_router_s_application_and_comes_back_whole(
    links: tuple[BrokerLink, BrokerLink],
) -> None:
    router, web = links
    app = FastAPI()

    @app.post("/api/echo")
    async def echo(request: Request) -> Response:
        body = await request.body()
        answer = Response(content=body[::-1], status_code=201, media_type="text/plain")
        answer.set_cookie("a", "1")
        answer.set_cookie("b", "2")
        answer.headers["x-client"] = request.client.host if request.client else "?"
        return answer

    bridge = RouterBridge(
        router,
        SUBJECTS,
        7,
        app,
        Sessions(),
        agent_view=lambda agent: {"state": "ready", "reason": None, "current": None},
        supervision=None,
        live=lambda: {"kind": "snapshot"},
        until_ready=asyncio.sleep,  # type: ignore[arg-type]
        node="routeur-essai",
    )
    await bridge.start()
    feeds = Feeds(web, SUBJECTS)
    await feeds.start()
    request = ForwardedRequest(
        "POST",
        "/api/echo",
        "",
        [("content-type", "text/plain")],
        ("10.0.0.7", 4000),
        "http",
        b"abc",
    )
    try:
        answer = decode_answer(await feeds.ask("http", encode_request(request)))
        view = await feeds.ask_json("agent", b"201")
    finally:
        await bridge.close()
    assert (answer.status, answer.body) == (201, b"cba")
    cookies = [value for name, value in answer.headers if name == "set-cookie"]
    assert [c.split(";")[0] for c in cookies] == ["a=1", "b=2"]
    assert ("x-client", "10.0.0.7") in answer.headers
    assert view["state"] == "ready"


async def test_a_web_node_s_sockets_refuse_who_has_no_session_and_its_probes_answer(
    links: tuple[BrokerLink, BrokerLink],
) -> None:
    _router, web = links
    feeds = Feeds(web, SUBJECTS)
    await feeds.start()
    app = create_web_app(feeds, Sessions(), metrics_token=None)
    async with serving(app) as port:
        base = f"127.0.0.1:{port}"
        for path in ("/ws/agent", "/ws/supervision", "/ws/events"):
            async with websockets.connect(f"ws://{base}{path}") as ws:
                with pytest.raises(ConnectionClosed):
                    await asyncio.wait_for(ws.recv(), 10)
            assert ws.close_code == 4401, path
        async with httpx.AsyncClient(base_url=f"http://{base}") as client:
            ready = await client.get("/readyz")
            metrics = await client.get("/metrics")
            live = await client.get("/livez")
    assert ready.status_code == 200 and ready.json()["broker"] == "up"
    assert live.status_code == 200
    assert 'cti_node_info{role="web"} 1.0' in metrics.text


async def test_a_request_whose_router_is_replaced_while_it_runs_goes_to_the_next_one(
    links: tuple[BrokerLink, BrokerLink], broker: NatsServer
) -> None:
    old_link, web = links
    new_link = BrokerLink(broker.url, "routeur-b")
    new_link.start()
    await new_link.wait_connected(10)
    reached = asyncio.Event()
    ran: list[str] = []

    def app_of(name: str, hangs: bool) -> FastAPI:
        app = FastAPI()

        @app.post("/api/note")
        async def save() -> dict[str, str]:
            ran.append(name)
            reached.set()
            if hangs:  # its node frozen, then killed: it never answers
                await asyncio.Event().wait()
            return {"saved_by": name}

        return app

    def bridge(link: BrokerLink, token: int, name: str, hangs: bool) -> RouterBridge:
        return RouterBridge(
            link,
            SUBJECTS,
            token,
            app_of(name, hangs),
            Sessions(),
            agent_view=lambda agent: {},
            supervision=None,
            live=dict,
            until_ready=asyncio.sleep,  # type: ignore[arg-type]
            node=name,
        )

    a, b = bridge(old_link, 7, "a", True), bridge(new_link, 8, "b", False)
    feeds = Feeds(web, SUBJECTS)
    await feeds.start()
    await a.start()
    request = ForwardedRequest("POST", "/api/note", "", [], None, "http", b"")
    asked = asyncio.create_task(feeds.ask("http", encode_request(request), timeout=130.0))
    try:
        await asyncio.wait_for(reached.wait(), 10)
        await a.close()  # A stops beating; B takes over with the next token
        await b.start()
        answer = decode_answer(await asyncio.wait_for(asked, 30))
    finally:
        await b.close()
        await new_link.close()
    assert json.loads(answer.body) == {"saved_by": "b"}
    assert ran == ["a", "b"] and feeds.resent == 1


async def test_a_request_whose_router_went_silent_and_no_other_came_is_refused(
    links: tuple[BrokerLink, BrokerLink],
) -> None:
    router, web = links
    reached = asyncio.Event()
    app = FastAPI()

    @app.post("/api/note")
    async def save() -> None:
        reached.set()
        await asyncio.Event().wait()  # its node frozen, then killed

    bridge = RouterBridge(
        router,
        SUBJECTS,
        7,
        app,
        Sessions(),
        agent_view=lambda agent: {},
        supervision=None,
        live=dict,
        until_ready=asyncio.sleep,  # type: ignore[arg-type]
        node="a",
    )
    feeds = Feeds(web, SUBJECTS)
    await feeds.start()
    await bridge.start()
    request = ForwardedRequest("POST", "/api/note", "", [], None, "http", b"")
    asked = asyncio.create_task(feeds.ask("http", encode_request(request), timeout=130.0))
    await asyncio.wait_for(reached.wait(), 10)
    await bridge.close()  # silent from now on, and nobody takes over
    # Refused within the silence and the wait for a router (about ten seconds), not 130 s.
    with pytest.raises(BrokerUnavailable, match="aucun routeur"):
        await asyncio.wait_for(asked, 60)
    assert feeds.resent == 1
