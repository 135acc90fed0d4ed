"""The agent's side of the screen pop (called by the web app): notes, disposition, who calls.

An agent acts only on a call offered to her: one in course or ended a moment ago is known in
memory, an older one from its record, read after every write queued so far (``NotYourCall``
otherwise). Notes and dispositions go through the writer after the call's earlier writes;
a note is pushed to whoever has the call now (after a transfer the next agent reads the
first agent's note). While the database is away they are kept and said to be waiting for it
(``Saved.pending``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from screenpop.directory import InteractionUpdate, NoteView
from screenpop.directory_writes import calls_write, note_write
from screenpop.errors import ScreenPopError
from screenpop.messages import Card
from screenpop.pop_state import PopState


class NotYourCall(ScreenPopError):
    """An agent tried to act on a call that was never offered to them."""

    def __init__(self, agent: str, call_id: str) -> None:
        super().__init__(f"l'appel {call_id} n'a pas été présenté à l'agent {agent}")
        self.agent = agent
        self.call_id = call_id


@dataclass(frozen=True, slots=True)
class Saved:
    """An agent's note or disposition accepted: ``pending`` while the database is away (it
    is kept and written when the database is back)."""

    pending: bool
    note: NoteView | None = None


class AgentActions(PopState):
    """What an agent does on a call's card: note, disposition, the citizen who calls."""

    async def _check_agent(self, call_id: str, agent: str) -> None:
        call = self.calls.get(call_id)
        if call is not None and agent in call.offered_to:
            return
        if agent in self._ended_calls.get(call_id, ()):
            return  # ended a moment ago (wrap-up): known without the database
        # An older call: its record, read after every write queued so far.
        stored = await self._ask(lambda: self.directory.interaction(call_id))
        if stored is None or agent not in stored.agents:
            raise NotYourCall(agent, call_id)

    async def add_note(self, call_id: str, agent: str, text: str) -> Saved:
        """Save ``agent``'s note on the call; whoever has the call now sees it at once.
        The database away, the note is kept (spool) and written on its return."""
        await self._check_agent(call_id, agent)
        note = NoteView(agent=agent, text=text, at=datetime.now(UTC))
        self.records.flush()  # the call's record first
        written = await self.writer.write(note_write(call_id, note))
        call = self.calls.get(call_id)
        if call is not None:
            call.notes.append(note)
            self._push_update(call, also=agent)
        return Saved(pending=not written, note=note)

    async def set_disposition(self, call_id: str, agent: str, disposition: str) -> Saved:
        await self._check_agent(call_id, agent)
        self.records.flush()
        change = InteractionUpdate(call_id, {"disposition": disposition})
        written = await self.writer.write(calls_write([change]))
        call = self.calls.get(call_id)
        if call is not None:
            call.facts.disposition = disposition
        return Saved(pending=not written)

    async def select_citizen(self, call_id: str, agent: str, citizen_id: int) -> Card | None:
        """The agent says who is calling: one of a household, or someone found by search."""
        await self._check_agent(call_id, agent)
        await self._ask(lambda: self.directory.attach_citizen(call_id, citizen_id))
        call = self.calls.get(call_id)
        if call is None:
            return None
        if all(c.id != citizen_id for c in call.citizens):
            citizen = await asyncio.to_thread(self.directory.citizen, citizen_id)
            if citizen is None:
                raise ScreenPopError(f"aucun administré n'a l'identifiant {citizen_id}")
            call.citizens.append(await asyncio.to_thread(self._item_of, citizen, call_id))
        call.facts.selected_citizen_id = citizen_id
        return self._push_update(call, also=agent)
