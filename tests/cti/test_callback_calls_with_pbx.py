"""The callback's own call, followed like any call, on the simulated PBX (real AMI over TCP).

Once the agent accepts, the product Originates her phone first, then ``cti-callback`` dials
the citizen: the tracker follows those channels as the citizen's call, linked to its request,
so the agent's card shows the citizen and the request (« Rappel demandé à … »), the call's
record is written once, and a blind transfer hands the note on like any call's. A product
that restarts during the call finds it again in Asterisk's channels.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from cti.assembly import SIM_SECRET, Product, running
from cti.callbacks.state import NewRequest
from cti.pbxsim import SimulatedPbx
from cti.pbxsim.callback_call import CalledBack
from cti.tracker import events as ev
from routing.callbacks.request import CallbackState, Source
from screenpop.models import Interaction
from tests.cti.test_callbacks_with_pbx import (
    NUMBER,
    Page,
    desk_of,
    settings_for,
    started,
    stored,
    until,
)

S = CallbackState


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    async with started(tmp_path) as product:
        yield product


async def accepted_by(product: Product, agent: str, username: str, request_id: str) -> Page:
    page = Page(product, agent)
    product.router.set_agent_state(agent, "ready", None)
    offered = await page.next("callback.offered")
    assert offered["callback"]["id"] == request_id
    await until(lambda: stored(product, request_id).state is S.OFFERED, "offered")
    await desk_of(product).accept(agent, username, request_id)
    return page


def watch(product: Product) -> list[ev.DomainEvent]:
    events: list[ev.DomainEvent] = []
    product.service.add_listener(events.append)
    return events


async def test_the_agent_sees_the_citizens_card_and_the_call_is_recorded_once(
    product: Product,
) -> None:
    assert product.pbx is not None
    product.pbx.telephony.called_back["0612345678"] = CalledBack(ring=1.0, talk=3.0)
    events = watch(product)
    # She keyed 1 after 95 s in line: her request keeps that place.
    request = await desk_of(product).request(
        NewRequest(NUMBER, "etat-civil", Source.WAIT, asked_at=time.time() - 95), "système"
    )
    page = await accepted_by(product, "202", "paul", request.id)
    offered = await page.next("card.offered")
    card = offered["card"]
    call_id = card["call_id"]
    assert card["caller"]["display"] == "06 12 34 56 78"
    assert card["callback"].startswith("Rappel demandé à ")
    assert "État civil" in card["callback"]
    assert card["callback"].endswith("attente initiale 1 min 35 s")
    answered = await page.next("card.answered")
    assert answered["card"]["call_id"] == call_id
    ended = await page.next("card.ended")
    assert ended["card"]["call_id"] == call_id
    await until(lambda: stored(product, request.id).state is S.REACHED, "reached")
    of_call = [e for e in events if e.call_id == call_id]
    assert [type(e).__name__ for e in of_call] == [
        "CallArrived",
        "CallerIdSettled",
        "CallOffered",
        "CallAnswered",
        "CallEnded",
    ]
    arrived = of_call[0]
    assert isinstance(arrived, ev.CallArrived) and arrived.callback_id == request.id
    # No citizen "calling in" from the trunk's channel: that call is the only one.
    assert {e.call_id for e in events if isinstance(e, ev.CallArrived)} == {call_id}
    await product.pop.drained()
    record = product.pop.directory.interaction(call_id)
    assert record is not None
    assert (record.outcome, list(record.agents), record.service) == (
        "answered",
        ["202"],
        "etat-civil",
    )


async def test_a_callback_not_answered_is_not_reached(product: Product) -> None:
    assert product.pbx is not None
    product.pbx.telephony.called_back["0612345678"] = CalledBack(status="NOANSWER")
    events = watch(product)
    request = await desk_of(product).request(NewRequest(NUMBER, "etat-civil", Source.AGENT), "m")
    page = await accepted_by(product, "202", "paul", request.id)
    offered = await page.next("card.offered")
    call_id = offered["card"]["call_id"]
    left = await page.next("card.ended")
    assert left["reason"] == "no_answer"
    await until(lambda: stored(product, request.id).state is S.PENDING, "back in line")
    [end] = [e for e in events if isinstance(e, ev.CallEnded) and e.call_id == call_id]
    assert end.reason == "not_reached"
    await product.pop.drained()
    record = product.pop.directory.interaction(call_id)
    assert record is not None and record.outcome == "not_reached"


async def test_a_blind_transfer_of_the_callback_carries_the_note(product: Product) -> None:
    assert product.pbx is not None
    product.pbx.telephony.called_back["0612345678"] = CalledBack(ring=1.0, talk=3600)
    request = await desk_of(product).request(NewRequest(NUMBER, "etat-civil", Source.MENU), "s")
    marie = await accepted_by(product, "201", "marie", request.id)
    answered = await marie.next("card.answered")
    call_id = answered["card"]["call_id"]
    await product.pop.add_note(call_id, "201", "Acte de naissance demandé pour sa fille")
    paul = Page(product, "202")
    await product.router.transfer(call_id, "201", "202")
    offered = await paul.next("card.offered")
    assert offered["card"]["call_id"] == call_id
    assert [n["text"] for n in offered["card"]["notes"]] == [
        "Acte de naissance demandé pour sa fille"
    ]
    assert offered["card"]["callback"].startswith("Rappel demandé à ")
    await paul.next("card.answered")
    await marie.next("card.transferred")
    # Marie's leg left the call: cti-callback's result says the citizen was reached.
    await until(lambda: stored(product, request.id).state is S.REACHED, "reached")


class PbxClock:
    """The simulated PBX's wall clock, which a test moves on: the product away for minutes
    without the test waiting for them (its channels' ``Duration`` says how long they lived)."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def __call__(self) -> float:
        return time.time() + self.ahead


async def test_a_restart_during_the_callback_finds_it_again(tmp_path: Path) -> None:
    """The product stops while Paul talks with the citizen he called back, and starts again
    two minutes later; it finds the call in Asterisk's channels: Paul's page gets the same
    card back, once, and the call is recorded once, from its start to its end."""
    clock = PbxClock()
    pbx = SimulatedPbx(secret=SIM_SECRET, time_scale=0.02, clock=clock)
    await pbx.start()
    try:
        await restarted_during_the_callback(tmp_path, pbx, clock)
    finally:
        await pbx.close()


async def restarted_during_the_callback(tmp_path: Path, pbx: SimulatedPbx, clock: PbxClock) -> None:
    pbx.telephony.called_back["0612345678"] = CalledBack(ring=1.0, talk=1e6)
    async with started(tmp_path, pbx) as product:
        request = await desk_of(product).request(
            NewRequest(NUMBER, "etat-civil", Source.WAIT, asked_at=time.time() - 95), "système"
        )
        page = await accepted_by(product, "202", "paul", request.id)
        before = (await page.next("card.answered"))["card"]
        call_id = before["call_id"]
        assert before["callback"].endswith("attente initiale 1 min 35 s")
        await product.pop.drained()
        first = product.pop.directory.interaction(call_id)
        assert first is not None and first.outcome == "answered"
    [talking] = [c for c in pbx.calls if c.linkedid == call_id]  # the call goes on
    # The AMI stays away until the new product's page listens: its card must come to it.
    await pbx.stop_ami()
    clock.ahead = 120.0
    async with running(settings_for(tmp_path), simulated=True, traffic=False, pbx=pbx) as product:
        events = watch(product)
        page = Page(product, "202")
        await pbx.start_ami()
        card = (await page.next("card.answered"))["card"]
        assert card["call_id"] == call_id
        assert (card["callback"], card["caller"]) == (before["callback"], before["caller"])
        assert stored(product, request.id).state is S.DIALLING  # never dialled again
        pbx.hangup_call(talking)
        await page.next("card.ended")
        await until(lambda: stored(product, request.id).state is S.REACHED, "reached")
        of_call = [m["type"] for m in page.messages if m.get("card", {}).get("call_id") == call_id]
        assert of_call == ["card.answered", "card.ended"]
        assert [type(e).__name__ for e in events if e.call_id == call_id] == [
            "CallArrived",
            "CallerIdSettled",
            "CallAnswered",
            "CallEnded",
        ]
        [arrived] = [e for e in events if isinstance(e, ev.CallArrived)]
        assert arrived.restored
        assert arrived.callback_id == request.id
        # The trunk's leg is no citizen calling in: that call is the only one.
        assert arrived.call_id == call_id
        [ended] = [e for e in events if isinstance(e, ev.CallEnded)]
        await product.pop.drained()
        record = product.pop.directory.interaction(call_id)
        assert record is not None
        assert (record.outcome, list(record.agents), record.service) == (
            "answered",
            ["202"],
            "etat-civil",
        )
        assert record.started_at == first.started_at
        with product.database.session() as session:
            [row] = session.scalars(select(Interaction).where(Interaction.call_id == call_id))
    # Its whole length as the PBX lists her channel's (whole seconds): the two minutes the
    # product was away included, not only what the second product saw of it.
    seen = ended.at - arrived.at
    lasted = ended.at - first.started_at.timestamp()
    assert row.duration_seconds is not None
    assert 120 + seen - 0.01 <= row.duration_seconds <= 120 + lasted + 1
