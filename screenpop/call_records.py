"""The screen pop's call records: changes merged per call in memory, written in bulk.

A call's record changes six to eight times in its life (arrival, who called, the service,
each offer, the answer, the end). Written one by one, each change cost a transaction and a
slice of Python in the writer's thread, and the event loop waited for that thread (the GIL)
before it could send the next card. Here the changes of every call are merged and handed to
the writer as one write (``directory_writes.calls_write``) ``FLUSH_AFTER`` later, or at once
when something else must be written after them (``flush``): the order of writes is the order
of events. The audit trail of opened cards can wait as well: its entries ride with the
batch, in one statement. While the database is away the writer holds them (memory and spool)
and writes them, in order, when it is back.

What waits here is what nobody was told is saved (a ring, an answer, a hang-up, a card
popped): a process killed outright (SIGKILL, a crash) loses what was not committed yet, at
most ``FLUSH_AFTER`` of it plus the writer's batch in progress. What a user *is* told is
saved (a note, a disposition, « Terminé », a state she chose, the audit of what she did)
waits for ``saved`` before the answer leaves: everything pending goes with it, in order.
"""

from __future__ import annotations

import asyncio

from screenpop.directory_writes import (
    AuditRecord,
    InteractionUpdate,
    RecordsNotSaved,
    audits_write,
    calls_write,
)
from screenpop.writer import OrderedWriter

# Seconds a change may wait in memory: the reports and the wallboard's refill read the
# records, a second late is invisible to them; fewer, larger batches keep the writer's
# thread (and the GIL) away from the event loop most of the time.
FLUSH_AFTER = 1.0

__all__ = ["FLUSH_AFTER", "CallRecords", "RecordsNotSaved"]


class CallRecords:
    def __init__(self, writer: OrderedWriter, flush_after: float = FLUSH_AFTER) -> None:
        self._writer = writer
        self.flush_after = flush_after
        self._pending: dict[str, InteractionUpdate] = {}
        self._audits: list[AuditRecord] = []
        self._timer: asyncio.TimerHandle | None = None

    @property
    def pending(self) -> int:
        """Calls' changes and audit entries not handed to the writer yet."""
        return len(self._pending) + len(self._audits)

    def update(
        self,
        call_id: str,
        add_agent: str | None = None,
        *,
        answered_by: str | None = None,
        **fields: object,
    ) -> None:
        change = self._pending.get(call_id) or InteractionUpdate(call_id)
        # raises on an unknown field: nothing kept
        change.add(add_agent, answered_by=answered_by, **fields)
        self._pending[call_id] = change
        self._arm()

    def audit(self, entry: AuditRecord) -> None:
        """An audit entry (an opened card) need not be written at once: it goes to the
        writer with the next batch, all of them in one statement."""
        self._audits.append(entry)
        self._arm()

    def _arm(self) -> None:
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.flush_after, self.flush)

    async def saved(self) -> bool:
        """Hand everything pending to the writer now and wait until it (and every write
        before it) is in the database (True) or held in the spool (False): a request that
        tells a user her work is saved answers after this, so a crash cannot take it back."""
        self.flush()
        return await self._writer.settled()

    def flush(self) -> None:
        """Hand every pending change to the writer now, as one write."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pending:
            batch = list(self._pending.values())
            self._pending = {}
            self._writer.submit(calls_write(batch))
        if self._audits:
            audits, self._audits = self._audits, []
            # The same trip to the writer's thread as the batch.
            self._writer.submit(audits_write(audits))
