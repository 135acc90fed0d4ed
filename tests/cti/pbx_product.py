"""The product on the simulated PBX as the tests start it: a routing file of the test's own,
phones that answer, the dialplan's safety net out of the way (it has its own tests), and the
AMI link ready before the test begins."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import yaml

from cti.assembly import DEMO_PASSWORD, Product, running
from cti.pbxsim.pbx import AgentPhone
from cti.settings import Settings


def settings_for(tmp_path: Path, config: Mapping[str, Any], **changes: Any) -> Settings:
    """A fresh SQLite file, no simulated traffic, ``config`` as the routing file."""
    routing = tmp_path / "routing.yaml"
    routing.write_text(yaml.safe_dump(dict(config), allow_unicode=True), encoding="utf-8")
    fields: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'cti.db'}",
        "http_port": 0,
        "demo_citizens": 10,
        "sim_rate": 0,
        "sim_time_scale": 0.02,  # a 20 s ring timeout lasts 0.4 s
        "routing_config": routing,
    }
    return Settings(**(fields | changes))


async def until_connected(product: Product) -> None:
    """Wait for the AMI link's "ready" (logged in and resynchronised), told on the bus."""
    sub = product.service.bus.subscribe()
    try:
        while product.service.link_state != "ready":
            await asyncio.wait_for(sub.get(), 30)
    finally:
        sub.close()


@contextlib.asynccontextmanager
async def on_simulated_pbx(
    tmp_path: Path, config: Mapping[str, Any], *, ring: float = 1.0, **changes: Any
) -> AsyncIterator[Product]:
    """The product with ``config``'s agents' phones answering after ``ring`` seconds and
    keeping the citizen until the test hangs up."""
    settings = settings_for(tmp_path, config, **changes)
    async with running(settings, simulated=True, traffic=False) as product:
        assert product.pbx is not None
        product.pbx.telephony.agents.update(
            {ext: AgentPhone(ring=ring, talk=3600) for ext in config["agents"]}
        )
        product.pbx.telephony.safety_net = 1e6
        await until_connected(product)
        yield product


async def login(product: Product, username: str) -> httpx.AsyncClient:
    """A demo account's session, with its CSRF token on every request."""
    client = httpx.AsyncClient(base_url=product.url.rstrip("/"))
    response = await client.post(
        "/api/login", json={"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf"]
    return client
