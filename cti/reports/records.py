"""One call as the reports see it: the few facts of its record they need.

Pure data: ``query`` builds these from the database, tests build them by hand. Times are
timezone-aware (UTC from the database); days and hours are read in Europe/Paris.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

#: Outcomes of a call that reached a service queue: the "offered" calls.
QUEUE_OUTCOMES = frozenset({"answered", "abandoned", "overflow", "safety_net"})


@dataclass(frozen=True, slots=True)
class CallRecord:
    call_id: str
    started_at: datetime
    outcome: str
    service: str | None = None
    # Of the agents the call was offered to, in order: the last one and how many there were.
    last_agent: str | None = None
    agents_reached: int = 0
    # Who answered it, in order: several when it was transferred (empty in records older
    # than the column, where only the last agent is known).
    answered_by: tuple[str, ...] = ()
    wait_seconds: float | None = None
    talk_seconds: float | None = None
    caller_e164: str | None = None
    citizen_id: int | None = None
    # The last node of the call's voice-menu path: the choice that decided where it went.
    last_menu_node: str | None = None
    disposition: str | None = None
    # The voice menu served the caller by itself (see the package docstring for the source).
    self_served: bool = False

    @property
    def citizen_key(self) -> str | None:
        """Who called, for repeat calls: the identified citizen, else the number."""
        if self.citizen_id is not None:
            return f"citoyen:{self.citizen_id}"
        if self.caller_e164:
            return f"numero:{self.caller_e164}"
        return None
