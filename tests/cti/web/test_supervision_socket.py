"""The wallboard's WebSocket and acknowledgement over real HTTP, on the running product;
and the refill's query of today's calls, on SQLite and PostgreSQL.

The product runs in-process on the simulated PBX (no random traffic: the test places the call),
with two agents: Marie (201, logged out) and Claire (205, ready). Nobody ready can take an
"État civil" call at once (Claire only qualifies after the 90 s relaxation), so it waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import websockets

from cti.assembly import DEMO_PASSWORD, Product, running
from cti.db import Database
from cti.settings import Settings
from cti.supervision.board import PastCall
from cti.web.supervision_api import parse_supervision_message, today_calls
from screenpop.models import Interaction
from tests.demo_routing import demo_routing_with


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    # The demo's routing with two agents: Marie (201) and Claire (205).
    routing = demo_routing_with(tmp_path, ("201", "205"))
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cti.db'}",
        http_port=0,
        demo_citizens=50,
        sim_rate=0,
        routing_config=routing,
    )
    async with running(settings, simulated=True, traffic=False) as product:
        yield product


@contextlib.asynccontextmanager
async def login(product: Product, username: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=product.url) as client:
        response = await client.post(
            "/api/login", json={"username": username, "password": DEMO_PASSWORD}
        )
        assert response.status_code == 200, response.text
        client.headers["X-CSRF-Token"] = response.json()["csrf"]
        yield client


def socket(product: Product, client: httpx.AsyncClient) -> Any:
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    url = product.url.replace("http://", "ws://") + "ws/supervision"
    return websockets.connect(url, additional_headers={"Cookie": cookie})


async def recv(ws: Any) -> dict[str, Any]:
    raw = await asyncio.wait_for(ws.recv(), 10)
    parse_supervision_message(raw)  # every message matches its published schema
    message: dict[str, Any] = json.loads(raw)
    assert message["v"] == 1
    return message


async def until(ws: Any, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    while not wanted(message := await recv(ws)):
        pass
    return message


def tile(message: dict[str, Any], service: str) -> dict[str, Any]:
    found: dict[str, Any] = next(t for t in message["services"] if t["service"] == service)
    return found


async def test_a_supervisor_sees_the_board_move_and_acknowledges_an_alert(
    product: Product,
) -> None:
    assert product.pbx is not None
    async with login(product, "superviseur") as supervisor, socket(product, supervisor) as ws:
        snapshot = await recv(ws)
        assert snapshot["type"] == "snapshot"
        assert [a["agent"] for a in snapshot["agents"]] == ["201", "205"]
        assert {a["agent"]: a["state"] for a in snapshot["agents"]} == {
            "201": "offline",
            "205": "ready",
        }
        assert tile(snapshot, "etat-civil")["waiting"] == 0
        # Nobody logged in can ever take Urbanisme, open on the demo's Tuesday morning.
        live = [a for a in snapshot["alerts"] if a["cleared_at"] is None]
        assert [a["kind"] for a in live] == ["no_agent"]
        alert = live[0]
        assert alert["service"] == "urbanisme" and "Urbanisme" in alert["message"]

        product.pbx.place_call("0612345678", "Dupont", service="etat-civil", talk=3600)
        board = await until(
            ws, lambda m: m["type"] == "board" and tile(m, "etat-civil")["waiting"] == 1
        )
        assert tile(board, "etat-civil")["offered"] == 1
        # The tick moves the wait on without any new event.
        later = await until(
            ws, lambda m: m["type"] == "board" and tile(m, "etat-civil")["longest_wait_s"] >= 1
        )
        assert tile(later, "etat-civil")["waiting"] == 1

        no_csrf = await supervisor.post(
            f"/api/supervision/alerts/{alert['id']}/ack", headers={"X-CSRF-Token": ""}
        )
        assert no_csrf.status_code == 403
        acked = await supervisor.post(f"/api/supervision/alerts/{alert['id']}/ack")
        assert acked.status_code == 200, acked.text
        assert acked.json()["acknowledged_by"] == "superviseur"
        updated = await until(ws, lambda m: m["type"] == "alert.updated")
        assert updated["alert"]["id"] == alert["id"]
        assert updated["alert"]["acknowledged_by"] == "superviseur"
        missing = await supervisor.post("/api/supervision/alerts/99999/ack")
        assert missing.status_code == 404 and "99999" in missing.json()["detail"]


async def test_an_agent_is_refused_the_board(product: Product) -> None:
    async with login(product, "marie") as marie:
        async with socket(product, marie) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
        assert (await marie.get("/api/supervision")).status_code == 403
        assert (await marie.post("/api/supervision/alerts/1/ack")).status_code == 403
    anonymous = product.url.replace("http://", "ws://") + "ws/supervision"
    async with websockets.connect(anonymous) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_todays_calls_are_read_back_for_the_refill(database: Database) -> None:
    paris = ZoneInfo("Europe/Paris")
    midnight = datetime(2026, 3, 10, tzinfo=paris)
    rows = [
        ("a", midnight + timedelta(hours=9), "accueil", "answered", 12.0),
        ("b", midnight + timedelta(hours=9, minutes=5), "accueil", "abandoned", 40.0),
        ("c", midnight + timedelta(hours=9, minutes=6), None, "menu", None),
        ("d", midnight - timedelta(minutes=1), "accueil", "answered", 3.0),  # yesterday
    ]
    with database.session() as session, session.begin():
        for call_id, started_at, service, outcome, wait in rows:
            session.add(
                Interaction(
                    call_id=call_id,
                    started_at=started_at.astimezone(UTC),  # as the screen pop writes it
                    service=service,
                    outcome=outcome,
                    wait_seconds=wait,
                )
            )
    past = sorted(today_calls(database, midnight), key=lambda p: p.call_id)
    assert past == [
        PastCall("a", "accueil", (midnight + timedelta(hours=9)).timestamp(), "answered", 12.0),
        PastCall(
            "b",
            "accueil",
            (midnight + timedelta(hours=9, minutes=5)).timestamp(),
            "abandoned",
            40.0,
        ),
    ]


async def test_a_supervisor_asks_why_a_call_waits(product: Product) -> None:
    assert product.pbx is not None
    async with login(product, "superviseur") as supervisor, socket(product, supervisor) as ws:
        assert (await recv(ws))["queue"] == []
        product.pbx.place_call("0612345678", "Dupont", service="etat-civil", talk=3600)
        board = await until(ws, lambda m: m["type"] == "board" and len(m["queue"]) == 1)
        waiting = board["queue"][0]
        assert waiting["service"] == "etat-civil" and waiting["stage"] == "waiting"
        assert waiting["caller_display"] == "06 12 34 56 78"

        response = await supervisor.get(f"/api/supervision/calls/{waiting['call_id']}/why")
        assert response.status_code == 200, response.text
        why = response.json()
        assert why["stage"] == "waiting" and why["service_label"] == "État civil"
        assert why["requirement"].startswith("compétence État civil niveau 3 exigée ; ")
        assert why["decision"] == "L'appel attend : aucune collègue compétente n'est libre."
        assert {a["name"]: (a["verdict"], a["reason"]) for a in why["agents"]} == {
            "Marie Lambert": ("set_aside", "déconnectée"),
            "Claire Morin": ("set_aside", "compétence insuffisante (État civil 0 < 3)"),
        }

        missing = await supervisor.get("/api/supervision/calls/inconnu/why")
        assert missing.status_code == 404
        assert missing.json()["detail"] == (
            "Cet appel n'est pas (ou plus) dans les files : rien à expliquer."
        )
    async with login(product, "marie") as marie:
        refused = await marie.get(f"/api/supervision/calls/{waiting['call_id']}/why")
        assert refused.status_code == 403
