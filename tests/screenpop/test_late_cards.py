"""A card that leaves seconds after the ring (the product is overloaded) says how late."""

from __future__ import annotations

import asyncio
import json

from cti.db import Database
from cti.tracker import events as ev
from screenpop.directory import Directory
from screenpop.hub import AgentHub
from screenpop.pop import ScreenPop


def _call(call: str, at: float) -> dict[str, object]:
    return {"call_id": call, "at": at, "caller_number": "", "caller_withheld": True}


async def test_a_card_late_beyond_its_bound_says_so_an_early_one_does_not(
    database: Database,
) -> None:
    now = 1000.0
    pop = ScreenPop(Directory(database), AgentHub(), clock=lambda: now)
    page = pop.hub.subscribe("201")
    for call, rang in (("on-time", now - 0.5), ("late", now - 95.0)):
        pop.on_event(ev.CallArrived(**_call(call, rang)))  # type: ignore[arg-type]
        pop.on_event(ev.CallOffered(**_call(call, rang), agent="201"))  # type: ignore[arg-type]
    on_time = json.loads(await asyncio.wait_for(page.get(), 10))
    late = json.loads(await asyncio.wait_for(page.get(), 10))
    assert (on_time["card"]["call_id"], on_time["late_s"]) == ("on-time", None)
    assert (late["card"]["call_id"], late["late_s"]) == ("late", 95.0)
