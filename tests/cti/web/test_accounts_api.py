"""Accounts over HTTP on a real database: first login with a one-time password, admins' API.

SQLite, and PostgreSQL when CTI_TEST_DATABASE_URL is set; a real server, real HTTP clients and
a real WebSocket client.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import websockets

from cti.accounts.admin import ensure_first_admin
from cti.db import Database
from cti.service import CallService
from cti.web.app import DeskParts, create_app
from cti.web.auth import CSRF_HEADER
from cti.web.serve import serving
from screenpop.directory import Directory
from screenpop.hub import AgentHub
from screenpop.pop import ScreenPop
from tests.cti.web.desk_site import DeskOffline, logged_in


@dataclass
class Site:
    url: str
    port: int
    database: Database

    async def login(self, username: str, password: str) -> httpx.AsyncClient:
        return await logged_in(self.url, username, password)


@pytest.fixture
async def site(database: Database) -> AsyncIterator[Site]:
    directory = Directory(database)
    hub = AgentHub()
    pop = ScreenPop(directory, hub)
    parts = DeskParts(database, directory, pop, hub, DeskOffline())  # type: ignore[arg-type]
    writer = asyncio.create_task(pop.run())  # logins are audited through it
    try:
        async with serving(create_app(CallService(), parts)) as port:
            yield Site(f"http://127.0.0.1:{port}", port, database)
    finally:
        writer.cancel()


async def _admin(site: Site) -> httpx.AsyncClient:
    """The first admin, logged in with its own password after the forced change."""
    first = ensure_first_admin(site.database, "système")
    assert first is not None
    client = await site.login("admin", first.password)
    new = {"current_password": first.password, "new_password": "le mot de passe de l'admin"}
    assert (await client.post("/api/password", json=new)).status_code == 204
    return client


async def test_the_first_login_with_a_one_time_password_must_change_it(site: Site) -> None:
    first = ensure_first_admin(site.database, "système")
    assert first is not None and first.account.username == "admin"
    assert ensure_first_admin(site.database, "système") is None  # one admin is enough

    async with httpx.AsyncClient(base_url=site.url) as client:
        login = await client.post(
            "/api/login", json={"username": "admin", "password": first.password}
        )
        assert login.status_code == 200
        assert login.json()["password_change_required"] is True
        client.headers[CSRF_HEADER] = login.json()["csrf"]

        # Until the change, the session opens nothing but the change itself.
        audit = await client.get("/api/audit")
        assert audit.status_code == 403 and "changez-le d'abord" in audit.json()["detail"]
        assert (await client.get("/api/admin/users")).status_code == 403
        assert (await client.get("/api/me")).json()["password_change_required"] is True

        wrong = await client.post(
            "/api/password",
            json={"current_password": "pas le bon", "new_password": "un nouveau mot de passe"},
        )
        assert wrong.status_code == 400
        assert wrong.json()["detail"] == "Refusé : le mot de passe actuel est incorrect."
        short = await client.post(
            "/api/password", json={"current_password": first.password, "new_password": "court"}
        )
        assert short.status_code == 422 and "au moins 12 caractères" in short.json()["detail"]
        same = await client.post(
            "/api/password",
            json={"current_password": first.password, "new_password": first.password},
        )
        assert same.status_code == 422 and "différent" in same.json()["detail"]

        done = await client.post(
            "/api/password",
            json={"current_password": first.password, "new_password": "mon mot de passe à moi"},
        )
        assert done.status_code == 204
        # The same session goes on, now with every right of its role.
        assert (await client.get("/api/audit")).status_code == 200
        assert (await client.get("/api/me")).json()["password_change_required"] is False

    async with httpx.AsyncClient(base_url=site.url) as other:
        old = await other.post("/api/login", json={"username": "admin", "password": first.password})
        assert old.status_code == 401
    admin = await site.login("admin", "mon mot de passe à moi")
    try:
        trail = (await admin.get("/api/audit", params={"user": "admin"})).json()
        assert "password.change" in {e["action"] for e in trail}
    finally:
        await admin.aclose()


async def test_a_one_time_password_opens_no_socket(site: Site) -> None:
    admin = await _admin(site)
    created = await admin.post(
        "/api/admin/users", json={"username": "marie", "role": "agent", "extension": "201"}
    )
    password = created.json()["one_time_password"]
    marie = await site.login("marie", password)
    cookie = "; ".join(f"{k}={v}" for k, v in marie.cookies.items())
    url = f"ws://127.0.0.1:{site.port}/ws/agent"
    with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
        async with websockets.connect(url, additional_headers={"Cookie": cookie}) as ws:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    await marie.aclose()
    await admin.aclose()


async def test_admins_manage_accounts_and_every_change_is_audited(site: Site) -> None:
    admin = await _admin(site)
    created = await admin.post(
        "/api/admin/users",
        json={
            "username": "marie",
            "display_name": "Marie Lambert",
            "role": "agent",
            "extension": "201",
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["account"]["must_change_password"] is True and body["account"]["active"]
    marie_password = body["one_time_password"]
    assert len(marie_password) >= 12

    taken = await admin.post(
        "/api/admin/users", json={"username": "paul", "role": "agent", "extension": "201"}
    )
    assert taken.status_code == 409
    assert taken.json()["detail"] == (
        "Refusé : le poste 201 est déjà attribué au compte « marie »."
    )
    again = await admin.post("/api/admin/users", json={"username": "marie", "role": "agent"})
    assert again.status_code == 409
    bad = await admin.post("/api/admin/users", json={"username": "Marie Lambert", "role": "agent"})
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("Refusé : identifiant « Marie Lambert » : 2 à 80")

    # Marie changes her password, then is refused the admins' routes.
    marie = await site.login("marie", marie_password)
    changed = await marie.post(
        "/api/password",
        json={"current_password": marie_password, "new_password": "le secret de marie"},
    )
    assert changed.status_code == 204
    assert (await marie.get("/api/admin/users")).status_code == 403
    refused = await marie.post("/api/admin/users", json={"username": "x1", "role": "admin"})
    assert refused.status_code == 403
    assert (await marie.post("/api/admin/users/marie/disable")).status_code == 403

    # A new extension and role reach her open session at once.
    moved = await admin.put("/api/admin/users/marie/extension", json={"extension": "205"})
    assert moved.status_code == 200 and moved.json()["extension"] == "205"
    assert (await marie.get("/api/me")).json()["agent"] == "205"
    promoted = await admin.put("/api/admin/users/marie/role", json={"role": "supervisor"})
    assert promoted.json()["role"] == "supervisor"
    assert (await marie.get("/api/me")).json()["role"] == "supervisor"
    unknown = await admin.put("/api/admin/users/personne/role", json={"role": "agent"})
    assert unknown.status_code == 404

    # Disabled: her session is closed and she cannot log in again.
    disabled = await admin.post("/api/admin/users/marie/disable")
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    assert (await marie.get("/api/me")).status_code == 401
    async with httpx.AsyncClient(base_url=site.url) as client:
        login = await client.post(
            "/api/login", json={"username": "marie", "password": "le secret de marie"}
        )
        assert login.status_code == 401
    assert (await admin.post("/api/admin/users/marie/enable")).json()["active"] is True

    # A reset: a new one-time password, the old one no longer works.
    reset = await admin.post("/api/admin/users/marie/password", json={})
    assert reset.status_code == 200
    new_password = reset.json()["one_time_password"]
    marie2 = await site.login("marie", new_password)
    assert (await marie2.get("/api/me")).json()["password_change_required"] is True

    last = await admin.post("/api/admin/users/admin/disable")
    assert last.status_code == 409 and "dernier administrateur" in last.json()["detail"]

    listed = (await admin.get("/api/admin/users")).json()
    assert [(a["username"], a["role"], a["extension"]) for a in listed] == [
        ("admin", "admin", None),
        ("marie", "supervisor", "205"),
    ]
    trail = (await admin.get("/api/audit", params={"user": "admin"})).json()
    assert [(e["action"], e["detail"]) for e in reversed(trail) if e["action"] != "login"] == [
        ("password.change", "admin"),
        ("user.create", "marie (agent, poste 201)"),
        ("user.extension", "marie : 201 → 205"),
        ("user.role", "marie : agent → supervisor"),
        ("user.disable", "marie"),
        ("user.enable", "marie"),
        ("user.password.reset", "marie"),
    ]
    for client in (admin, marie, marie2):
        await client.aclose()
