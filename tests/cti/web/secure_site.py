"""A real server with the agents' desk for the security tests: accounts, a hub, sockets.

Real HTTP and WebSocket clients against it; clients may speak from another loopback address
(127.0.0.2, ...) to play a colleague's desk or a stranger.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets

from cti.db import Database
from cti.service import CallService
from cti.settings import Settings
from cti.web.app import DeskParts, create_app
from cti.web.auth import CSRF_HEADER, Sessions
from cti.web.login_limits import LoginLimits
from cti.web.serve import serving
from cti.web.supervision_api import SupervisionFeed
from cti.web.transport import CookieSecure
from routing.config import load_config
from routing.engine import RoutingEngine
from screenpop.accounts import Role, create_user
from screenpop.directory import Directory
from screenpop.hub import AgentHub
from screenpop.pop import ScreenPop

PASSWORD = "le bon mot de passe"
STAFF = (
    ("marie", Role.AGENT, "201"),
    ("paul", Role.AGENT, "202"),
    ("chef", Role.SUPERVISOR, None),
    ("admin", Role.ADMIN, None),
)


@dataclass
class DeskStub:
    """The router's desk without a routing engine: states kept, wrap-ups ended counted."""

    states: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    done: list[str] = field(default_factory=list)

    def agent_state(self, agent: str) -> tuple[str, str | None]:
        return self.states.get(agent, ("offline", None))

    def set_agent_state(self, agent: str, state: str, reason: str | None) -> None:
        self.states[agent] = (state, reason)

    def wrap_up_done(self, agent: str) -> None:
        self.done.append(agent)


@dataclass
class Site:
    port: int
    database: Database
    directory: Directory
    hub: AgentHub
    service: CallService
    sessions: Sessions
    pop: ScreenPop
    desk: DeskStub

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, source: str = "127.0.0.1") -> httpx.AsyncClient:
        transport = httpx.AsyncHTTPTransport(local_address=source)
        return httpx.AsyncClient(base_url=self.url, transport=transport)

    async def login(self, username: str, source: str = "127.0.0.1") -> httpx.AsyncClient:
        client = self.client(source)
        response = await client.post(
            "/api/login", json={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        client.headers[CSRF_HEADER] = response.json()["csrf"]
        return client

    def socket(self, client: httpx.AsyncClient, path: str) -> Any:
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        return websockets.connect(
            f"ws://127.0.0.1:{self.port}{path}", additional_headers={"Cookie": cookie}
        )


@contextlib.asynccontextmanager
async def running_site(
    database: Database,
    *,
    sessions: Sessions | None = None,
    limits: LoginLimits | None = None,
    trusted_proxies: Sequence[str] = (),
    cookie_secure: CookieSecure = "auto",
) -> AsyncIterator[Site]:
    for username, role, extension in STAFF:
        create_user(database, username, PASSWORD, role, username.capitalize(), extension)
    directory = Directory(database)
    service = CallService()
    hub = AgentHub()
    pop = ScreenPop(directory, hub)
    engine = RoutingEngine(load_config(Settings().routing_config))
    feed = SupervisionFeed(lambda: engine, time.time)
    desk = DeskStub()
    parts = DeskParts(
        database,
        directory,
        pop,
        hub,
        desk,  # type: ignore[arg-type]
        supervision=feed,
        sessions=sessions or Sessions(),
        login_limiter=limits or LoginLimits(),
    )
    app = create_app(service, parts, trusted_proxies=trusted_proxies, cookie_secure=cookie_secure)
    writer = asyncio.create_task(pop.run())  # the screen pop's database writes
    try:
        async with serving(app) as port:
            yield Site(port, database, directory, hub, service, parts.sessions, pop, desk)
        await pop.close()  # as the product stops: what is on its way is written
    finally:
        writer.cancel()


async def next_json(ws: Any) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 10))
    return message
