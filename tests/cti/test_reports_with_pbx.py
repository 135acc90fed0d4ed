"""Calls placed on the simulated PBX show up in the last hour's report and its CSV.

The whole product runs in-process (real AMI over TCP, router, screen pop writing the calls'
records); three citizens call: one is answered, one hangs up while waiting, one is sent to
the voicemail. The supervisor then reads the last hour by service and by agent, as the
reports page asks for it, and exports it.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from cti.assembly import DEMO_PASSWORD, Product
from cti.tracker import events as ev
from tests.cti.pbx_product import on_simulated_pbx

CONFIG: dict[str, Any] = {
    "skills": {"accueil": "Accueil", "etat-civil": "État civil", "urbanisme": "Urbanisme"},
    "services": {
        "accueil": {"label": "Accueil", "required_skills": {"accueil": 1}},
        "etat-civil": {"label": "État civil", "required_skills": {"etat-civil": 3}},
        "urbanisme": {
            "label": "Urbanisme",
            "required_skills": {"urbanisme": 3},
            "overflow": {"kind": "voicemail", "target": "urba"},
        },
    },
    # The first agent starts logged out; the test pauses her: nobody takes accueil.
    "agents": {
        "201": {"name": "Marie", "skills": {"accueil": 5}},
        "202": {"name": "Paul", "skills": {"etat-civil": 5}},
    },
}


class Seen:
    """The product's domain events, and a way to wait for one."""

    def __init__(self) -> None:
        self.events: list[ev.DomainEvent] = []
        self._changed = asyncio.Event()

    def __call__(self, event: ev.DomainEvent) -> None:
        self.events.append(event)
        self._changed.set()

    def has(self, kind: type[ev.CallEvent], call_id: str) -> bool:
        return any(isinstance(e, kind) and e.call_id == call_id for e in self.events)

    async def until(self, check: Callable[[], bool], what: str) -> None:
        async def loop() -> None:
            while not check():
                self._changed.clear()
                await self._changed.wait()

        try:
            await asyncio.wait_for(loop(), 30)
        except TimeoutError:
            pytest.fail(f"never saw {what}; events: {[e.to_dict() for e in self.events]}")


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    async with on_simulated_pbx(tmp_path, CONFIG) as product:
        yield product


async def test_the_last_hours_report_and_csv_match_the_calls_placed(product: Product) -> None:
    pbx = product.pbx
    assert pbx is not None
    seen = Seen()
    product.service.add_listener(seen)
    # Marie is at her desk but paused: accueil has someone logged in, so its caller waits
    # (with nobody logged in the router would send her to the voicemail at once, racing the
    # hang-up below).
    product.router.set_agent_state("201", "paused", "réunion")
    # Madame Dupont (the demo's citizen who called 3 days ago) is answered by Paul...
    answered = pbx.place_call("0612345678", "Dupont", service="etat-civil", talk=10)
    # ...someone waits for accueil, where nobody is logged in, and hangs up...
    waiting = pbx.place_call("0698765432", "Martin", service="accueil", talk=3600)
    # ...and urbanisme, which nobody can take, sends its caller to the voicemail.
    overflowed = pbx.place_call("0611111111", "Durand", service="urbanisme", talk=3600)
    await seen.until(lambda: seen.has(ev.CallWaiting, waiting.linkedid), "accueil waiting")
    pbx.hangup_call(waiting)
    calls = (answered, waiting, overflowed)
    await seen.until(
        lambda: all(seen.has(ev.CallEnded, c.linkedid) for c in calls), "the three calls ended"
    )
    await product.pop.drained()

    now = datetime.now(UTC)
    last_hour = {"from": (now - timedelta(hours=1)).isoformat(), "to": now.isoformat()}
    async with httpx.AsyncClient(base_url=product.url.rstrip("/")) as client:
        login = await client.post(
            "/api/login", json={"username": "superviseur", "password": DEMO_PASSWORD}
        )
        assert login.status_code == 200, login.text
        data = (await client.get("/api/reports", params=last_hour)).json()
        agents = (await client.get("/api/reports", params={**last_hour, "by": "agent"})).json()
        exported = await client.get("/api/reports.csv", params=last_hour)

    figures = {
        r["key"]: (r["offered"], r["answered"], r["abandoned"], r["overflowed"])
        for r in data["rows"]
    }
    assert figures == {
        "accueil": (1, 0, 1, 0),
        "etat-civil": (1, 1, 0, 0),
        "urbanisme": (1, 0, 0, 1),
    }
    ec = next(r for r in data["rows"] if r["key"] == "etat-civil")
    assert ec["repeats"] == 1  # her call of 3 days ago (demo history)
    assert ec["avg_handling_s"] is not None and ec["avg_handling_s"] > 0
    assert (data["total"]["calls"], data["total"]["offered"]) == (3, 3)
    assert [(r["label"], r["answered"]) for r in agents["rows"]] == [
        ("Paul (202)", 1),
        ("Aucun agent", 0),
    ]

    lines = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    header = lines[0]
    table = {line[0]: dict(zip(header, line, strict=True)) for line in lines[1:]}
    assert list(table) == ["Accueil", "État civil", "Urbanisme", "Total"]
    assert table["État civil"]["Répondus"] == "1"
    assert table["Accueil"]["Abandons"] == "1"
    assert table["Urbanisme"]["Débordés"] == "1"
    assert (table["Total"]["Appels"], table["Total"]["Présentés"]) == ("3", "3")
