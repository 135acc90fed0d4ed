"""A transfer to a service where nobody is free, on the whole product: simulated PBX, real
AMI, real agents' sockets.

Marie (État civil) talks with madame Dupont, who needs the front desk. Claire, the front
desk, is on a break; monsieur Martin already waits for her. Marie writes a note and
chooses « Accueil – personne de libre : mettre en attente »: the citizen waits for the front
desk. When Claire comes back she gets madame Dupont first (she waited before monsieur
Martin called: she keeps the place of her first wait), with Marie's note and « transféré
par Marie Lambert »; the wait her card shows is the one for the front desk, not her talk
with Marie.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from cti.assembly import Product
from cti.tracker import events as ev
from tests.cti.pbx_product import login, on_simulated_pbx

CONFIG: dict[str, Any] = {
    "skills": {"accueil": "Accueil", "etat-civil": "État civil"},
    "services": {
        "accueil": {"label": "Accueil", "required_skills": {"accueil": 1}},
        "etat-civil": {"label": "État civil", "required_skills": {"etat-civil": 1}},
    },
    "agents": {
        "201": {"name": "Marie Lambert", "skills": {"etat-civil": 5}},
        "205": {"name": "Claire Morin", "skills": {"accueil": 5}},
    },
}


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    async with on_simulated_pbx(tmp_path, CONFIG) as product:
        yield product


def socket(product: Product, client: httpx.AsyncClient) -> Any:
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    url = product.url.replace("http", "ws", 1) + "ws/agent"
    return websockets.connect(url, additional_headers={"Cookie": cookie})


async def next_of(ws: Any, kind: str) -> dict[str, Any]:
    """The next message of type ``kind`` on the agent's socket."""
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if message["type"] == kind:
            return message


async def until_event(product: Product, check: Any, what: str) -> ev.DomainEvent:
    """The first domain event from now on that passes ``check``."""
    seen: asyncio.Queue[ev.DomainEvent] = asyncio.Queue()
    product.service.add_listener(seen.put_nowait)
    try:
        async with asyncio.timeout(30):
            while True:
                event = await seen.get()
                if check(event):
                    return event
    except TimeoutError:
        raise AssertionError(f"never saw {what}") from None


async def state(client: httpx.AsyncClient, wanted: str, reason: str | None = None) -> None:
    response = await client.post("/api/agent/state", json={"state": wanted, "reason": reason})
    assert response.status_code == 200, response.text


async def test_the_citizen_waits_for_the_service_and_its_next_agent_gets_her_with_the_note(
    product: Product,
) -> None:
    assert product.pbx is not None
    marie, claire = await login(product, "marie"), await login(product, "claire")
    try:
        async with socket(product, marie) as ws_marie, socket(product, claire) as ws_claire:
            await state(claire, "paused", "Pause")
            await state(marie, "ready")
            dupont = product.pbx.place_call("0612345678", "Dupont", service="etat-civil")
            answered = await next_of(ws_marie, "card.answered")
            call_id = answered["card"]["call_id"]
            assert call_id == dupont.linkedid
            # Monsieur Martin calls the front desk after her: he waits for Claire.
            martin_waits = asyncio.ensure_future(
                until_event(
                    product,
                    lambda e: isinstance(e, ev.CallWaiting) and e.service == "accueil",
                    "monsieur Martin waiting",
                )
            )
            martin = product.pbx.place_call("0698765432", "Martin", service="accueil")
            await martin_waits
            note = "Demande un rendez-vous pour une carte d'identité, adresse vérifiée."
            saved = await marie.post(f"/api/calls/{call_id}/note", json={"text": note})
            assert saved.status_code == 201, saved.text

            targets = (await marie.get("/api/agent/transfer-targets")).json()
            accueil = next(s for s in targets["services"] if s["service"] == "accueil")
            assert accueil == {
                "service": "accueil",
                "label": "Accueil",
                "free": 0,
                "waiting": 1,
                "when_busy": "wait",
                "overflow": "voicemail",
            }
            # Presenting the call needs a colleague on the line: refused, in French.
            attended = await marie.post(
                f"/api/calls/{call_id}/transfer", json={"to_service": "accueil", "attended": True}
            )
            assert attended.status_code == 409
            assert "« Transférer » le met en attente" in attended.json()["detail"]

            waits = asyncio.ensure_future(
                until_event(
                    product,
                    lambda e: isinstance(e, ev.CallWaiting) and e.call_id == call_id,
                    "madame Dupont waiting for the front desk",
                )
            )
            done = await marie.post(
                f"/api/calls/{call_id}/transfer", json={"to_service": "accueil"}
            )
            assert done.status_code == 200, done.text
            assert done.json() == {
                "to_agent": None,
                "to_name": "Accueil",
                "attended": False,
                "queued": True,
                "waiting": 1,
            }
            handed = await next_of(ws_marie, "card.transferred")
            assert handed["to_service"] == "accueil"
            assert handed["to_service_label"] == "Accueil"
            waiting = await waits
            assert isinstance(waiting, ev.CallWaiting) and waiting.service == "accueil"
            queue = product.router.engine.waiting("accueil")
            # She waited before monsieur Martin called: she is first in line.
            assert [w.call_id for w in queue] == [call_id, martin.linkedid]
            me = (await marie.get("/api/me")).json()
            assert me["state"] in ("ready", "wrap_up"), me  # Marie is free of the call

            await state(claire, "ready")
            offered = await next_of(ws_claire, "card.offered")
            card = offered["card"]
            assert card["call_id"] == call_id
            assert card["service"] == "accueil"
            assert [n["text"] for n in card["notes"]] == [note]
            assert card["transferred_by"] == "201"
            assert card["transferred_by_name"] == "Marie Lambert"
            assert card["previous_agent_names"] == ["Marie Lambert"]
            # Her wait for the front desk, not her talk with Marie (an hour of talk allowed).
            assert card["waited_s"] < 30, card["waited_s"]
            await next_of(ws_claire, "card.answered")
            product.pbx.hangup_call(dupont)
            await next_of(ws_claire, "card.ended")
            product.pbx.hangup_call(martin)
    finally:
        await marie.aclose()
        await claire.aclose()
