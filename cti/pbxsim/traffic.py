"""Realistic citizen traffic for the simulated PBX: a seeded Poisson process of calls.

``schedule`` is pure (same seed, same calls): exponential gaps between arrivals at the given
rate, caller numbers drawn from a list (the directory's, so that cards pop), a share of withheld
and of unknown callers, a menu choice and a patience per call. ``drive`` places them on a
:class:`~cti.pbxsim.simulator.SimulatedPbx` in real time (scaled).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass

from cti.pbxsim.pbx import AgentPhone
from cti.pbxsim.simulator import SimulatedPbx

# Callers of the demo directory (screenpop.seed) and a few strangers.
DEFAULT_NUMBERS = ("0612345678", "0155512233", "0678901234", "0145678912", "0687654321")
# The demo's services (routing/demo.yaml, the voice menu) and their share of the calls.
SERVICE_WEIGHTS = {
    "accueil": 30,
    "etat-civil": 25,
    "urbanisme": 12,
    "ecoles": 15,
    "ccas": 10,
    "techniques": 8,
}
OTHER_SERVICE_WEIGHT = 5
NAMES = ("Dupont", "Martin", "Bernard", "Petit", "Durand", "Leroy", "Moreau", "Simon")


@dataclass(frozen=True, slots=True)
class PlannedCall:
    at: float  # seconds after the start
    caller_number: str
    caller_name: str
    withheld: bool
    service: str
    talk: float  # the citizen hangs up this long after calling (patience + conversation)


def schedule(
    rate_per_minute: float,
    duration: float,
    *,
    numbers: Sequence[str] = DEFAULT_NUMBERS,
    services: Sequence[str] = tuple(SERVICE_WEIGHTS),
    seed: int = 1,
    withheld_ratio: float = 0.08,
    unknown_ratio: float = 0.15,
) -> list[PlannedCall]:
    """The calls of ``duration`` seconds of traffic at ``rate_per_minute`` on average."""
    if rate_per_minute <= 0:
        return []
    rng = random.Random(seed)
    services = list(services)
    weights = [SERVICE_WEIGHTS.get(name, OTHER_SERVICE_WEIGHT) for name in services]
    calls: list[PlannedCall] = []
    at = rng.expovariate(rate_per_minute / 60.0)
    while at < duration:
        draw = rng.random()
        if draw < withheld_ratio:  # restricted presentation: the number is there but hidden
            number, name, withheld = rng.choice(list(numbers)), "", True
        elif draw < withheld_ratio + 0.02:  # no caller ID at all
            number, name, withheld = "", "", False
        elif draw < withheld_ratio + unknown_ratio:
            number, name, withheld = f"06{rng.randrange(10**8):08d}", "", False
        else:
            number, name, withheld = rng.choice(list(numbers)), rng.choice(NAMES), False
        service = rng.choices(services, weights)[0]
        calls.append(
            PlannedCall(round(at, 3), number, name, withheld, service, rng.uniform(25.0, 240.0))
        )
        at += rng.expovariate(rate_per_minute / 60.0)
    return calls


def demo_agents(
    extensions: Sequence[str], seed: int = 1, transfer_ratio: float = 0.1
) -> dict[str, AgentPhone]:
    """Agents' phones that answer after a few seconds, now and then not at all, and pass a
    share of their calls on to a colleague (blind transfer) so the demo shows transfers."""
    rng = random.Random(seed)
    return {
        ext: AgentPhone(
            ring=rng.uniform(1.5, 6.0),
            talk=rng.uniform(60.0, 180.0),
            miss_ratio=0.1,
            transfer_ratio=transfer_ratio,
        )
        for ext in extensions
    }


async def drive(pbx: SimulatedPbx, calls: Sequence[PlannedCall]) -> int:
    """Place ``calls`` at their times (scaled by the PBX's time scale); return how many."""
    scale = pbx.telephony.time_scale
    loop = asyncio.get_running_loop()
    start = loop.time()
    for planned in calls:
        delay = start + planned.at * scale - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        pbx.place_call(
            planned.caller_number,
            planned.caller_name,
            service=planned.service,
            withheld=planned.withheld,
            talk=planned.talk,
        )
    return len(calls)
