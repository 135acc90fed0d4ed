"""The screen pop service: domain events in, cards out to the agents' pages, calls recorded.

Theory of operation
-------------------
The call service calls ``on_event`` for every domain event. Events are queued and handled one
at a time, in order, by ``run`` (directory reads and writes are blocking: they go to a thread,
and their order per call must hold). For each call the service keeps ``CallFacts`` and what
the directory said about the caller, fetched once when the call arrives: when the agent's
phone rings, the card is built from memory and sent before anything is written, so the pop
waits for no database.

* ``CallArrived``: normalise the number, look the citizens up, open the interaction record.
* ``CallWaiting``: the service chosen in the menu, the menu path the voice menu recorded.
* ``CallOffered``: the card pops on that agent's pages only (``card.offered``).
* ``CallAnswered``/``CallTransferred``/``CallNoAnswer``/``CallAbandoned``/``CallEnded``: the
  card follows (answered, handed on, gone) and the record is completed.

Notes written by an agent are saved on the call's record and pushed to whoever has the call
now: after a transfer the next agent reads the first agent's note.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cti.tracker import events as ev
from screenpop.card import CallFacts, CitizenRecord, build_card
from screenpop.directory import CitizenView, Directory, NoteView
from screenpop.errors import ScreenPopError
from screenpop.hub import AgentHub
from screenpop.messages import (
    Card,
    CardAnswered,
    CardEnded,
    CardOffered,
    CardTransferred,
    CardUpdated,
)
from screenpop.phones import CallerNumber, normalise

log = logging.getLogger(__name__)

RECENT_CALLS = 5


class NotYourCall(ScreenPopError):
    """An agent tried to act on a call that was never offered to them."""

    def __init__(self, agent: str, call_id: str) -> None:
        super().__init__(f"l'appel {call_id} n'a pas été présenté à l'agent {agent}")
        self.agent = agent
        self.call_id = call_id


@dataclass(slots=True)
class _Call:
    facts: CallFacts
    caller: CallerNumber
    records: list[CitizenRecord] = field(default_factory=list)
    notes: list[NoteView] = field(default_factory=list)
    answered_at: float | None = None


def _when(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


class ScreenPop:
    def __init__(
        self,
        directory: Directory,
        hub: AgentHub,
        *,
        service_labels: Mapping[str, str] | None = None,
        wrap_up: Callable[[str | None], float] = lambda service: 0.0,
    ) -> None:
        self.directory = directory
        self.hub = hub
        # Kept by reference: a new routing configuration renames services on the fly.
        self.service_labels = service_labels if service_labels is not None else {}
        self.wrap_up = wrap_up
        self.calls: dict[str, _Call] = {}
        self._queue: asyncio.Queue[ev.DomainEvent] = asyncio.Queue()
        self._idle = asyncio.Event()
        self._idle.set()
        self.errors = 0

    # -- the event side ------------------------------------------------------------------

    def on_event(self, event: ev.DomainEvent) -> None:
        self._idle.clear()
        self._queue.put_nowait(event)

    async def run(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                await self.handle(event)
            except Exception:  # one bad event or a database hiccup must not stop the pops
                self.errors += 1
                log.exception("screen pop failed on %s of call %s", event.type, event.call_id)
            if self._queue.empty():
                self._idle.set()

    async def drained(self) -> None:
        """Wait until every queued event has been handled (tests, shutdown)."""
        await self._idle.wait()

    async def handle(self, event: ev.DomainEvent) -> None:
        if isinstance(event, ev.CallArrived):
            await self._arrived(event)
            return
        call = self.calls.get(event.call_id)
        if call is None:
            return  # began before we started and never announced: nothing to show
        facts = call.facts
        if isinstance(event, ev.CallWaiting):
            await self._waiting(call, event)
        elif isinstance(event, ev.CallOffered):
            await self._offered(call, event)
        elif isinstance(event, ev.CallAnswered):
            facts.stage, facts.agent = "connected", event.agent
            call.answered_at = event.at
            self.hub.send(event.agent, CardAnswered(card=self._card(call)))
            await self._record(facts.call_id, outcome="answered")
        elif isinstance(event, ev.CallNoAnswer):
            self._leave(call, event.agent, "no_answer")
        elif isinstance(event, ev.CallTransferred):
            self._transferred(call, event)
        elif isinstance(event, ev.CallSafetyNet):
            await self._record(facts.call_id, outcome="safety_net")
        elif isinstance(event, ev.CallAbandoned):
            if event.agent:
                self._leave(call, event.agent, "abandoned")
        elif isinstance(event, ev.CallEnded):
            await self._ended(call, event)

    async def _arrived(self, event: ev.CallArrived) -> None:
        caller = normalise(event.caller_number, withheld=event.caller_withheld)
        facts = CallFacts(
            call_id=event.call_id,
            caller_raw=event.caller_number,
            caller_withheld=event.caller_withheld,
            arrived_at=event.at,
            did=event.did,
        )
        call = _Call(facts, caller)
        self.calls[event.call_id] = call
        if caller.e164 is not None:
            call.records = await asyncio.to_thread(self._load_records, caller.e164)
        citizen_id = call.records[0].citizen.id if len(call.records) == 1 else None
        await self._record(
            event.call_id,
            started_at=_when(event.at),
            caller_raw=event.caller_number,
            caller_e164=caller.e164,
            caller_withheld=event.caller_withheld,
            citizen_id=citizen_id,
            did=event.did,
            outcome="in_progress",
        )

    def _load_records(self, e164: str) -> list[CitizenRecord]:
        return [self._record_of(c) for c in self.directory.citizens_by_number(e164)]

    def _record_of(self, citizen: CitizenView) -> CitizenRecord:
        return CitizenRecord(
            citizen,
            self.directory.open_cases(citizen.id),
            self.directory.recent_interactions(citizen.id, limit=RECENT_CALLS + 1),
        )

    async def _waiting(self, call: _Call, event: ev.CallWaiting) -> None:
        facts = call.facts
        facts.service = event.service or facts.service
        if facts.waiting_since is None:
            facts.waiting_since = event.at
        facts.stage = "ringing" if facts.agent else facts.stage
        stored = await asyncio.to_thread(self.directory.interaction, facts.call_id)
        if stored is not None and stored.ivr_path:
            facts.ivr_path = list(stored.ivr_path)
        await self._record(facts.call_id, service=facts.service)

    async def _offered(self, call: _Call, event: ev.CallOffered) -> None:
        facts = call.facts
        facts.agent, facts.stage = event.agent, "ringing"
        facts.service = event.service or facts.service
        if facts.waiting_since is not None:
            facts.waited = max(event.waited, event.at - facts.waiting_since)
        else:
            facts.waited = event.waited
        # The pop first; the record can wait a few milliseconds.
        card = self._card(call)
        self.hub.send(event.agent, CardOffered(card=card))
        await self._record(facts.call_id, add_agent=event.agent, wait_seconds=facts.waited)
        if card.selected_citizen_id is not None:  # RGPD: who saw whose card, and when
            await asyncio.to_thread(
                self.directory.audit,
                f"poste {event.agent}",
                "card.open",
                card.selected_citizen_id,
                f"appel {facts.call_id}",
            )

    def _leave(self, call: _Call, agent: str, reason: str) -> None:
        facts = call.facts
        card = self._card(call).model_copy(update={"stage": "ended"})
        self.hub.send(agent, CardEnded(card=card, reason=reason))
        if facts.agent == agent:
            facts.agent = None

    def _transferred(self, call: _Call, event: ev.CallTransferred) -> None:
        facts = call.facts
        if event.agent:
            if event.agent not in facts.previous_agents:
                facts.previous_agents.append(event.agent)
            facts.stage = "transferred"
            card = self._card(call)
            self.hub.send(
                event.agent,
                CardTransferred(card=card, to_agent=event.to_agent, to_service=event.service),
            )
        facts.agent = None
        if event.service:
            facts.service = event.service

    async def _ended(self, call: _Call, event: ev.CallEnded) -> None:
        facts = call.facts
        facts.stage = "ended"
        if facts.agent:
            wrap = self.wrap_up(facts.service)
            self.hub.send(
                facts.agent, CardEnded(card=self._card(call), reason="hangup", wrap_up_s=wrap)
            )
        del self.calls[facts.call_id]
        answered = call.answered_at is not None or event.talk > 0
        outcome = "answered" if answered else _OUTCOMES.get(event.reason, event.reason)
        await self._record(
            facts.call_id,
            outcome=outcome,
            wait_seconds=event.wait,
            talk_seconds=event.talk,
            duration_seconds=event.duration,
        )

    async def _record(self, call_id: str, **fields: Any) -> None:
        await asyncio.to_thread(self.directory.upsert_interaction, call_id, **fields)

    def _card(self, call: _Call) -> Card:
        return build_card(call.facts, call.caller, call.records, call.notes, self.service_labels)

    # -- the agent's side (called by the web app) -----------------------------------------

    async def _check_agent(self, call_id: str, agent: str) -> None:
        stored = await asyncio.to_thread(self.directory.interaction, call_id)
        if stored is None or agent not in stored.agents:
            raise NotYourCall(agent, call_id)

    async def add_note(self, call_id: str, agent: str, text: str) -> NoteView:
        """Save ``agent``'s note on the call; whoever has the call now sees it at once."""
        await self._check_agent(call_id, agent)
        note = await asyncio.to_thread(self.directory.add_note, call_id, agent, text)
        call = self.calls.get(call_id)
        if call is not None:
            call.notes.append(note)
            self._push_update(call, also=agent)
        return note

    async def set_disposition(self, call_id: str, agent: str, disposition: str) -> None:
        await self._check_agent(call_id, agent)
        await asyncio.to_thread(self.directory.set_disposition, call_id, disposition)
        call = self.calls.get(call_id)
        if call is not None:
            call.facts.disposition = disposition

    async def select_citizen(self, call_id: str, agent: str, citizen_id: int) -> Card | None:
        """The agent says who is calling: one of a household, or someone found by search."""
        await self._check_agent(call_id, agent)
        await asyncio.to_thread(self.directory.attach_citizen, call_id, citizen_id)
        call = self.calls.get(call_id)
        if call is None:
            return None
        if all(r.citizen.id != citizen_id for r in call.records):
            citizen = await asyncio.to_thread(self.directory.citizen, citizen_id)
            if citizen is None:
                raise ScreenPopError(f"aucun administré n'a l'identifiant {citizen_id}")
            call.records.append(await asyncio.to_thread(self._record_of, citizen))
        call.facts.selected_citizen_id = citizen_id
        return self._push_update(call, also=agent)

    def _push_update(self, call: _Call, *, also: str | None = None) -> Card:
        card = self._card(call)
        agents = {call.facts.agent, also} - {None}
        for agent in sorted(a for a in agents if a is not None):
            # A page in wrap-up keeps its ended card: its own request returns the change.
            if self.hub.current_call(agent) == call.facts.call_id:
                self.hub.send(agent, CardUpdated(card=card))
        return card


_OUTCOMES = {
    "abandoned": "abandoned",
    "caller_hangup": "abandoned",
    "shutdown": "lost",
    "lost": "lost",
    "failed": "lost",
}
