"""A withheld caller keys 1 in the wait (« tapez 1 pour être rappelé »), on the simulated PBX.

We cannot call back a number we do not have, but withholding is often a line's default, not
a refusal to be called: she is told her number is withheld and asked to key one. Keyed, her
request is recorded with it, in her place. Nothing usable keyed, she is still in line: no
request, she is told she keeps her place, and she is routed again from her first entry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cti.assembly import Product
from cti.tracker import events as ev
from ivr_scripts import callback_dialog
from routing.callbacks.request import Source
from tests.cti.test_callbacks_with_pbx import Page, desk_of, started, until


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    async with started(tmp_path) as product:
        yield product


def words(product: Product, heard: list[str]) -> list[str]:
    assert product.ivr is not None and product.ivr.sounds is not None
    sounds = product.ivr.sounds
    return [w for w in (sounds.words(h) for h in heard) if w]


async def test_a_withheld_caller_keys_the_number_to_call_back(product: Product) -> None:
    assert product.pbx is not None
    tel = product.pbx.telephony
    call = tel.place_call(
        "", "", service="accueil", withheld=True, talk=3600, wait_keys="10698765432#"
    )
    await until(lambda: call.ended.is_set(), "her key 1, her number keyed, the goodbye")
    desk = desk_of(product)
    await until(lambda: any(r.source is Source.WAIT for r in desk.pending()), "her request")
    [request] = [r for r in desk.pending() if r.source is Source.WAIT]
    assert request.number == "+33698765432"
    assert request.call_id == call.linkedid
    said = words(product, call.heard)
    assert callback_dialog.WITHHELD in said
    assert said[-1] == callback_dialog.WAIT_RECORDED


async def test_a_withheld_caller_who_keys_no_number_keeps_her_place(product: Product) -> None:
    assert product.pbx is not None
    tel = product.pbx.telephony
    events: list[ev.DomainEvent] = []
    product.service.add_listener(events.append)
    call = tel.place_call("", "", service="accueil", withheld=True, talk=3600, wait_keys="1")
    await until(lambda: call.wait_start is not None, "her entry in cti-wait")
    tracked = product.service.tracker.call(call.linkedid)
    assert tracked is not None
    first_wait = tracked.waiting_since
    later = tel.place_call("0698765432", "Martin", service="accueil", talk=3600)
    # She keys 1, hears why she is asked for a number, keys nothing three times...
    await until(
        lambda: callback_dialog.WAIT_NO_NUMBER in words(product, call.heard),
        "the dialogue giving up",
    )
    # ...and is back in line, in her place, before Martin: no request was recorded.
    await until(
        lambda: call.linkedid in product.router.dispatcher.holding(), "her back in the line"
    )
    assert not call.ended.is_set()
    assert callback_dialog.WITHHELD in words(product, call.heard)
    assert [r for r in desk_of(product).pending() if r.source is Source.WAIT] == []
    waits = [e for e in events if isinstance(e, ev.CallWaiting) and e.call_id == call.linkedid]
    assert len(waits) == 2
    assert tracked.waiting_since == first_wait
    await until(lambda: later.linkedid in product.router.dispatcher.holding(), "Martin waiting")
    page = Page(product, "201")
    product.router.set_agent_state("201", "ready", None)
    offered = await page.next("card.offered")
    assert offered["card"]["call_id"] == call.linkedid
    # She hangs up while the phone rings: an abandon, no longer the callback's overflow.
    tel.hangup_call(call)
    await until(lambda: call.ended.is_set(), "her hang-up")
    [ended] = [e for e in events if isinstance(e, ev.CallEnded) and e.call_id == call.linkedid]
    assert ended.reason == "abandoned"
