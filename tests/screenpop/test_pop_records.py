"""What the screen pop writes down, and that the card never waits for the database.

Domain events come from the recordings of a real Asterisk (``cti.replay``); the pop runs with
a real database and its own writer task; the agent's pages are the hub's subscriptions.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from cti.db import Database
from cti.replay import replay
from cti.tracker import events as ev
from screenpop.directory import Directory
from screenpop.hub import AgentHub
from screenpop.pop import ScreenPop


@pytest.fixture
async def pop(database: Database) -> AsyncIterator[ScreenPop]:
    directory = Directory(database)
    directory.create_citizen("madame", "Dupont", "Jeanne", "+33612345678")
    screen = ScreenPop(directory, AgentHub(), service_labels={"etat-civil": "État civil"})
    writer = asyncio.create_task(screen.run())
    try:
        yield screen
    finally:
        writer.cancel()


Recording = Callable[[str], list[ev.DomainEvent]]


@pytest.fixture
def recording(captures_dir: Path) -> Recording:
    return lambda name: replay(captures_dir / name)


async def next_message(sub: Any) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(sub.get(), 10))
    return message


async def test_a_call_that_ends_in_the_voice_menu_is_recorded_as_such(
    pop: ScreenPop, recording: Recording
) -> None:
    # Recording 16: the caller hangs up during the menu, never asking for an agent.
    events = recording("16-agi-caller-hangup-mid-script.jsonl")
    call_id = events[0].call_id
    for event in events[:-1]:
        pop.on_event(event)
    pop.menu_path(call_id, ["accueil", "menu_principal"])
    pop.on_event(events[-1])
    await pop.drained()
    record = pop.directory.interaction(call_id)
    assert record is not None
    assert record.outcome == "menu" and record.ivr_path == ("accueil", "menu_principal")
    assert record.agents == () and record.talk_seconds == 0


async def test_a_caller_who_gives_up_waiting_is_abandoned_not_menu(
    pop: ScreenPop, recording: Recording
) -> None:
    for event in recording("06-caller-abandons-while-waiting.jsonl"):
        pop.on_event(event)
    await pop.drained()
    (call_id,) = {e.call_id for e in recording("06-caller-abandons-while-waiting.jsonl")}
    record = pop.directory.interaction(call_id)
    assert record is not None and record.outcome == "abandoned"


async def test_the_card_pops_while_the_database_is_stuck_and_shows_the_menu_path(
    pop: ScreenPop, recording: Recording
) -> None:
    events = recording("04-inbound-answered.jsonl")
    offered = next(i for i, e in enumerate(events) if isinstance(e, ev.CallOffered))
    agent = events[offered].agent  # type: ignore[attr-defined]
    sub = pop.hub.subscribe(agent)
    arrived = events[0]
    pop.on_event(arrived)
    # The path is reported by the menu before the call waits (same process, FastAGI).
    pop.menu_path(arrived.call_id, ["accueil", "menu_principal", "etat_civil"])
    await pop.drained()  # the directory has answered who calls

    # From now on every write hangs until released: the pop must not wait for it.
    release = threading.Event()
    pop.writer.submit(lambda: release.wait(30))
    try:
        for event in events[1 : offered + 1]:
            pop.on_event(event)
        message = await next_message(sub)
        assert message["type"] == "card.offered"
        card = message["card"]
        assert card["greeting"] == "Bonjour madame Dupont"
        assert card["ivr_path"] == ["accueil", "menu_principal", "etat_civil"]
        assert not pop.writer.idle.is_set()  # the writes are still queued behind the stuck one
    finally:
        release.set()
    for event in events[offered + 1 :]:
        pop.on_event(event)
    await pop.drained()
    record = pop.directory.interaction(arrived.call_id)
    assert record is not None and record.outcome == "answered" and record.agents == (agent,)
    assert pop.directory.audit_count("card.open") == 1  # who saw madame Dupont's card
    assert record.ivr_path == ("accueil", "menu_principal", "etat_civil")


async def test_events_during_the_lookup_wait_for_it_and_keep_their_order(
    pop: ScreenPop, recording: Recording
) -> None:
    events = recording("04-inbound-answered.jsonl")
    offered = next(i for i, e in enumerate(events) if isinstance(e, ev.CallOffered))
    agent = events[offered].agent  # type: ignore[attr-defined]
    sub = pop.hub.subscribe(agent)
    # Everything arrives at once: the offer comes before the directory could answer.
    for event in events:
        pop.on_event(event)
    kinds = [(await next_message(sub))["type"] for _ in range(3)]
    assert kinds == ["card.offered", "card.answered", "card.ended"]
    await pop.drained()
    assert pop.calls == {}


async def test_records_still_in_memory_are_written_when_the_service_stops(
    pop: ScreenPop, recording: Recording
) -> None:
    events = recording("06-caller-abandons-while-waiting.jsonl")
    for event in events:
        pop.on_event(event)
    assert pop.records.pending == 1  # merged in memory, waiting for its delay
    await pop.close()
    record = pop.directory.interaction(events[0].call_id)
    assert record is not None and record.outcome == "abandoned"


@pytest.mark.parametrize("name", ["07-blind-transfer.jsonl", "08-attended-transfer.jsonl"])
async def test_a_transferred_call_records_every_agent_who_answered_it(
    pop: ScreenPop, recording: Recording, name: str
) -> None:
    """The reports count a transferred call for each agent who took it (issue 22)."""
    from datetime import UTC, datetime

    from cti.reports.query import read_calls

    events = recording(name)
    transferred = next(e for e in events if isinstance(e, ev.CallTransferred))
    for event in events:
        pop.on_event(event)
    await pop.drained()
    # Replayed on the recording's own clock (seconds from its start: 1970).
    ever = (datetime(1970, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    (record,) = read_calls(pop.directory.db, *ever)
    assert record.answered_by == (transferred.agent, transferred.to_agent)
