"""``/livez`` and ``/readyz``: what a load balancer reads, without logging in."""

from __future__ import annotations

import httpx

from cti.service import CallService
from cti.web.app import create_app


async def test_ready_only_while_the_link_to_asterisk_is_up() -> None:
    service = CallService()
    app = create_app(service)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://cti") as client:
        assert (await client.get("/livez")).json() == {"status": "ok"}
        down = await client.get("/readyz")
        service.on_link_state("ready")
        up = await client.get("/readyz")
        service.on_link_state("resyncing")
        again = await client.get("/readyz")
    assert down.status_code == 503 and "lien AMI" in down.json()["reason"]
    assert up.status_code == 200 and up.json() == {"status": "ready"}
    assert again.status_code == 503 and "resyncing" in again.json()["reason"]
