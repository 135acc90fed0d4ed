"""Issue 23: an offer to a caller who has just hung up, on the simulated PBX.

A real Asterisk answers an action at once but sends its events through stasis: ``ast_hangup``
takes the channel away long before its ``Hangup`` event leaves, so the router's Setvar can
get « No such channel » while, for the router, the caller is still waiting. The PBX holds its
events back (``hold_events``) to play that moment exactly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cti.assembly import Product
from cti.tracker import events as ev
from routing.states import AgentState
from tests.cti import pbx_product
from tests.cti.test_routing_with_pbx import CONFIG, watch


async def until(check: Callable[[], bool], what: str) -> None:
    """Until ``check`` holds: what the router counts is told to no listener."""

    async def loop() -> None:
        while not check():
            await asyncio.sleep(0.01)

    try:
        await asyncio.wait_for(loop(), 30)
    except TimeoutError:
        raise AssertionError(f"never saw {what}") from None


async def test_an_offer_refused_for_no_such_channel_is_no_miss_and_not_repeated(
    tmp_path: Path,
) -> None:
    async with pbx_product.on_simulated_pbx(tmp_path, CONFIG) as product:
        pbx, router = product.pbx, product.router
        assert pbx is not None
        router.set_agent_state("204", "paused", "réunion")  # nobody ready for accueil
        w = watch(product)
        call = pbx.place_call("0612345678", "Dupont", service="accueil", talk=3600)
        cid = call.linkedid
        await w.until(lambda: bool(w.of(ev.CallWaiting, cid)), "the call waiting")

        pbx.hold_events()  # stasis behind: the hang-up is not told yet
        pbx.hangup_call(call)
        await call.ended.wait()
        router.set_agent_state("201", "ready", None)  # the engine offers her the call
        await until(lambda: router.offers_failed >= 1, "the offer refused")
        await ping(product)  # whatever the refusal set going has reached the PBX
        pbx.release_events()
        await w.until(lambda: bool(w.of(ev.CallAbandoned, cid)), "the hang-up")
        await ping(product)

        # One refusal, not one per turn of the loop until the Hangup came; Marie was not
        # rung, she missed nothing and is ready; the line is empty.
        assert router.offers_failed == 1 and router.offers_sent == 0
        marie = router.engine.agent("201")
        assert (marie.state, marie.missed_offers) == (AgentState.READY, 0)
        assert not router.alerts
        assert router.engine.waiting("accueil") == []
        assert cid not in router.dispatcher.holding()

        # The next caller goes to her.
        second = pbx.place_call("0698765432", "Martin", service="accueil", talk=3600)
        await w.until(lambda: bool(w.of(ev.CallAnswered, second.linkedid)), "second answered")
        assert w.of(ev.CallAnswered, second.linkedid)[0].agent == "201"


async def ping(product: Product) -> dict[str, Any]:
    """One round trip on the product's own link: every action it sent before is answered."""
    return dict(await product.connection.send({"Action": "Ping"}))
