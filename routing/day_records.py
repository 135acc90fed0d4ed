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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from routing.day_announcements import AnnouncementRecord


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
class CallbackRecord:
    """A callback request at the day's end (``routing.day_callbacks``).

    ``state`` is the domain's (``reached``, ``failed``, or still ``pending``/``offered``/
    ``dialling``); ``reached_at`` when the citizen answered the call that reached her.
    """

    request_id: str
    leg_id: str  # the abandoned leg she asked from
    service: str
    asked_at: float
    state: str
    attempts: int
    reached_at: float | None = None
    # Each agent who took it: (agent, offered at, call ended at; None: still on it).
    calls: tuple[tuple[str, float, float | None], ...] = ()

    @property
    def delay(self) -> float | None:
        """From the request to the call that reached her (None if not reached)."""
        return None if self.reached_at is None else self.reached_at - self.asked_at


@dataclass(frozen=True, slots=True)
class DayRecord:
    router: str
    legs: tuple[LegRecord, ...]  # in the order they ended
    agents: Mapping[str, AgentTime]
    end: float  # simulated time of the last event
    callbacks: tuple[CallbackRecord, ...] = ()  # None asked when callbacks are off
    # What waiting callers were told (our engine only), ``routing.day_announcements``.
    announcements: tuple[AnnouncementRecord, ...] = ()
