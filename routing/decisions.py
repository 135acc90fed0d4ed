"""What the engine asks of the shell (imperative) and tells the wallboard (notifications).

Theory of operation: ``handle`` returns these in the order they were taken. ``Offer``,
``Overflow`` and ``PauseAgent`` are orders the shell must carry out (ring the agent, move the
call, pause the queue member); ``AgentStateChanged`` and ``SupervisorAlert`` are for the
wallboard and the supervisors. User-facing text (reasons, messages) is in French.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from routing.model import OverflowKind
from routing.states import AgentState

NO_ANSWER_REASON = "absence de réponse"


class OverflowReason(enum.Enum):
    MAX_WAIT = "max_wait"
    NO_AGENT = "no_agent"


class AlertKind(enum.Enum):
    MISSED_OFFERS = "missed_offers"  # an agent was paused for not answering
    NO_AGENT = "no_agent"  # nobody logged in can ever serve a service


@dataclass(frozen=True, slots=True)
class Offer:
    """Ring ``agent`` with ``call_id``."""

    call_id: str
    agent: str
    service: str
    at: float


@dataclass(frozen=True, slots=True)
class Overflow:
    """Send the call to its service's overflow target; the engine forgets it."""

    call_id: str
    service: str
    target_kind: OverflowKind
    target: str | None
    reason: OverflowReason
    at: float


@dataclass(frozen=True, slots=True)
class PauseAgent:
    """Pause the agent's queue membership (too many missed offers)."""

    agent: str
    reason: str
    at: float


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    agent: str
    state: AgentState
    reason: str | None
    at: float


@dataclass(frozen=True, slots=True)
class SupervisorAlert:
    kind: AlertKind
    agent: str | None
    service: str | None
    message: str
    at: float


Decision = Offer | Overflow | PauseAgent | AgentStateChanged | SupervisorAlert
