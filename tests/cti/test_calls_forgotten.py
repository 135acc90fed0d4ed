"""A call that ended leaves nothing behind: memory follows the calls that are up, not the
calls that ever were.

The soak bench (README, "Soak") saw the product's RSS grow for minutes at a high call rate;
its callers wait minutes before they give up, so the calls up fill for as long. What keeps
that growth bounded is that every per-call structure lets go of a call when it ends. Here
the whole product runs against the simulated PBX over TCP, three waves of calls (answered,
abandoned while waiting, hung up while ringing) come and go, and after each wave the calls'
state everywhere is back to nothing: counts, not timings.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cti.assembly import Product, running
from cti.pbxsim.pbx import AgentPhone
from cti.tracker import events as ev
from tests.cti.test_routing_with_pbx import CONFIG, Watch, settings_for, until_connected, watch

WAVES = 3
CALLS = 30  # per wave
SERVICES = ("accueil", "etat-civil", "urbanisme")
# How long each caller stays (simulated seconds, before the PBX's time scale): some hang up
# while waiting or ringing, the others are answered and talk.
STAYS = (0.5, 3.0, 40.0)


@pytest.fixture
async def product(tmp_path: Path) -> AsyncIterator[Product]:
    async with running(settings_for(tmp_path), simulated=True, traffic=False) as product:
        assert product.pbx is not None
        product.pbx.telephony.agents.update(
            {ext: AgentPhone(ring=1.0, talk=2.0) for ext in CONFIG["agents"]}
        )
        product.pbx.telephony.safety_net = 1e6
        await until_connected(product)
        for agent in CONFIG["agents"]:
            product.router.set_agent_state(agent, "ready", None)
        yield product


async def wave(product: Product, w: Watch, first: int) -> None:
    assert product.pbx is not None
    placed = []
    for n in range(CALLS):
        call = product.pbx.place_call(
            f"06{first + n:08d}",
            service=SERVICES[n % len(SERVICES)],
            # Every stay in every service: with both cycles of three, the callers who stay
            # long enough to be answered all asked for urbanisme, which nobody takes, and a
            # call was answered only when a short stay outlasted its ring (a race).
            talk=STAYS[n // len(SERVICES) % len(STAYS)],
        )
        placed.append(call.linkedid)
        await asyncio.sleep(0)  # arrivals spread over loop turns, as over the wire
    await w.until(
        lambda: all(w.of(ev.CallEnded, call_id) for call_id in placed), "every call ended"
    )
    await product.pop.drained()


def calls_still_held(product: Product) -> dict[str, int]:
    """Per-call state the product still holds, where it holds some."""
    tracker = product.service.tracker
    held = {
        "tracker calls": len(tracker.active_calls),
        "tracker channels": tracker.tracked_channel_count,
        "live view calls": len(product.service.view.calls),
        "cards' calls": len(product.pop.calls),
        "records not written": product.pop.records.pending,
        "calls waiting in the engine": sum(len(product.router.engine.waiting(s)) for s in SERVICES),
    }
    return {what: count for what, count in held.items() if count}


async def test_every_call_ended_is_let_go_wave_after_wave(product: Product) -> None:
    w = watch(product)
    for n in range(WAVES):
        await wave(product, w, n * CALLS)
        assert calls_still_held(product) == {}
    answered = {e.call_id for e in w.events if isinstance(e, ev.CallAnswered)}
    abandoned = {e.call_id for e in w.events if isinstance(e, ev.CallAbandoned)}
    assert answered and abandoned  # both ways of ending were exercised
