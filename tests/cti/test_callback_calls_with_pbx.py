"""The callback's own call, followed like any call, on the simulated PBX (real AMI over TCP).

Once the agent accepts, the product Originates her phone first, then ``cti-callback`` dials
the citizen: the tracker follows those channels as the citizen's call, linked to its request,
so the agent's card shows the citizen and the request (« Rappel demandé à … »), the call's
record is written once, and a blind transfer hands the note on like any call's.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cti.assembly import Product
from cti.callback_desk import NewRequest
from cti.pbxsim.callback_call import CalledBack
from cti.tracker import events as ev
from routing.callbacks.request import CallbackState, Source
from tests.cti.test_callbacks_with_pbx import NUMBER, Page, desk_of, started, stored, until

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
