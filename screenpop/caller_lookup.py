"""Who is calling: the caller's presentation settled, and the directory looked up for her.

``CallerIdSettled`` allowed: the number is normalised and the citizens looked up — the one
read the cards need — in a thread of their own, their part of the card built there once per
call. The call's next events are held (in order) until the lookup answers, so a card is
never built from half the facts. Withheld: the call is anonymous from then on, at once (even
while a lookup runs), its record's number erased, a card already on a page replaced.
Withheld is never undone. ``ScreenPop`` (``pop``) routes the events here.
"""

from __future__ import annotations

import asyncio
import logging

from cti.tracker import events as ev
from screenpop.directory_writes import forget_caller_write
from screenpop.messages import CitizenItem
from screenpop.phones import normalise
from screenpop.pop_state import WITHHELD, PopCall, PopState

log = logging.getLogger("screenpop.pop")  # the screen pop's log, as before the split


class CallerLookup(PopState):
    """The caller's presentation and the directory's answer on her number."""

    def _presented(self, call: PopCall, event: ev.CallerIdSettled) -> None:
        """The caller lets us show her number: who is she?"""
        facts = call.facts
        if facts.caller_withheld:
            return  # withheld is for good
        caller = normalise(event.caller_number)
        call.caller, facts.caller_raw = caller, event.caller_number
        self._record(
            facts.call_id,
            caller_raw=event.caller_number,
            caller_e164=caller.e164,
            caller_withheld=False,
        )
        if caller.e164 is not None:
            call.held = []
            task = asyncio.create_task(self._look_up(call, caller.e164), name="pop-lookup")
            self._lookups.add(task)
            self._lookups_done.clear()
            task.add_done_callback(self._lookup_finished)

    def _withhold(self, call: PopCall) -> None:
        """The caller withholds her number: the call is anonymous from now on."""
        facts = call.facts
        if facts.caller_withheld and call.caller is WITHHELD:
            return
        was_shown = call.caller is not WITHHELD
        facts.caller_withheld, facts.caller_raw, call.caller = True, None, WITHHELD
        # Only a citizen the agent picked herself (the caller said who she is) stays.
        picked = facts.selected_citizen_id
        call.citizens = [c for c in call.citizens if c.id == picked]
        self._record(facts.call_id, caller_withheld=True)
        if was_shown:  # its record may hold the number already: erase it, in order
            self.records.flush()
            self.writer.submit(forget_caller_write(facts.call_id, keep_citizen=picked is not None))
        if facts.agent is not None:
            self._push_update(call)

    async def _look_up(self, call: PopCall, e164: str) -> None:
        try:
            citizens = await asyncio.to_thread(self._load_citizens, e164, call.facts.call_id)
        except Exception:  # the card says "Bonjour" rather than not popping at all
            self.errors += 1
            log.exception("screen pop: directory lookup of %s failed", e164)
            citizens = []
        if not call.facts.caller_withheld:  # withheld while the lookup ran: forget it
            call.citizens = citizens
            if len(citizens) == 1:
                self._record(call.facts.call_id, citizen_id=citizens[0].id)
        held, call.held = call.held or [], None
        for event in held:
            self.on_event(event)

    def _lookup_finished(self, task: asyncio.Task[None]) -> None:
        self._lookups.discard(task)
        if not self._lookups:
            self._lookups_done.set()

    def _load_citizens(self, e164: str, call_id: str) -> list[CitizenItem]:
        """The caller's citizens as the card shows them: built here, in the lookup's thread,
        once per call rather than on the event loop at every card message."""
        return [self._item_of(c, call_id) for c in self.directory.citizens_by_number(e164)]
