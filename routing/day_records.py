"""What a replayed day leaves behind: one record per queue visit and per agent.

Theory of operation: a caller may visit several queues: her first leg, then a *transfer*
leg (queued after the talk, id ``<call>-t``) and *overflow* legs (when a leg overflows to
another service, the caller is queued there at once, id ``<leg>><service>``). Every leg
ends exactly once: answered, abandoned (the caller's patience ran out) or overflowed. Its
wait is from queueing to that end, ringing included.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass


class Outcome(enum.Enum):
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    OVERFLOWED = "overflowed"


@dataclass(frozen=True, slots=True)
class LegRecord:
    leg_id: str
    call_id: str  # the caller's id (first leg's id)
    service: str
    queued_at: float
    ended_at: float  # answered, abandoned or overflowed at
    outcome: Outcome
    agent: str | None = None  # who answered
    talk_end: float | None = None
    offers: int = 0  # phones rung for this leg

    @property
    def wait(self) -> float:
        return self.ended_at - self.queued_at


@dataclass(frozen=True, slots=True)
class AgentTime:
    """Seconds an agent spent in each accounted state, as the router reported them."""

    agent: str
    logged_in_s: float  # every state but OFFLINE
    talk_s: float  # ON_CALL
    wrap_up_s: float  # WRAP_UP
    answered: int


@dataclass(frozen=True, slots=True)
class DayRecord:
    router: str
    legs: tuple[LegRecord, ...]  # in the order they ended
    agents: Mapping[str, AgentTime]
    end: float  # simulated time of the last event
