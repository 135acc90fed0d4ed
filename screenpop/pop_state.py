"""The screen pop's state and the moves both its sides share. In memory, no waiting.

``PopState`` declares what ``pop.ScreenPop`` keeps (its ``__init__`` sets it up): the calls
being shown (``PopCall``), the records and writer they go to, the hub to the agents' pages.
Here: recording a change of a call, asking the database after the writes so far, building a
call's card and a citizen's part of it, and pushing a changed card to whoever has the call.
The caller's side (``caller_lookup``) and the agent's (``agent_actions``) extend it.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cti.tracker import events as ev
from screenpop.call_records import CallRecords
from screenpop.card import CallFacts, CitizenRecord, Names, build_card, citizen_item
from screenpop.directory import CitizenView, Directory, NoteView
from screenpop.hub import AgentHub
from screenpop.messages import Card, CardUpdated, CitizenItem
from screenpop.phones import CallerNumber, normalise
from screenpop.writer import OrderedWriter

T = TypeVar("T")

RECENT_CALLS = 5

# The caller as shown until her presentation is known, and once it is known withheld.
WITHHELD = normalise(None, withheld=True)


@dataclass(slots=True)
class PopCall:
    facts: CallFacts
    caller: CallerNumber = WITHHELD
    citizens: list[CitizenItem] = field(default_factory=list)  # as the card shows them
    notes: list[NoteView] = field(default_factory=list)
    answered_at: float | None = None
    offered_to: set[str] = field(default_factory=set)
    ringing: list[str] = field(default_factory=list)  # agents whose phone rings for it now
    # Events that came while the directory lookup was running; None once it answered.
    held: list[ev.DomainEvent] | None = None


class PopState:
    """The screen pop's state (set up by ``ScreenPop.__init__``); see ``pop`` for the theory."""

    directory: Directory
    clock: Callable[[], float] | None
    hub: AgentHub
    service_labels: Mapping[str, str]
    names: Names
    menu_labels: Callable[[Sequence[str]], list[str]]
    wrap_up: Callable[[str | None], float]
    calls: dict[str, PopCall]
    writer: OrderedWriter
    records: CallRecords
    _lookups: set[asyncio.Task[None]]
    _lookups_done: asyncio.Event
    _early_paths: OrderedDict[str, list[str]]
    _ended_calls: OrderedDict[str, set[str]]
    callback_headline: Callable[[str, float | None], str | None]
    errors: int
    # ``ScreenPop.on_event``: the events held behind a lookup go through it once it answers.
    on_event: Callable[[ev.DomainEvent], None]

    def _record(self, call_id: str, **fields: Any) -> None:
        self.records.update(call_id, **fields)

    async def _ask(self, work: Callable[[], T]) -> T:
        """Run ``work`` after every change so far is written; its result or exception."""
        self.records.flush()
        return await self.writer.call(work)

    def _card(self, call: PopCall) -> Card:
        return build_card(call.facts, call.caller, call.citizens, call.notes, self.names)

    def _item_of(self, citizen: CitizenView, call_id: str) -> CitizenItem:
        cases, calls = self.directory.history(citizen.id, recent=RECENT_CALLS + 1)
        return citizen_item(CitizenRecord(citizen, cases, calls), self.names, exclude_call=call_id)

    def _push_update(self, call: PopCall, *, also: str | None = None) -> Card:
        card = self._card(call)
        agents = {call.facts.agent, also} - {None}
        for agent in sorted(a for a in agents if a is not None):
            # A page in wrap-up keeps its ended card: its own request returns the change.
            if self.hub.current_call(agent) == call.facts.call_id:
                self.hub.send(agent, CardUpdated(card=card))
        return card
