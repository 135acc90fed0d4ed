"""A WebSocket lives no longer than its session: logout, expiry, an account disabled or given
a new role close it at once (4401, reason in French), and nothing is sent after.

Real server, real HTTP and WebSocket clients, on SQLite and PostgreSQL; the sessions' clock
is ours where expiry is tested.
"""

from __future__ import annotations

from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from cti.db import Database
from cti.web.auth import Sessions
from screenpop.messages import AgentStateChanged
from tests.cti.web.secure_site import Site, next_json, running_site


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _tell_marie(site: Site) -> None:
    """Something for marie's page (a card would do the same): it must not reach a closed one."""
    site.hub.send("201", AgentStateChanged(agent="201", state="paused", reason="x"), keep=False)


async def _closed(ws: Any) -> tuple[int, str]:
    """The close code and reason; fails if anything else arrives first."""
    with pytest.raises(ConnectionClosed) as closed:
        message = await next_json(ws)
        pytest.fail(f"received after the session ended: {message}")
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def test_logout_closes_the_agents_socket_and_only_that_sessions(database: Database) -> None:
    async with running_site(database) as site:
        desk, laptop = await site.login("marie"), await site.login("marie")
        async with site.socket(desk, "/ws/agent") as ws, site.socket(laptop, "/ws/agent") as other:
            assert (await next_json(ws))["type"] == "hello"
            assert (await next_json(other))["type"] == "hello"
            assert (await desk.post("/api/logout")).status_code == 200
            _tell_marie(site)
            assert await _closed(ws) == (4401, "déconnexion : session fermée")
            # Her other session (the laptop) goes on.
            assert (await next_json(other))["type"] == "agent.state"
        await desk.aclose()
        await laptop.aclose()


@pytest.mark.parametrize("path", ["/ws/events", "/ws/supervision"])
async def test_logout_closes_the_supervisors_sockets(database: Database, path: str) -> None:
    async with running_site(database) as site:
        chef = await site.login("chef")
        async with site.socket(chef, path) as ws:
            await next_json(ws)  # the snapshot
            assert (await chef.post("/api/logout")).status_code == 200
            site.service.bus.publish({"type": "after-logout"})
            assert await _closed(ws) == (4401, "déconnexion : session fermée")
        await chef.aclose()


async def test_an_expired_session_sends_nothing_more(database: Database) -> None:
    clock = Clock()
    async with running_site(database, sessions=Sessions(ttl=600, clock=clock)) as site:
        marie = await site.login("marie")
        async with site.socket(marie, "/ws/agent") as ws:
            await next_json(ws)
            clock.now += 601  # eight hours without a request, say
            _tell_marie(site)
            assert await _closed(ws) == (4401, "session expirée : reconnectez-vous")
        assert (await marie.get("/api/me")).status_code == 401
        await marie.aclose()


async def test_an_expired_session_closes_its_sockets_without_waiting_for_a_message(
    database: Database,
) -> None:
    clock = Clock()
    async with running_site(database, sessions=Sessions(ttl=600, clock=clock)) as site:
        chef = await site.login("chef")
        async with site.socket(chef, "/ws/supervision") as ws:
            await next_json(ws)
            clock.now += 601
            assert site.sessions.sweep() == 1
            assert await _closed(ws) == (4401, "session expirée : reconnectez-vous")
        await chef.aclose()


async def test_disabling_an_account_closes_its_sockets(database: Database) -> None:
    async with running_site(database) as site:
        admin, marie = await site.login("admin"), await site.login("marie")
        async with site.socket(marie, "/ws/agent") as ws:
            await next_json(ws)
            assert (await admin.post("/api/admin/users/marie/disable")).status_code == 200
            _tell_marie(site)
            code, reason = await _closed(ws)
            assert code == 4401 and "administrateur" in reason
        await admin.aclose()
        await marie.aclose()


async def test_a_new_role_closes_the_sockets_opened_under_the_old_one(database: Database) -> None:
    async with running_site(database) as site:
        admin, chef = await site.login("admin"), await site.login("chef")
        async with site.socket(chef, "/ws/events") as ws:
            await next_json(ws)
            demoted = await admin.put("/api/admin/users/chef/role", json={"role": "telecom"})
            assert demoted.status_code == 200, demoted.text
            site.service.bus.publish({"type": "after-the-change"})
            assert await _closed(ws) == (4401, "rôle ou poste modifié : reconnectez-vous")
        # The session lives on with the new role: the socket is now refused.
        assert (await chef.get("/api/me")).json()["role"] == "telecom"
        async with site.socket(chef, "/ws/events") as again:
            assert (await _closed(again))[0] == 4403
        await admin.aclose()
        await chef.aclose()
