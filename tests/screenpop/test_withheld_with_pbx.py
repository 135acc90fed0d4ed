"""A withheld caller on the whole product: simulated trunk, real AMI, real agent's socket.

Madame Bernard is in the directory. She calls from the town hall's SIP trunk with her
presentation restricted (``Privacy: id``): Asterisk's ``Newchannel`` shows her number and no
AMI event says it is withheld; only the dialplan's ``CtiCallerId`` does. The agent's card must
show nothing of her, nothing is audited as opened, her call is kept without her number, and
the live board agrees. The same call with her number shown pops her card: the test is not
passing for want of a directory.
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
from sqlalchemy import select

from cti.assembly import Product
from cti.tracker import events as ev
from screenpop.directory import Directory
from screenpop.models import Interaction
from tests.cti.pbx_product import login, on_simulated_pbx

NUMBER, E164 = "0644556677", "+33644556677"
TRACES = (NUMBER, E164, "44 55 66 77", "Bernard")
CONFIG: dict[str, Any] = {
    "skills": {"accueil": "Accueil", "etat-civil": "État civil"},
    "services": {
        "accueil": {"label": "Accueil", "required_skills": {"accueil": 1}},
        "etat-civil": {"label": "État civil", "required_skills": {"etat-civil": 1}},
    },
    "agents": {"201": {"name": "Marie", "skills": {"accueil": 5, "etat-civil": 5}}},
}


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    async with on_simulated_pbx(tmp_path, CONFIG) as product:
        yield product


async def next_of(ws: Any, kind: str) -> dict[str, Any]:
    """The next message of type ``kind`` on the agent's socket (raw text checked too)."""
    while True:
        text = await asyncio.wait_for(ws.recv(), 30)
        message: dict[str, Any] = json.loads(text)
        if message["type"] == kind:
            message["_text"] = text
            return message


async def until(product: Product, check: Any, what: str) -> None:
    changed = asyncio.Event()
    product.service.add_listener(lambda _event: changed.set())
    async with asyncio.timeout(30):
        while not check():
            changed.clear()
            await changed.wait()


def record(product: Product, call_id: str) -> Interaction:
    with product.database.session() as session:
        row = session.scalars(select(Interaction).where(Interaction.call_id == call_id)).one()
        session.expunge(row)
        return row


async def a_call(
    product: Product, agent: httpx.AsyncClient, ws: Any, *, withheld: bool
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Madame Bernard calls (from the trunk); the card as offered, the live board meanwhile."""
    assert product.pbx is not None
    assert (await agent.post("/api/agent/state", json={"state": "ready"})).status_code == 200
    call = product.pbx.place_call(
        NUMBER, "Bernard", service="etat-civil", withheld=withheld, trunk=True, talk=3600
    )
    offered = await next_of(ws, "card.offered")
    supervisor = await login(product, "superviseur")
    try:
        board = (await supervisor.get("/api/calls")).json()
    finally:
        await supervisor.aclose()
    product.pbx.hangup_call(call)
    ended: list[ev.CallEnded] = []
    product.service.add_listener(lambda e: ended.append(e) if isinstance(e, ev.CallEnded) else None)
    await until(product, lambda: any(e.call_id == call.linkedid for e in ended), "the end")
    await product.pop.drained()
    return call.linkedid, offered, board


async def test_a_withheld_known_citizen_shows_nothing_and_leaves_no_number(
    product: Product,
) -> None:
    directory = Directory(product.database)
    directory.create_citizen("madame", "Bernard", "Sophie", E164)
    marie = await login(product, "marie")
    try:
        cookie = "; ".join(f"{k}={v}" for k, v in marie.cookies.items())
        url = product.url.replace("http", "ws", 1) + "ws/agent"
        async with websockets.connect(url, additional_headers={"Cookie": cookie}) as ws:
            call_id, offered, board = await a_call(product, marie, ws, withheld=True)
            card = offered["card"]
            assert card["greeting"] == "Bonjour"
            assert card["caller"] == {
                "raw": None,
                "status": "withheld",
                "e164": None,
                "display": "Numéro masqué",
            }
            assert card["citizens"] == [] and card["selected_citizen_id"] is None
            assert not any(trace in offered["_text"] for trace in TRACES)
            [live] = [c for c in board["calls"] if c["call_id"] == call_id]
            assert live["caller_withheld"] is True and live["caller_number"] is None
            assert not any(trace in json.dumps(board) for trace in TRACES)

            assert directory.audit_count("card.open") == 0
            row = record(product, call_id)
            assert (row.caller_raw, row.caller_e164, row.caller_withheld) == (None, None, True)
            assert row.citizen_id is None

            # The same citizen with her number shown: her card, and the audit says so.
            shown_id, shown, _ = await a_call(product, marie, ws, withheld=False)
            assert shown["card"]["greeting"] == "Bonjour madame Bernard"
            assert directory.audit_count("card.open") == 1
            assert record(product, shown_id).caller_e164 == E164
    finally:
        await marie.aclose()
