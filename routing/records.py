"""The engine's internal records of agents and calls.

Theory of operation: immutable records replaced wholesale on every change (``_replace``), so
a record read by a view can never change under the reader. They are named tuples rather than
frozen dataclasses because a record is built on every offer, and a frozen dataclass's
``__init__`` pays one ``object.__setattr__`` call per field (about a microsecond for a call's
record on Python 3.11, a tenth of an arriving call's whole decision). ``generation`` tells
apart two lives of the same call id (a call answered, then transferred back to a queue) so
that stale deadlines of the first life are recognised and dropped.
"""

from __future__ import annotations

import enum
from typing import NamedTuple

from routing.states import AgentState, offerable


class CallStatus(enum.Enum):
    ARRIVING = "arriving"  # only while its CallQueued is being handled
    QUEUED = "queued"  # in its service's queue, open to every qualifying agent
    RESERVED = "reserved"  # held for its case owner, who is in wrap-up
    RINGING = "ringing"  # offered to one agent, or a few at once (the first to answer takes it)


class AgentRecord(NamedTuple):
    state: AgentState = AgentState.OFFLINE
    reason: str | None = None
    idle_since: float = 0.0
    missed: int = 0
    phone_busy: bool = False
    call_id: str | None = None  # the offer (RINGING) or the call (ON_CALL)
    service: str | None = None  # service of that offer/call, or of the wrap-up
    wrap_until: float | None = None
    pending: tuple[AgentState, str | None] | None = None  # asked for while ringing/on call

    @property
    def offerable(self) -> bool:
        return offerable(self.state, self.phone_busy)

    def ringing(self, call_id: str, service: str) -> AgentRecord:
        """This agent, offered ``call_id`` (the hot path: cheaper than ``_replace``)."""
        return AgentRecord(
            AgentState.RINGING,
            self.reason,
            self.idle_since,
            self.missed,
            self.phone_busy,
            call_id,
            service,
            self.wrap_until,
            self.pending,
        )


class CallRecord(NamedTuple):
    call_id: str
    service: str
    priority: int
    since: float
    language: str | None
    case_owner: str | None
    generation: int
    status: CallStatus = CallStatus.ARRIVING
    level: int = 0  # relaxation level, meaningful while QUEUED
    agent: str | None = None  # the agent it rings (RINGING) or is held for (RESERVED)
    also: tuple[str, ...] = ()  # the other agents it rings at the same time (RINGING)
    keeps_place: bool = False  # never overflows (a callback request)
    early_level: int = 0  # floors applied from the start: forecast to miss its threshold
    # Her place in line: ``since`` unless she waited before (a transferred caller keeps the
    # place of her first wait, while her max wait and relaxation count from ``since``).
    place: float | None = None

    def ringing(self, agent: str) -> CallRecord:
        """This call, offered to ``agent`` (the hot path: cheaper than ``_replace``)."""
        return CallRecord(
            self.call_id,
            self.service,
            self.priority,
            self.since,
            self.language,
            self.case_owner,
            self.generation,
            CallStatus.RINGING,
            self.level,
            agent,
            (),
            self.keeps_place,
            self.early_level,
            self.place,
        )

    @property
    def rung(self) -> tuple[str, ...]:
        """Every agent this call rings (none unless RINGING)."""
        if self.status is not CallStatus.RINGING or self.agent is None:
            return ()
        return (self.agent, *self.also)

    @property
    def key(self) -> tuple[int, float, str]:
        return (-self.priority, self.since if self.place is None else self.place, self.call_id)
