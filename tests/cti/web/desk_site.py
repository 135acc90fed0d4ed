"""What the web tests without a PBX share: a desk where nobody takes calls, logging in."""

from __future__ import annotations

import httpx

from cti.web.auth import CSRF_HEADER


class DeskOffline:
    """The router's desk with nobody logged in (these tests take no calls)."""

    def agent_state(self, agent: str) -> tuple[str, str | None]:
        return ("offline", None)


async def logged_in(url: str, username: str, password: str) -> httpx.AsyncClient:
    """A client of ``url`` with a session of ``username`` and its CSRF header."""
    client = httpx.AsyncClient(base_url=url)
    response = await client.post("/api/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    client.headers[CSRF_HEADER] = response.json()["csrf"]
    return client
