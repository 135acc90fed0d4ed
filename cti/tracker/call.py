"""A call as the tracker sees it: its stages and their legal moves, its legs, what it knows.

``TRANSITIONS`` is the one table of a call's legal moves (the drawing is in ``tracker``'s
docstring); a move it does not list is Asterisk speaking out of order, and is ignored.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Stage(enum.Enum):
    IVR = "ivr"
    WAITING = "waiting"
    RINGING = "ringing"
    CONNECTED = "connected"
    TRANSFERRING = "transferring"
    ENDED = "ended"


TRANSITIONS: dict[Stage, frozenset[Stage]] = {
    Stage.IVR: frozenset({Stage.WAITING, Stage.RINGING, Stage.ENDED}),
    Stage.WAITING: frozenset({Stage.WAITING, Stage.RINGING, Stage.CONNECTED, Stage.ENDED}),
    Stage.RINGING: frozenset(
        {Stage.RINGING, Stage.WAITING, Stage.CONNECTED, Stage.TRANSFERRING, Stage.ENDED}
    ),
    Stage.CONNECTED: frozenset(
        {Stage.CONNECTED, Stage.TRANSFERRING, Stage.WAITING, Stage.RINGING, Stage.ENDED}
    ),
    Stage.TRANSFERRING: frozenset(
        {Stage.RINGING, Stage.WAITING, Stage.CONNECTED, Stage.TRANSFERRING, Stage.ENDED}
    ),
    Stage.ENDED: frozenset(),
}


class Role(enum.Enum):
    CALLER = "caller"
    AGENT = "agent"
    OTHER = "other"


@dataclass(slots=True)
class Leg:
    call_id: str
    role: Role
    agent: str | None = None


@dataclass(slots=True)
class Call:
    call_id: str
    arrived_at: float
    stage: Stage = Stage.IVR
    announced: bool = False
    caller_number: str | None = None
    caller_name: str | None = None
    number_withheld: bool = False
    pres_withheld: bool = False  # only ever set: withheld is for good
    presentation_known: bool = False
    did: str | None = None
    service: str | None = None
    ivr_path: str | None = None  # the menu's path, known here only for a restored call
    priority: int = 0
    dialplan_leg: str | None = None
    dialplan_channel: str | None = None  # its current name: what the router redirects
    dialplan_context: str = ""
    dialplan_first_down: bool = False
    caller_locals: set[str] = field(default_factory=set)
    offers: dict[str, str] = field(default_factory=dict)  # agent leg uniqueid -> agent
    offer_channels: dict[str, str] = field(default_factory=dict)  # agent leg uniqueid -> name
    # The agent whose ringing Asterisk cancelled last: with PJSIP the caller's hang-up cancels
    # the agent's dial (DialEnd CANCEL) before the caller's own Hangup reaches us.
    cancelled_offer: str | None = None
    agent: str | None = None
    agent_leg: str | None = None
    agent_channel: str | None = None  # the answering agent's leg: what a transfer moves
    agent_hung_up: bool = False
    shutting_down: bool = False
    overflowed: bool = False
    first_wait_at: float | None = None  # her first entry in cti-wait: her place in line
    # When she started waiting for her current service: the first entry in cti-wait, or her
    # entry after a blind transfer to a service; no-answers keep it. Her max wait, her
    # callback offer and the wait her next agent reads count from here.
    service_wait_at: float | None = None
    waiting_since: float | None = None
    answered_at: float | None = None
    channels: set[str] = field(default_factory=set)
    # A callback placed by the product (the agent's phone first, then the citizen's): its
    # request's id; the citizen's leg is the caller leg once she is dialled.
    callback_id: str | None = None

    @property
    def withheld(self) -> bool:
        return self.number_withheld or self.pres_withheld
