"""Every HTTP route and WebSocket of the real product refuses who has no right to it.

The product runs in-process on the simulated PBX (no traffic) with its demo accounts, one per
role. The test walks ``app.openapi()`` and ``app.routes`` (WebSockets and pages that are not in
the schema too) and fails on any route missing from ``ACCESS`` below, naming it: a new route
must say who may use it. For each route and method: anonymous gets 401, a role outside the
route's set gets 403, a role inside gets neither; a state-changing request without the CSRF
header gets 403 even from the right role. Sockets: anonymous is closed with 4401, a wrong role
with 4403, the right role receives its first message.

HTML pages ("/", "/agent", "/audit") are public shells without any data: they show a login
form and read everything through the API, so anonymous gets the page (200), not a redirect.
That an agent's socket carries only that agent's cards is tested with real calls in
tests/screenpop/test_screenpop_socket.py.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
import websockets
from fastapi import FastAPI
from fastapi.routing import APIWebSocketRoute, iter_route_contexts
from starlette.routing import Mount

from cti.assembly import DEMO_PASSWORD, Product, running
from cti.settings import Settings
from cti.web.auth import CSRF_HEADER

AGENT, SUPERVISOR, TELECOM, ADMIN = "agent", "supervisor", "telecom", "admin"
ROLES = (AGENT, SUPERVISOR, TELECOM, ADMIN)
USER_OF_ROLE = {AGENT: "marie", SUPERVISOR: "superviseur", TELECOM: "telecom", ADMIN: "admin"}

PUBLIC = "public"  # anyone, no data behind it
PAGE = "page"  # static HTML shell: anyone gets it, data come from the API
SESSION = "session"  # any logged-in user
LOOPBACK = "loopback"  # /metrics: this machine or CTI_METRICS_TOKEN (tests/cti/test_metrics.py)

# The agent's desk needs a phone extension: the demo's supervisor and admin have none, so the
# routes that act on "my call" refuse them (403) like a wrong role.
DESK = frozenset({AGENT})
DESK_READ = frozenset({AGENT, SUPERVISOR, ADMIN})
SUPERVISION = frozenset({SUPERVISOR, ADMIN})
ROUTING_READ = frozenset({SUPERVISOR, TELECOM, ADMIN})
MENU_MEASURES = frozenset({SUPERVISOR, TELECOM, ADMIN})  # the quality page reads them too
TELECOM_ONLY = frozenset({TELECOM, ADMIN})
ADMIN_ONLY = frozenset({ADMIN})

Access = str | frozenset[str]

# (method, path) -> who may use it. WebSockets use the method "WS".
ACCESS: dict[tuple[str, str], Access] = {
    ("GET", "/"): PAGE,
    ("GET", "/agent"): PAGE,
    ("GET", "/audit"): PAGE,
    ("GET", "/supervision"): PAGE,
    ("GET", "/rapports"): PAGE,
    ("GET", "/qualite"): PAGE,
    ("GET", "/ivr"): PAGE,
    ("GET", "/admin/utilisateurs"): PAGE,
    ("GET", "/admin/services"): PAGE,
    ("GET", "/admin/horaires"): PAGE,
    ("GET", "/mot-de-passe"): PAGE,
    ("GET", "/static"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/livez"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    # The voice menu's sounds for an Asterisk on another machine (menu prompts only).
    ("GET", "/sounds/cti/{name}"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("GET", "/api/schema/agent-messages.json"): PUBLIC,
    ("GET", "/api/schema/supervision-messages.json"): PUBLIC,
    ("GET", "/metrics"): LOOPBACK,
    ("POST", "/api/login"): PUBLIC,
    ("GET", "/api/me"): SESSION,
    ("POST", "/api/logout"): SESSION,
    ("POST", "/api/password"): SESSION,
    ("GET", "/api/calls"): SUPERVISION,
    ("WS", "/ws/events"): SUPERVISION,
    ("GET", "/api/agent/dispositions"): DESK_READ,
    ("POST", "/api/agent/state"): DESK,
    ("GET", "/api/citizens"): DESK_READ,
    ("POST", "/api/citizens"): DESK_READ,
    ("GET", "/api/citizens/{citizen_id}"): DESK_READ,
    ("GET", "/api/agent/transfer-targets"): DESK,
    ("POST", "/api/calls/{call_id}/citizen"): DESK,
    ("POST", "/api/calls/{call_id}/note"): DESK,
    ("POST", "/api/calls/{call_id}/disposition"): DESK,
    ("POST", "/api/calls/{call_id}/transfer"): DESK,
    ("POST", "/api/calls/{call_id}/done"): DESK,
    ("POST", "/api/calls/{call_id}/callback"): DESK,
    ("GET", "/api/callbacks"): DESK_READ,
    ("GET", "/api/callbacks/board"): SUPERVISION,
    ("GET", "/api/callbacks/report"): SUPERVISION,
    ("POST", "/api/callbacks/{callback_id}/accept"): DESK,
    ("POST", "/api/callbacks/{callback_id}/postpone"): DESK,
    ("WS", "/ws/agent"): DESK,
    ("GET", "/api/routing/config"): ROUTING_READ,
    ("PUT", "/api/routing/config"): SUPERVISION,
    ("PUT", "/api/routing/admin"): ADMIN_ONLY,
    ("POST", "/api/routing/what-if"): ADMIN_ONLY,
    ("GET", "/api/routing/versions"): ROUTING_READ,
    ("POST", "/api/routing/versions/{version}/restore"): SUPERVISION,
    ("GET", "/api/routing/agents"): ROUTING_READ,
    ("GET", "/api/routing/queues"): ROUTING_READ,
    ("GET", "/api/supervision"): SUPERVISION,
    ("GET", "/api/supervision/calls/{call_id}/why"): SUPERVISION,
    ("POST", "/api/supervision/alerts/{alert_id}/ack"): SUPERVISION,
    ("POST", "/api/supervision/agents/{agent}/pause"): SUPERVISION,
    ("POST", "/api/supervision/agents/{agent}/logout"): SUPERVISION,
    ("WS", "/ws/supervision"): SUPERVISION,
    ("GET", "/api/reports"): SUPERVISION,
    ("GET", "/api/reports.csv"): SUPERVISION,
    ("GET", "/api/reports.svg"): SUPERVISION,
    ("GET", "/api/quality"): SUPERVISION,
    ("GET", "/api/quality.csv"): SUPERVISION,
    ("GET", "/api/quality.svg"): SUPERVISION,
    ("GET", "/api/ivr/versions"): TELECOM_ONLY,
    ("GET", "/api/ivr/versions/{number}"): TELECOM_ONLY,
    ("POST", "/api/ivr/validate"): TELECOM_ONLY,
    ("POST", "/api/ivr/simulate"): TELECOM_ONLY,
    ("POST", "/api/ivr/drafts"): TELECOM_ONLY,
    ("POST", "/api/ivr/versions/{number}/publish"): TELECOM_ONLY,
    ("GET", "/api/ivr/diff"): TELECOM_ONLY,
    ("POST", "/api/ivr/compare"): TELECOM_ONLY,
    ("GET", "/api/ivr/schema"): TELECOM_ONLY,
    ("POST", "/api/ivr/recordings"): TELECOM_ONLY,
    ("GET", "/api/ivr/measures"): MENU_MEASURES,
    ("GET", "/api/audit"): ADMIN_ONLY,
    ("GET", "/api/admin/citizens/{citizen_id}/export"): ADMIN_ONLY,
    ("GET", "/api/admin/citizens/{citizen_id}/export.html"): ADMIN_ONLY,
    ("GET", "/api/admin/users"): ADMIN_ONLY,
    ("POST", "/api/admin/users"): ADMIN_ONLY,
    ("POST", "/api/admin/users/{username}/disable"): ADMIN_ONLY,
    ("POST", "/api/admin/users/{username}/enable"): ADMIN_ONLY,
    ("POST", "/api/admin/users/{username}/password"): ADMIN_ONLY,
    ("PUT", "/api/admin/users/{username}/role"): ADMIN_ONLY,
    ("PUT", "/api/admin/users/{username}/extension"): ADMIN_ONLY,
    ("GET", "/api/admin/hours"): ADMIN_ONLY,
    ("PUT", "/api/admin/hours"): ADMIN_ONLY,
    ("GET", "/api/admin/holidays"): ADMIN_ONLY,
}

SAFE = {"GET", "HEAD", "OPTIONS"}
# Values for path parameters: real enough to pass validation, unknown enough to change nothing.
PATH_VALUES = {
    "username": "personne",  # no such account: the admin's request changes nothing (404)
    "call_id": "1700000000.999",
    "version": "999999",
    "number": "999999",
    "alert_id": "999999",
    "callback_id": "0000000000000000",
    "agent": "999",  # no such phone: refused (409), nothing changes
    "citizen_id": "1",
    "name": "000000000000000000000000.wav",
}


def served_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves, from its routes and its OpenAPI."""
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        path = context.path
        assert path is not None
        if isinstance(route, APIWebSocketRoute):
            found.add(("WS", path))
        elif isinstance(route, Mount):
            found.add(("GET", path))
        else:
            found |= {(m, path) for m in (context.methods or set()) if m != "HEAD"}
    for path, operations in app.openapi()["paths"].items():
        found |= {(method.upper(), path) for method in operations}
    return found


def concrete(path: str) -> str:
    for name, value in PATH_VALUES.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"add a value for the parameter of {path} to PATH_VALUES"
    return path


@dataclass
class Desk:
    product: Product
    clients: dict[str, httpx.AsyncClient]

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.product.port}"

    @property
    def app(self) -> FastAPI:
        assert self.product.app is not None
        return self.product.app

    async def login(self, role: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=self.http)
        form = {"username": USER_OF_ROLE[role], "password": DEMO_PASSWORD}
        response = await client.post("/api/login", json=form)
        assert response.status_code == 200, response.text
        client.headers[CSRF_HEADER] = response.json()["csrf"]
        return client

    def cookie(self, role: str) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.clients[role].cookies.items())


# One product for the whole module: starting it (accounts hashed with argon2) is the slow part.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def desk(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Desk]:
    tmp_path = tmp_path_factory.mktemp("roles")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cti.db'}",
        http_port=0,
        demo_citizens=10,
        sim_rate=0,
    )
    async with running(settings, simulated=True, traffic=False) as product:
        desk = Desk(product, {})
        for role in ROLES:
            desk.clients[role] = await desk.login(role)
        try:
            yield desk
        finally:
            for client in desk.clients.values():
                await client.aclose()


async def test_no_route_is_left_without_a_rule(desk: Desk) -> None:
    served = served_routes(desk.app)
    missing = sorted(served - ACCESS.keys())
    assert not missing, (
        "routes without a rule in ACCESS (tests/cti/web/test_roles.py): add each with the "
        "roles that may use it: " + ", ".join(f"{m} {p}" for m, p in missing)
    )
    gone = sorted(ACCESS.keys() - served)
    assert not gone, "ACCESS names routes the app no longer serves: " + ", ".join(
        f"{m} {p}" for m, p in gone
    )


async def _call(client: httpx.AsyncClient, method: str, path: str) -> httpx.Response:
    if method in SAFE:
        return await client.request(method, path)
    return await client.request(method, path, json={})


async def test_each_route_refuses_anonymous_and_wrong_roles_and_admits_the_right_ones(
    desk: Desk,
) -> None:
    async with httpx.AsyncClient(base_url=desk.http) as anonymous:
        for method, path in (key for key in ACCESS if key[0] != "WS"):
            access = ACCESS[(method, path)]
            url = concrete(path)
            if access in (PUBLIC, PAGE, LOOPBACK) or url == "/static":
                continue
            where = f"{method} {path}"
            response = await _call(anonymous, method, url)
            assert response.status_code == 401, f"{where} anonymous: {response.status_code}"
            allowed = frozenset(ROLES) if access == SESSION else access
            assert isinstance(allowed, frozenset)
            for role in ROLES:
                # Logging out ends the session: it gets a session of its own.
                client = await desk.login(role) if url == "/api/logout" else desk.clients[role]
                if method not in SAFE and role in allowed:
                    token = client.headers.pop(CSRF_HEADER)
                    try:
                        no_csrf = await _call(client, method, url)
                    finally:
                        client.headers[CSRF_HEADER] = token
                    assert no_csrf.status_code == 403, f"{where} {role} without CSRF"
                    assert "CSRF" in no_csrf.json()["detail"]
                response = await _call(client, method, url)
                if client is not desk.clients[role]:
                    await client.aclose()
                if role in allowed:
                    assert response.status_code not in (401, 403), (
                        f"{where} refused to {role}: {response.status_code} {response.text}"
                    )
                else:
                    assert response.status_code == 403, (
                        f"{where} let {role} through: {response.status_code}"
                    )


async def test_pages_are_shells_that_ask_for_a_login_and_public_routes_hold_no_personal_data(
    desk: Desk,
) -> None:
    async with httpx.AsyncClient(base_url=desk.http) as anonymous:
        for method, path in ACCESS:
            if ACCESS[(method, path)] == PAGE:
                page = await anonymous.get(path)
                assert page.status_code == 200 and page.headers["content-type"].startswith(
                    "text/html"
                ), path
                if path in ("/", "/agent", "/audit"):  # session.js writes the form into it
                    assert '<section id="login"' in page.text, f"{path} offers no login form"
                    assert 'src="/static/session.js"' in page.text, path
        health = (await anonymous.get("/healthz")).json()
    assert set(health) == {
        "status",
        "ami",
        "live_calls",
        "ami_events",
        "database",
        "voice_menu",
        "voice_menu_missing_sounds",
    }
    assert set(health["database"]) == {"state", "pending_writes", "since", "error"}
    # Only the menu's own texts: which prompts cannot be heard, and why.
    for missing in health["voice_menu_missing_sounds"]:
        assert set(missing) == {"path", "file", "text", "reason"}


async def _first_message_or_close(url: str, cookie: str | None) -> int | dict[str, object]:
    headers = {"Cookie": cookie} if cookie else {}
    try:
        async with websockets.connect(url, additional_headers=headers) as ws:
            message: dict[str, object] = json.loads(await ws.recv())
            return message
    except websockets.exceptions.ConnectionClosed as closed:
        assert closed.rcvd is not None
        return closed.rcvd.code


async def test_each_socket_closes_4401_for_anonymous_4403_for_a_wrong_role(desk: Desk) -> None:
    for (method, path), access in ACCESS.items():
        if method != "WS":
            continue
        assert isinstance(access, frozenset)
        url = f"ws://127.0.0.1:{desk.product.port}{path}"
        assert await _first_message_or_close(url, None) == 4401, path
        for role in ROLES:
            outcome = await _first_message_or_close(url, desk.cookie(role))
            if role in access:
                assert isinstance(outcome, dict), f"{path} refused to {role}: {outcome}"
            else:
                assert outcome == 4403, f"{path} let {role} in: {outcome}"


async def test_a_socket_from_another_site_is_refused(desk: Desk) -> None:
    url = f"ws://127.0.0.1:{desk.product.port}/ws/events"
    headers = {"Cookie": desk.cookie(SUPERVISOR), "Origin": "http://evil.example"}
    with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
        async with websockets.connect(url, additional_headers=headers) as ws:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_a_routing_change_and_the_logins_are_in_the_audit_trail(desk: Desk) -> None:
    supervisor, admin = desk.clients[SUPERVISOR], desk.clients[ADMIN]
    current = (await supervisor.get("/api/routing/config")).json()
    form = {"config": current["config"], "comment": "essai d'audit"}
    saved = await supervisor.put("/api/routing/config", json=form)
    assert saved.status_code == 200, saved.text
    changes = (await admin.get("/api/audit", params={"action": "routing.update"})).json()
    assert changes[0]["username"] == "superviseur"
    assert changes[0]["detail"] == f"version {saved.json()['version']} : essai d'audit"
    logins = (await admin.get("/api/audit", params={"user": "marie", "action": "login"})).json()
    assert logins and logins[0]["detail"] == "depuis 127.0.0.1"
