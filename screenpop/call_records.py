"""The screen pop's call records: changes merged per call in memory, written in bulk.

A call's record changes six to eight times in its life (arrival, who called, the service,
each offer, the answer, the end). Written one by one, each change cost a transaction and a
slice of Python in the writer's thread, and the event loop waited for that thread (the GIL)
before it could send the next card. Here the changes of every call are merged and handed to
the writer as one batch ``FLUSH_AFTER`` later, or at once when something else must be
written after them (``flush``): the order of writes is the order of events. The audit trail
of opened cards can wait as well: its entries ride with the batch, in one statement.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Sequence
from typing import Any

from screenpop.directory import AuditRecord, InteractionUpdate
from screenpop.writer import OrderedWriter

log = logging.getLogger(__name__)

# Seconds a change may wait in memory: the reports and the wallboard's refill read the
# records, a second late is invisible to them; fewer, larger batches keep the writer's
# thread (and the GIL) away from the event loop most of the time.
FLUSH_AFTER = 1.0

Save = Callable[[Sequence[InteractionUpdate]], None]
SaveAudits = Callable[[Sequence[AuditRecord]], None]


class RecordsNotSaved(Exception):
    """Some calls' records could not be written (the others were)."""

    def __init__(self, call_ids: list[str]) -> None:
        super().__init__(f"fiches d'appel non enregistrées : {', '.join(call_ids)}")
        self.call_ids = call_ids


class CallRecords:
    def __init__(
        self,
        writer: OrderedWriter,
        save: Save,
        save_audits: SaveAudits,
        flush_after: float = FLUSH_AFTER,
    ) -> None:
        self._writer = writer
        self._save = save
        self._save_audits = save_audits
        self.flush_after = flush_after
        self._pending: dict[str, InteractionUpdate] = {}
        self._audits: list[AuditRecord] = []
        self._timer: asyncio.TimerHandle | None = None

    @property
    def pending(self) -> int:
        """Calls' changes and audit entries not handed to the writer yet."""
        return len(self._pending) + len(self._audits)

    def update(self, call_id: str, add_agent: str | None = None, **fields: Any) -> None:
        change = self._pending.get(call_id) or InteractionUpdate(call_id)
        change.add(add_agent, **fields)  # raises on an unknown field: nothing kept
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

    def flush(self) -> None:
        """Hand every pending change to the writer now, as one write."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pending:
            batch = list(self._pending.values())
            self._pending = {}
            self._writer.submit(functools.partial(self._write, batch))
        if self._audits:
            audits, self._audits = self._audits, []
            # The same trip to the writer's thread as the batch.
            self._writer.submit(functools.partial(self._save_audits, audits))

    def _write(self, batch: list[InteractionUpdate]) -> None:
        try:
            self._save(batch)
        except Exception:
            if len(batch) == 1:
                raise
            # One bad record (a citizen deleted meanwhile...) must not lose the others.
            log.warning("écriture groupée de %d fiches d'appel refusée : une par une", len(batch))
            failed = []
            for change in batch:
                try:
                    self._save([change])
                except Exception:
                    log.exception("fiche de l'appel %s non enregistrée", change.call_id)
                    failed.append(change.call_id)
            if failed:
                raise RecordsNotSaved(failed) from None
