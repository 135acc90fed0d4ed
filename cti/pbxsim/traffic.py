"""Realistic citizen traffic for the simulated PBX: a seeded Poisson process of calls.

``traffic`` is pure (same seed, same calls) and lazy (each call drawn when asked for, so the
demo runs for weeks at any rate in constant memory; ``schedule`` lists a stretch of it):
exponential gaps between arrivals at the given rate, caller numbers drawn from a list (the
directory's, so that cards pop), a share of withheld callers (from the SIP trunk, their number
in the channel but their presentation restricted) and of unknown callers, a menu choice and a
patience per call. ``drive`` places them on a :class:`~cti.pbxsim.simulator.SimulatedPbx` in
real time (scaled).

The menu choice is also the keys the caller types in the voice menu (``menu_keys`` reads them
off the tree: ``1`` for état civil...), plus callers who only ask the opening hours or their
case's status and hang up, and a few who type a wrong key or nothing at all first. The
product's FastAGI server (``cti.voice_menu``) runs the menu; on the simulated PBX its clock is
``DEMO_MENU_TIME``.
"""

from __future__ import annotations

import asyncio
import functools
import math
import random
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cti.pbxsim.agi_commands import TIMEOUT_KEY
from cti.pbxsim.pbx import AgentPhone
from cti.pbxsim.simulator import SimulatedPbx
from ivr_scripts.tree import HoursCheckNode, MenuNode, MessageNode, RouteNode, Tree
from ivr_scripts.validate import load_tree
from screenpop.case_keys import case_key
from screenpop.seed import PREFIX

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
DEFAULT_TREE = Path(__file__).resolve().parents[2] / "ivr_scripts" / "default_tree.yaml"
# Keys of the default tree's self-service choices and its wrong key.
HOURS_KEYS = "7"  # hears the opening hours, then hangs up (IVR_RESULT=done)
CASE_KEYS = "6"  # then the case's digits (screenpop.case_keys) and #
WRONG_KEY = "8"
HOURS_RATIO, CASE_RATIO, WRONG_RATIO, SILENT_RATIO = 0.08, 0.06, 0.04, 0.03
# The demo runs at any hour; its voice menu lives on a Tuesday morning, when the town hall
# and all its services are open, so that callers reach the agents.
DEMO_MENU_TIME = datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))


@dataclass(frozen=True, slots=True)
class PlannedCall:
    at: float  # seconds after the start
    caller_number: str
    caller_name: str
    withheld: bool
    service: str
    talk: float  # the citizen hangs up this long after calling (patience + conversation)
    keys: str | None = None  # typed in the voice menu (None: put straight into ``service``)
    # From the SIP trunk: the number in Newchannel, the presentation said by the dialplan only.
    trunk: bool = False


def menu_keys(tree: Tree) -> dict[str, str]:
    """The shortest keys leading to each service from the start, the town hall being open.

    Messages and open hours checks are passed through; a menu's choices are keys.
    """
    found: dict[str, str] = {}
    seen: set[str] = set()
    queue: deque[tuple[str | None, str]] = deque([(tree.start, "")])
    while queue:
        node_id, keys = queue.popleft()
        if node_id is None or node_id in seen or node_id not in tree.nodes:
            continue
        seen.add(node_id)
        node = tree.nodes[node_id]
        if isinstance(node, MessageNode):
            queue.appendleft((node.next, keys))
        elif isinstance(node, HoursCheckNode):
            queue.appendleft((node.open, keys))
        elif isinstance(node, MenuNode):
            queue.extend((target, keys + key) for key, target in sorted(node.choices.items()))
        elif isinstance(node, RouteNode):
            found.setdefault(node.service, keys)
    return found


@functools.cache
def default_menu() -> dict[str, str]:
    """``menu_keys`` of ivr_scripts/default_tree.yaml."""
    return menu_keys(load_tree(DEFAULT_TREE))


def caller_keys(service: str, menu: Mapping[str, str], rng: random.Random) -> str | None:
    """What one caller types: mostly the service's keys, sometimes a self-service question,
    a wrong key first or nothing (the menu then times out to its default)."""
    path = menu.get(service)
    if path is None:
        return None  # a service the menu does not offer: put straight into it
    draw = rng.random()
    if draw < HOURS_RATIO:
        return HOURS_KEYS
    if draw < HOURS_RATIO + CASE_RATIO:  # a case number; then an agent (1) or hang up
        reference = f"{PREFIX.get(service, PREFIX['accueil'])}-2026-{rng.randrange(1, 400):05d}"
        return f"{CASE_KEYS}{case_key(reference)}#" + rng.choice(("1", ""))
    if draw < HOURS_RATIO + CASE_RATIO + WRONG_RATIO:
        return WRONG_KEY + path
    if draw < HOURS_RATIO + CASE_RATIO + WRONG_RATIO + SILENT_RATIO:
        return TIMEOUT_KEY + path  # hesitates once, then chooses
    return path


def traffic(
    rate_per_minute: float,
    duration: float = math.inf,
    *,
    numbers: Sequence[str] = DEFAULT_NUMBERS,
    services: Sequence[str] = tuple(SERVICE_WEIGHTS),
    seed: int = 1,
    withheld_ratio: float = 0.08,
    unknown_ratio: float = 0.15,
    menu: Mapping[str, str] | None = None,
) -> Iterator[PlannedCall]:
    """The calls of ``duration`` seconds (for ever by default) at ``rate_per_minute`` on
    average, drawn one at a time as they are asked for: a week of demo at a high rate is not
    planned (and held in memory) at start.

    ``menu`` maps services to their keys in the voice menu (default: ``default_menu()``).
    """
    if rate_per_minute <= 0:
        return
    rng = random.Random(seed)
    keys_rng = random.Random(seed + 1)  # keeps the other draws as they were before the menu
    menu = default_menu() if menu is None else menu
    services = list(services)
    numbers = list(numbers)
    weights = [SERVICE_WEIGHTS.get(name, OTHER_SERVICE_WEIGHT) for name in services]
    at = rng.expovariate(rate_per_minute / 60.0)
    while at < duration:
        draw = rng.random()
        if draw < withheld_ratio:  # restricted presentation: the number is there but hidden
            number, name, withheld = rng.choice(numbers), "", True
        elif draw < withheld_ratio + 0.02:  # no caller ID at all
            number, name, withheld = "", "", False
        elif draw < withheld_ratio + unknown_ratio:
            number, name, withheld = f"06{rng.randrange(10**8):08d}", "", False
        else:
            number, name, withheld = rng.choice(numbers), rng.choice(NAMES), False
        service = rng.choices(services, weights)[0]
        patience = rng.uniform(25.0, 240.0)
        keys = caller_keys(service, menu, keys_rng)
        # Withheld callers come as a real trunk gives them (Privacy: id): the number is in
        # the channel, only the presentation hides it.
        yield PlannedCall(round(at, 3), number, name, withheld, service, patience, keys, withheld)
        at += rng.expovariate(rate_per_minute / 60.0)


def schedule(
    rate_per_minute: float,
    duration: float,
    **options: Any,
) -> list[PlannedCall]:
    """``traffic``'s calls of ``duration`` seconds, all at once (tests, benches)."""
    return list(traffic(rate_per_minute, duration, **options))


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


# Known callers of the demo directory (screenpop.seed.KNOWN): madame Dupont comes last.
WELCOME_CALLERS = (
    ("+33698765432", "Martin"),
    ("+33145678901", "Bernard"),
    ("+33678901234", "Petit"),
    ("+33687654321", "Leroy"),
    ("+33145678912", "Durand"),
)
WELCOME_LAST = ("+33612345678", "Dupont")
WELCOME_GAP_S = 0.5  # apart, so they queue in order


def welcome_burst(busy_first: int, service: str = "etat-civil") -> list[PlannedCall]:
    """The calls placed when the demo's newcomer first says « Prêt »: one for each colleague
    free to take ``service`` (the router offers them first: they have waited longer), then
    madame Dupont's, which is hers. So her first card comes within seconds, as the README
    says, whatever the random traffic is doing."""
    callers = [WELCOME_CALLERS[i % len(WELCOME_CALLERS)] for i in range(busy_first)]
    keys = default_menu().get(service)
    return [
        PlannedCall(
            at=i * WELCOME_GAP_S,
            caller_number=number,
            caller_name=name,
            withheld=False,
            service=service,
            talk=600.0,
            keys=keys,
        )
        for i, (number, name) in enumerate([*callers, WELCOME_LAST])
    ]


async def drive(pbx: SimulatedPbx, calls: Iterable[PlannedCall]) -> int:
    """Place ``calls`` at their times (scaled by the PBX's time scale), each drawn when its
    time comes; return how many."""
    scale = pbx.telephony.time_scale
    loop = asyncio.get_running_loop()
    start = loop.time()
    placed = 0
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
            keys=planned.keys,
            trunk=planned.trunk,
        )
        placed += 1
    return placed
