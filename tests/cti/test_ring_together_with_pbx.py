"""Ringing several phones for one call (``ring_together: 2``), end to end on the simulated PBX.

The router's one Setvar AGENT/AGENTS + Redirect, cti-connect's one Dial of both phones as
the simulator plays it (Asterisk 22's order), the tracker, the engine and both agents' pages.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cti.assembly import Product
from cti.pbxsim.pbx import AgentPhone
from cti.tracker import events as ev
from routing.states import AgentState
from tests.cti.pbx_product import on_simulated_pbx
from tests.cti.test_routing_with_pbx import CONFIG, Watch, watch

# État civil: Paul (5) is the engine's first choice, Luc (4) rings with him.
RING_TOGETHER = CONFIG | {"ring_together": 2, "max_missed_offers": 1}


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    async with on_simulated_pbx(tmp_path, RING_TOGETHER) as product:
        yield product


class Page:
    """The card messages an agent's page receives."""

    def __init__(self, product: Product, agent: str) -> None:
        self.sub = product.hub.subscribe(agent)
        self.messages: list[dict[str, Any]] = []

    async def next(self, kind: str) -> dict[str, Any]:
        while True:
            text = await asyncio.wait_for(self.sub.get(), 30)
            assert text is not None
            message: dict[str, Any] = json.loads(str(text))
            self.messages.append(message)
            if message["type"] == kind:
                return message


def offered(w: Watch, call_id: str) -> list[str]:
    return [e.agent for e in w.of(ev.CallOffered, call_id)]


async def test_both_cards_pop_the_quicker_answers_and_the_others_card_goes(
    product: Product,
) -> None:
    assert product.pbx is not None
    tel = product.pbx.telephony
    tel.agents["202"] = AgentPhone(ring=5.0, talk=3600)  # Paul is slower to pick up
    w = watch(product)
    paul, luc = Page(product, "202"), Page(product, "204")
    call = tel.place_call("0612345678", "Dupont", service="etat-civil", talk=3600)

    his, luc_card = await paul.next("card.offered"), await luc.next("card.offered")
    assert his["card"]["call_id"] == luc_card["card"]["call_id"] == call.linkedid
    answered = await luc.next("card.answered")
    assert answered["card"]["agent"] == "204"
    ended = await paul.next("card.ended")
    assert ended["reason"] == "taken"
    kept = product.hub.card_of("202", call.linkedid)  # what a reloaded page shows him
    assert kept is not None and kept.stage == "ended"

    assert sorted(offered(w, call.linkedid)) == ["202", "204"]
    assert [e.agent for e in w.of(ev.CallAnswered, call.linkedid)] == ["204"]
    assert w.of(ev.CallNoAnswer, call.linkedid) == []  # a cancelled ring is no miss
    engine = product.router.engine
    assert engine.agent("202").state is AgentState.READY
    assert engine.agent("202").missed_offers == 0  # max_missed_offers 1: a miss would pause
    assert engine.agent("204").state is AgentState.ON_CALL


async def test_nobody_answers_both_missed_and_the_call_waits_again(product: Product) -> None:
    assert product.pbx is not None
    tel = product.pbx.telephony
    tel.agents["202"] = AgentPhone(answers=False)
    tel.agents["204"] = AgentPhone(answers=False)
    w = watch(product)
    call = tel.place_call("0612345678", "Dupont", service="etat-civil", talk=3600)
    await w.until(lambda: len(w.of(ev.CallNoAnswer, call.linkedid)) == 2, "both no-answers")
    assert sorted(e.agent for e in w.of(ev.CallNoAnswer, call.linkedid)) == ["202", "204"]
    engine = product.router.engine
    await w.until(
        lambda: (
            engine.agent("202").state is AgentState.PAUSED
            and engine.agent("204").state is AgentState.PAUSED
        ),
        "both paused (max_missed_offers 1)",
    )
    await w.until(
        lambda: [x.call_id for x in engine.waiting("etat-civil")] == [call.linkedid],
        "the call waiting again",
    )


async def test_the_caller_leaves_while_both_ring_both_cards_go(product: Product) -> None:
    assert product.pbx is not None
    tel = product.pbx.telephony
    tel.agents["202"] = AgentPhone(answers=False)
    tel.agents["204"] = AgentPhone(answers=False)
    paul, luc = Page(product, "202"), Page(product, "204")
    call = tel.place_call("0612345678", "Dupont", service="etat-civil", talk=3600)
    await paul.next("card.offered")
    await luc.next("card.offered")
    tel.hangup_call(call)
    assert (await paul.next("card.ended"))["reason"] == "abandoned"
    assert (await luc.next("card.ended"))["reason"] == "abandoned"
    engine = product.router.engine
    w = watch(product)
    await w.until(
        lambda: (
            engine.agent("202").state is AgentState.READY
            and engine.agent("204").state is AgentState.READY
        ),
        "both free again",
    )
    assert engine.agent("202").missed_offers == engine.agent("204").missed_offers == 0
