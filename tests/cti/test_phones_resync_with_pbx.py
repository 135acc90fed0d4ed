"""Issue 18: after a restart, agents' states agree with their phones, on the simulated PBX.

The product stops while Marie talks on a call she placed herself (no citizen's channel, no
context of the town hall's dialplan: nothing the call tracker restores). The product that
starts again must see her phone in use before it offers anything: a citizen arriving then
waits, and is offered to Marie once she hangs up.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from cti.assembly import SIM_SECRET, running
from cti.pbxsim import SimulatedPbx
from cti.pbxsim.pbx import AgentPhone
from cti.tracker import events as ev
from routing.states import AgentState
from tests.cti import pbx_product
from tests.cti.pbx_product import until_connected

CONFIG: dict[str, Any] = {
    "skills": {"accueil": "Accueil"},
    "services": {"accueil": {"label": "Accueil", "required_skills": {"accueil": 1}}},
    "agents": {"201": {"name": "Marie", "skills": {"accueil": 5}}},
}


class Seen:
    """The product's domain events, and a way to wait for one."""

    def __init__(self) -> None:
        self.events: list[ev.DomainEvent] = []
        self.changed = asyncio.Event()

    def __call__(self, event: ev.DomainEvent) -> None:
        self.events.append(event)
        self.changed.set()

    async def first(self, kind: type[ev.CallEvent], call_id: str) -> Any:
        async def loop() -> Any:
            while True:
                found = [e for e in self.events if isinstance(e, kind) and e.call_id == call_id]
                if found:
                    return found[0]
                self.changed.clear()
                await self.changed.wait()

        try:
            return await asyncio.wait_for(loop(), 30)
        except TimeoutError:
            pytest.fail(f"never saw {kind.__name__} of {call_id}: {self.events}")


async def test_an_agent_on_her_own_call_at_restart_is_offered_nothing_until_she_hangs_up(
    tmp_path: Path,
) -> None:
    pbx = SimulatedPbx(secret=SIM_SECRET, time_scale=0.02)
    pbx.telephony.agents = {"201": AgentPhone(ring=1.0, talk=3600)}
    pbx.telephony.safety_net = 1e6
    await pbx.start()
    settings = pbx_product.settings_for(tmp_path, CONFIG)
    try:
        async with running(settings, simulated=True, traffic=False, pbx=pbx) as product:
            await until_connected(product)
            product.router.set_agent_state("201", "ready", None)
            await product.agent_states.flush()
        own = pbx.telephony.own_call("201", "0145454545")  # the prefecture, while it is down

        async with running(settings, simulated=True, traffic=False, pbx=pbx) as product:
            seen = Seen()
            product.service.add_listener(seen)
            await until_connected(product)
            router = product.router
            assert router.agent_state("201")[0] == "on_call", router.agent_state("201")
            assert router.engine.agent("201").state is AgentState.READY  # her choice, kept
            citizen = pbx.place_call("0612345678", "Dupont", service="accueil", talk=3600)
            await seen.first(ev.CallWaiting, citizen.linkedid)
            # Decided as the event was handled: she is not rung, the citizen waits.
            assert router.dispatcher.ringing == {}
            assert [w.call_id for w in router.engine.waiting("accueil")] == [citizen.linkedid]
            assert router.offers_sent == 0
            pbx.telephony.end_own_call(own)
            answered = await seen.first(ev.CallAnswered, citizen.linkedid)
            assert answered.agent == "201"
            assert [e.agent for e in seen.events if isinstance(e, ev.CallOffered)] == ["201"]
            pbx.hangup_call(citizen)
            await seen.first(ev.CallEnded, citizen.linkedid)
    finally:
        await pbx.close()
