"""A web node (``CTI_ROLE=web``): agents' and supervisors' sockets, every other request
handed to the router over the broker.

Any number of web nodes stand behind the load balancer. Each one holds the pages' WebSockets
(``/ws/agent``, ``/ws/supervision``, ``/ws/events``) and feeds them from the broker
(``cti.broker.feeds``); it checks their sessions itself, from the database. Everything else
(pages, the API: login, « Prêt », notes, transfers, administration) is forwarded as it came
to the router's node, whose application runs it (``cti.broker.router_side``): one code base,
the same routes, roles, CSRF and audit on every node. ``/livez``, ``/readyz`` (the broker
link is up) and ``/metrics`` are the node's own.

A state-changing request goes with an ``Idempotency-Key``: the page's own (one per user
action, ``static/session.js``), else one made here. If the router dies while running it, the
request goes to the next router, which gives back the answer stored under that key rather
than running it twice (``cti.broker.feeds``, ``cti.broker.answered``).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.websockets import WebSocketDisconnect

from cti.broker.answered import KEY_HEADER, SAFE_METHODS
from cti.broker.envelope import ForwardedRequest, decode_answer, encode_request
from cti.broker.feeds import Feeds
from cti.broker.link import BrokerUnavailable
from cti.bus import Subscription
from cti.web.app import STATIC
from cti.web.auth import (
    Session,
    Sessions,
    SocketRefused,
    refuse_socket,
    socket_guard,
    websocket_agent,
    websocket_session,
)
from cti.web.metrics_api import CONTENT_TYPE, check_scraper
from cti.web.relay import relay
from screenpop.accounts import Role
from screenpop.messages import Hello

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# Hop-by-hop, or recomputed for the body as it is sent back.
_DROPPED = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})
ROUTER_AWAY = (
    "Le routeur ne répond pas ({why}) : s'il change de nœud, c'est l'affaire de quelques "
    "secondes, réessayez."
)
ROUTER_AWAY_CLOSE = (1013, "routeur injoignable : nouvelle tentative")


class WebNodeStats:
    def __init__(self) -> None:
        self.forwarded = 0
        self.refused = 0  # answered 503: no router reachable through the broker


def create_web_app(feeds: Feeds, sessions: Sessions, *, metrics_token: str | None) -> FastAPI:
    app = FastAPI(title="CTI mairie — nœud web", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.sessions = sessions
    app.state.feeds = feeds
    app.state.metrics_token = metrics_token
    stats = app.state.stats = WebNodeStats()
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/livez")
    async def live() -> dict[str, Any]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def ready() -> JSONResponse:
        """Ready while the broker link is up: the router behind it may change meanwhile
        (a failover), which pages ride out by reconnecting."""
        body = {
            "role": "web",
            "broker": feeds.link.state,
            "router": {"token": feeds.router_token, "node": feeds.router_node}
            if feeds.router_heard
            else None,
        }
        if feeds.link.state != "up":
            body |= {"status": "not_ready", "reason": f"courtier : {feeds.link.state}"}
            return JSONResponse(body, status_code=503)
        return JSONResponse({"status": "ready", **body})

    @app.get("/metrics")
    async def metrics(request: Request) -> PlainTextResponse:
        check_scraper(request)
        return PlainTextResponse(render(feeds, stats), media_type=CONTENT_TYPE)

    @app.websocket("/ws/agent")
    async def agent_socket(websocket: WebSocket) -> None:
        try:
            session, agent = await websocket_agent(websocket)
        except SocketRefused as exc:
            await refuse_socket(websocket, exc)
            return

        async def first(ws: WebSocket) -> None:
            view = await feeds.ask_json("agent", agent.encode())
            user = session.user
            hello = Hello(
                agent=agent,
                display_name=user.display_name,
                role=user.role.value,
                state=view.get("state") or "offline",
                reason=view.get("reason"),
            )
            await ws.send_json(hello.model_dump(mode="json"))
            if view.get("current"):
                await ws.send_text(view["current"])

        await _serve_socket(websocket, session, feeds.agent_bus(agent).subscribe(), first)

    @app.websocket("/ws/supervision")
    async def supervision_socket(websocket: WebSocket) -> None:
        try:
            session = await websocket_session(websocket, Role.SUPERVISOR)
        except SocketRefused as exc:
            await refuse_socket(websocket, exc)
            return

        async def first(ws: WebSocket) -> None:
            await ws.send_text((await feeds.ask("supervision")).decode())

        await _serve_socket(websocket, session, feeds.supervision.subscribe(), first)

    @app.websocket("/ws/events")
    async def events_socket(websocket: WebSocket) -> None:
        try:
            session = await websocket_session(websocket, Role.SUPERVISOR)
        except SocketRefused as exc:
            await refuse_socket(websocket, exc)
            return

        async def first(ws: WebSocket) -> None:
            await ws.send_text((await feeds.ask("live")).decode())

        await _serve_socket(websocket, session, feeds.live.subscribe(), first)

    @app.api_route("/{path:path}", methods=METHODS, include_in_schema=False)
    async def forward(request: Request) -> Response:
        body = await request.body()
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        if request.method not in SAFE_METHODS and KEY_HEADER not in request.headers:
            headers.append((KEY_HEADER, f"web-{uuid.uuid4().hex}"))  # the same on a resend
        forwarded = ForwardedRequest(
            method=request.method,
            path=request.url.path,
            query=request.url.query,
            headers=headers,
            client=(request.client.host, request.client.port) if request.client else None,
            scheme=request.url.scheme,
            body=body,
        )
        try:
            raw = await feeds.ask("http", encode_request(forwarded), timeout=130.0)
        except BrokerUnavailable as exc:
            stats.refused += 1
            return JSONResponse(
                {"detail": ROUTER_AWAY.format(why=exc)},
                status_code=503,
                headers={"Retry-After": "2"},
            )
        stats.forwarded += 1
        answer = decode_answer(raw)
        response = Response(content=answer.body, status_code=answer.status)
        response.raw_headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in answer.headers
            if k.lower() not in _DROPPED
        ] + [(b"content-length", str(len(answer.body)).encode())]
        return response

    return app


async def _serve_socket(
    websocket: WebSocket, session: Session, sub: Subscription, first: Any
) -> None:
    """Accept, send what the page needs first (asked of the router), then relay the bus.

    Subscribed before asking: nothing falls between the snapshot and the first update (a
    message may come twice; pages take the later one)."""
    await websocket.accept()
    try:
        try:
            await first(websocket)
        except BrokerUnavailable:
            code, reason = ROUTER_AWAY_CLOSE
            await websocket.close(code=code, reason=reason)
            return
        await relay(websocket, sub, socket_guard(websocket, session))
    except WebSocketDisconnect:
        pass
    finally:
        sub.close()


class _WebNodeScrape(Collector):
    def __init__(self, feeds: Feeds, stats: WebNodeStats) -> None:
        self.feeds, self.stats = feeds, stats

    def collect(self) -> list[Metric]:
        feeds, link = self.feeds, self.feeds.link
        info = GaugeMetricFamily("cti_node_info", "This process's role.", labels=["role"])
        info.add_metric(["web"], 1)
        return [
            info,
            GaugeMetricFamily(
                "cti_websocket_clients", "Open WebSockets on this node.", value=feeds.page_count
            ),
            GaugeMetricFamily(
                "cti_broker_up", "1 while the broker link is up.", value=link.state == "up"
            ),
            CounterMetricFamily(
                "cti_broker_reconnects", "Broker links lost then back.", value=link.reconnects
            ),
            GaugeMetricFamily(
                "cti_router_heard", "1 while a router announces itself.", value=feeds.router_heard
            ),
            CounterMetricFamily(
                "cti_router_changes", "Routers taken over from another.", value=feeds.router_changes
            ),
            CounterMetricFamily(
                "cti_forwarded_requests",
                "HTTP requests run by the router.",
                value=self.stats.forwarded,
            ),
            CounterMetricFamily(
                "cti_forward_refused",
                "HTTP requests answered 503: no router reachable.",
                value=self.stats.refused,
            ),
            CounterMetricFamily(
                "cti_forward_retried",
                "Requests sent again: their router went while running them.",
                value=feeds.resent,
            ),
            CounterMetricFamily(
                "cti_broker_messages_received",
                "Messages for pages from the broker.",
                value=feeds.received,
            ),
        ]


def render(feeds: Feeds, stats: WebNodeStats) -> str:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_WebNodeScrape(feeds, stats))
    return generate_latest(registry).decode()
