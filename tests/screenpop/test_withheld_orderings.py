"""Whenever the restriction arrives before the offer, nothing from the directory reaches the
agent: every way Asterisk may tell it, at every point before the phone rings, the directory
lookup done or still running.

A trunk call of madame Bernard (known to the directory) is written as Asterisk 22 writes it
(tests/golden/recordings/d1-trunk-withheld-derived.jsonl); the restriction is put in at each
place it can come from. The tracker and the screen pop are the real ones, the directory a real
database; the agent's page is the hub's subscription.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from cti.ami.events import parse_event
from cti.db import Database
from cti.tracker import CallTracker
from screenpop.directory import Directory
from screenpop.hub import AgentHub
from screenpop.pop import ScreenPop

TRUNK, LINKED, AGENT_LEG = "PJSIP/trunk-00000001", "1795400000.1", "Local/201@agents-00000001;1"
NUMBER, E164 = "0644556677", "+33644556677"


def _snap(context: str, exten: str, num: str = NUMBER, state: int = 6) -> dict[str, str]:
    return {
        "Channel": TRUNK,
        "ChannelState": str(state),
        "CallerIDNum": num,
        "CallerIDName": "Bernard",
        "Context": context,
        "Exten": exten,
        "Uniqueid": LINKED,
        "Linkedid": LINKED,
    }


def _user(name: str, context: str, num: str, **body: str) -> dict[str, str]:
    return {"Event": "UserEvent", **_snap(context, "s", num), "UserEvent": name, **body}


# Where the restriction may come from, and where it is put in (index in the call's frames).
SOURCES = ("anonymous", "caller_id_event", "new_caller_id", "waiting_event")
PLACES = {"caller_id_event": (1, 2), "new_caller_id": (1, 2, 3)}


def frames(source: str, place: int, announced_allowed: bool) -> list[dict[str, str]]:
    num = "anonymous" if source == "anonymous" else NUMBER
    pres = "prohib_not_screened" if source == "waiting_event" else "allowed_not_screened"
    call = [
        {"Event": "Newchannel", **_snap("from-pstn", "0140000000", num, 4)},
        {"Event": "Newstate", **_snap("from-pstn", "0140000000", num)},
        _user("CtiWaiting", "cti-wait", num, DID="0140000000", Service="etat-civil", Pres=pres),
        {
            "Event": "DialBegin",
            **_snap("cti-connect", "s", num),
            "DestChannel": AGENT_LEG,
            "DestContext": "agents",
            "DestUniqueid": "1795400006.2",
            "DestLinkedid": LINKED,
        },
    ]
    if announced_allowed:  # the dialplan first said "allowed" (it changed its mind later)
        call.insert(1, _user("CtiCallerId", "from-pstn", num, Pres="allowed_not_screened"))
        place += 1
    if source == "caller_id_event":
        call.insert(place, _user("CtiCallerId", "from-pstn", num, Pres="prohib_not_screened"))
    elif source == "new_caller_id":
        restricted = {"Event": "NewCallerid", **_snap("from-pstn", "0140000000")}
        call.insert(place, restricted | {"CID-CallingPres": "35 (Presentation Prohibited)"})
    return call


CASES = [
    (source, place, announced, drain)
    for source in SOURCES
    for place, announced, drain in itertools.product(
        PLACES.get(source, (0,)), (False, True), (False, True)
    )
    if not (announced and source == "anonymous")
]


@pytest.fixture
async def pop(database: Database) -> AsyncIterator[ScreenPop]:
    directory = Directory(database)
    directory.create_citizen("madame", "Bernard", "Sophie", E164)
    screen = ScreenPop(directory, AgentHub())
    writer = asyncio.create_task(screen.run())
    try:
        yield screen
    finally:
        writer.cancel()


@pytest.mark.parametrize(("source", "place", "announced", "drain"), CASES)
async def test_no_directory_data_reaches_the_agent(
    pop: ScreenPop, source: str, place: int, announced: bool, drain: bool
) -> None:
    page = pop.hub.subscribe("201")
    tracker = CallTracker()
    for t, headers in enumerate(frames(source, place, announced)):
        event = parse_event(headers)
        assert event is not None
        for domain_event in tracker.handle(event, float(t)):
            pop.on_event(domain_event)
        if drain:  # the directory answered before the next event: the worst case
            await pop.drained()
    text = await asyncio.wait_for(page.get(), 10)
    message: dict[str, Any] = json.loads(text)
    assert message["type"] == "card.offered"
    card = message["card"]
    assert card["greeting"] == "Bonjour" and card["citizens"] == []
    assert card["caller"]["status"] == "withheld" and card["caller"]["raw"] is None
    assert not any(trace in text for trace in (NUMBER, E164, "Bernard", "44 55 66 77"))
    await pop.drained()
    assert pop.directory.audit_count("card.open") == 0
    stored = pop.directory.interaction(LINKED)
    assert stored is not None and stored.caller_e164 is None
