"""The screen pop end to end: recorded Asterisk traffic in, cards on agents' real WebSockets.

A real server, real WebSocket clients logged in over HTTP, a real database; the calls come from
the recordings of a real Asterisk (04: answered by 201; 07: 204 answers and blind-transfers
to 205).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from cti.audit_trail import AuditFilter, entries
from cti.db import Database
from cti.replay import read_server_chunks, recorded_messages
from cti.service import CallService
from cti.transfer_targets import TransferTargets
from cti.web.app import DeskParts, create_app
from cti.web.serve import serving
from screenpop.accounts import Role, create_user
from screenpop.directory import Directory
from screenpop.hub import AgentHub
from screenpop.messages import parse_agent_message
from screenpop.pop import ScreenPop

CAPTURES = Path(__file__).resolve().parents[3] / "shared" / "ami-captures"


@dataclass
class DeskStub:
    """The router's desk as the page sees it, without a routing engine behind it."""

    states: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    done: list[str] = field(default_factory=list)

    def agent_state(self, agent: str) -> tuple[str, str | None]:
        return self.states.get(agent, ("offline", None))

    def set_agent_state(self, agent: str, state: str, reason: str | None) -> None:
        self.states[agent] = (state, reason)

    def wrap_up_done(self, agent: str) -> None:
        self.done.append(agent)

    async def transfer(
        self, call_id: str, from_agent: str, to_agent: str, *, attended: bool = False
    ) -> None:
        raise NotImplementedError

    def transfer_targets(self, agent: str) -> TransferTargets:
        raise NotImplementedError


class Feeder:
    def __init__(self, service: CallService, name: str) -> None:
        self.service = service
        self.messages = list(recorded_messages(read_server_chunks(CAPTURES / name)))

    def until(self, t: float) -> None:
        while self.messages and self.messages[0][0] <= t:
            at, message = self.messages.pop(0)
            self.service.on_ami_event(message, at)


@dataclass
class Desk:
    service: CallService
    pop: ScreenPop
    directory: Directory
    port: int
    stub: DeskStub

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def login(self, username: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(base_url=self.http)
        response = await client.post("/api/login", json={"username": username, "password": "pw"})
        assert response.status_code == 200, response.text
        client.headers["X-CSRF-Token"] = response.json()["csrf"]
        return client

    def socket(self, client: httpx.AsyncClient, **options: Any) -> Any:
        """A page's socket (``options`` for the client: ``max_queue``, ...)."""
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        return websockets.connect(
            f"ws://127.0.0.1:{self.port}/ws/agent",
            additional_headers={"Cookie": cookie},
            **options,
        )


async def recv(ws: Any) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 10))
    parse_agent_message(json.dumps(message))  # every message matches its published schema
    return message


@pytest.fixture
async def desk(database: Database) -> AsyncIterator[Desk]:
    directory = Directory(database)
    directory.create_citizen("madame", "Dupont", "Jeanne", "+33612345678")
    directory.create_citizen("monsieur", "Moreau", "Luc", "+33622334455")
    for name, ext in (("marie", "201"), ("luc", "204"), ("claire", "205")):
        create_user(database, name, "pw", Role.AGENT, name.capitalize(), ext)
    create_user(database, "tel", "pw", Role.TELECOM, "Télécom")
    service = CallService()
    hub = AgentHub()
    pop = ScreenPop(directory, hub, service_labels={"etat-civil": "État civil"})
    service.add_listener(pop.on_event)
    stub = DeskStub()
    parts = DeskParts(database, directory, pop, hub, stub)
    worker = asyncio.create_task(pop.run())
    try:
        async with serving(create_app(service, parts)) as port:
            yield Desk(service, pop, directory, port, stub)
    finally:
        worker.cancel()


async def test_the_card_pops_only_on_the_rung_agents_page_and_follows_the_call(desk: Desk) -> None:
    marie, luc = await desk.login("marie"), await desk.login("luc")
    async with desk.socket(marie) as ws_marie, desk.socket(luc) as ws_luc:
        assert (await recv(ws_marie))["type"] == "hello"
        assert (await recv(ws_luc))["type"] == "hello"
        feed = Feeder(desk.service, "04-inbound-answered.jsonl")
        feed.until(7.0)  # offered to 201, still ringing
        offered = await recv(ws_marie)
        assert offered["type"] == "card.offered"
        card = offered["card"]
        assert card["greeting"] == "Bonjour madame Dupont"
        assert card["stage"] == "ringing"
        assert card["caller"]["display"] == "06 12 34 56 78"
        assert card["service_label"] == "État civil" and card["did"] == "0140000000"
        assert card["waited_s"] == pytest.approx(1.5, abs=0.1)

        # A page that reconnects while the phone rings is shown the call at once.
        async with desk.socket(marie) as again:
            assert (await recv(again))["type"] == "hello"
            assert (await recv(again))["card"]["call_id"] == card["call_id"]

        feed.until(100)
        assert (await recv(ws_marie))["type"] == "card.answered"
        ended = await recv(ws_marie)
        assert ended["type"] == "card.ended" and ended["reason"] == "hangup"

        # Luc's page got nothing of it: the next thing it receives is his own state change.
        response = await luc.post("/api/agent/state", json={"state": "ready"})
        assert response.status_code == 200
        assert (await recv(ws_luc))["type"] == "agent.state"
    await desk.pop.drained()
    record = desk.directory.interaction(card["call_id"])
    assert record is not None
    assert record.agents == ("201",) and record.outcome == "answered"
    assert record.talk_seconds == pytest.approx(6.5, abs=0.1)
    await marie.aclose()
    await luc.aclose()


async def test_after_a_transfer_the_next_agent_reads_the_first_agents_note(desk: Desk) -> None:
    luc, claire = await desk.login("luc"), await desk.login("claire")
    async with desk.socket(luc) as ws_luc, desk.socket(claire) as ws_claire:
        await recv(ws_luc)
        await recv(ws_claire)
        feed = Feeder(desk.service, "07-blind-transfer.jsonl")
        feed.until(3.0)  # 204 answered
        assert (await recv(ws_luc))["type"] == "card.offered"
        answered = await recv(ws_luc)
        assert answered["type"] == "card.answered"
        call_id = answered["card"]["call_id"]
        assert answered["card"]["greeting"] == "Bonjour monsieur Moreau"
        note = "Demande un acte de naissance pour son fils, né en 2019."
        response = await luc.post(f"/api/calls/{call_id}/note", json={"text": note})
        assert response.status_code == 201, response.text
        # Claire may not write on a call she never had.
        refused = await claire.post(f"/api/calls/{call_id}/note", json={"text": "x"})
        assert refused.status_code == 403

        updated = await recv(ws_luc)
        assert updated["type"] == "card.updated"
        assert [n["text"] for n in updated["card"]["notes"]] == [note]

        feed.until(100)
        transferred = await recv(ws_luc)
        assert transferred["type"] == "card.transferred" and transferred["to_agent"] == "205"
        offered = await recv(ws_claire)
        assert offered["type"] == "card.offered"
        assert offered["card"]["greeting"] == "Bonjour monsieur Moreau"
        assert offered["card"]["previous_agents"] == ["204"]
        assert [(n["agent"], n["text"]) for n in offered["card"]["notes"]] == [("204", note)]
    await desk.pop.drained()
    record = desk.directory.interaction(call_id)
    assert record is not None and record.agents == ("204", "205")
    await luc.aclose()
    await claire.aclose()


async def test_sockets_and_routes_refuse_who_has_no_right(desk: Desk) -> None:
    async with httpx.AsyncClient(base_url=desk.http) as anonymous:
        assert (await anonymous.get("/api/me")).status_code == 401
        assert (
            await anonymous.post("/api/agent/state", json={"state": "ready"})
        ).status_code == 401
        bad = await anonymous.post("/api/login", json={"username": "marie", "password": "non"})
        assert bad.status_code == 401
    # Accepted then closed with 4401, so that the page knows to log in again.
    with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
        async with websockets.connect(f"ws://127.0.0.1:{desk.port}/ws/agent") as ws:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401

    telecom = await desk.login("tel")
    assert (await telecom.post("/api/agent/state", json={"state": "ready"})).status_code == 403
    marie = await desk.login("marie")
    # A state change without the CSRF header is refused even with a valid session.
    del marie.headers["X-CSRF-Token"]
    assert (await marie.post("/api/agent/state", json={"state": "ready"})).status_code == 403
    await telecom.aclose()
    await marie.aclose()


async def test_schema_of_the_messages_is_served(desk: Desk) -> None:
    async with httpx.AsyncClient(base_url=desk.http) as client:
        schema = (await client.get("/api/schema/agent-messages.json")).json()
    kinds = {ref.rsplit("/", 1)[-1] for ref in schema["discriminator"]["mapping"].values()}
    assert {"Hello", "CardOffered", "CardAnswered", "CardEnded", "CardTransferred"} <= kinds


async def test_a_household_number_shows_the_list_and_the_agent_picks_who_calls(desk: Desk) -> None:
    partner = desk.directory.create_citizen("monsieur", "Dupont", "Marc", "+33612345678")
    marie = await desk.login("marie")
    async with desk.socket(marie) as ws:
        await recv(ws)
        Feeder(desk.service, "04-inbound-answered.jsonl").until(7.0)
        card = (await recv(ws))["card"]
        assert card["greeting"] == "Bonjour" and card["selected_citizen_id"] is None
        assert {c["greeting"] for c in card["citizens"]} == {
            "Bonjour madame Dupont",
            "Bonjour monsieur Dupont",
        }
        response = await marie.post(
            f"/api/calls/{card['call_id']}/citizen", json={"citizen_id": partner.id}
        )
        assert response.status_code == 200, response.text
        updated = await recv(ws)
        assert updated["type"] == "card.updated"
        assert updated["card"]["greeting"] == "Bonjour monsieur Dupont"
    await desk.pop.drained()
    # Both were shown on the offered card, then marie said which one calls.
    opened = entries(desk.directory.db, AuditFilter(action="card.open"))
    assert sorted((e.username, e.citizen_id) for e in opened) == sorted(
        [
            ("poste 201", card["citizens"][0]["id"]),
            ("poste 201", card["citizens"][1]["id"]),
            ("marie", partner.id),
        ]
    )
    await marie.aclose()
