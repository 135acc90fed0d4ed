"""What the web layer writes to the audit trail (logins, searches, citizens created).

It goes through the screen pop's writer like the cards opened: in order with the calls'
records, off the event loop, and held (memory and spool file) while the database refuses
writes, then written when it is back. A login whose entry could not be written is not a
login without a trace. The request waits until its entry is committed or spooled
(write-ahead): what was shown is on record before it is shown. The audit page reads after
what is on its way.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from screenpop.directory_writes import AuditRecord
from screenpop.pop import ScreenPop

T = TypeVar("T")


async def audit(
    pop: ScreenPop, username: str, action: str, citizen_id: int | None = None, detail: str = ""
) -> None:
    """One entry, dated now (a replay from the spool keeps that moment), in the database
    (or, the database away, in the spool) when this returns: the request answers after it,
    so no crash leaves a citizen shown without a trace. Entries of requests that come
    together are written together."""
    when = datetime.now(UTC)
    pop.records.audit(AuditRecord(username, action, citizen_id, detail, at=when))
    await pop.records.saved()


async def read_after_writes(pop: ScreenPop, work: Callable[[], T]) -> T:
    """Run the read ``work`` once every entry so far is written. Raises
    ``DatabaseUnavailable`` while the database is away."""
    pop.records.flush()
    return await pop.writer.call(work)
