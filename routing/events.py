"""What the shell tells the engine: facts that already happened, named in the past tense.

Theory of operation: each event is a frozen dataclass carrying ``at``, the time in seconds
(any monotonic origin; never earlier than the previous event's). The engine never reads a
clock: ``Tick`` is how the shell says that time passed, at the instants given by
``RoutingEngine.next_deadline()``; any other event also brings the engine up to its ``at``.
"""

from __future__ import annotations

from dataclasses import dataclass

from routing.states import AgentState


@dataclass(frozen=True, slots=True)
class CallQueued:
    """A call starts waiting for ``service`` (first time, or again after a transfer).

    ``case_owner`` is the extension of the agent in charge of the caller's open case; an
    owner unknown to the configuration is ignored. ``since`` is when the caller started
    waiting, if earlier than ``at`` (a call found waiting after a restart keeps its place,
    its relaxation steps and its max wait); it defaults to ``at``.

    ``place``: the instant her place in line counts from, if earlier than ``since``. A caller
    transferred to another service, or back to waiting after a colleague did not answer,
    already waited once: she is served before the callers who came after her first entry in
    the wait, while her max wait and relaxation steps count from ``since`` (the new wait;
    her conversation with the first agent was no wait). Defaults to ``since``.

    ``keeps_place``: a caller who must never overflow, whatever the wait (a callback request,
    ``routing.callbacks``: her place was promised); she waits until an agent takes her or
    the shell withdraws her (``CallLeft``).
    """

    call_id: str
    service: str
    at: float
    priority: int = 0
    language: str | None = None
    case_owner: str | None = None
    since: float | None = None
    keeps_place: bool = False
    place: float | None = None


@dataclass(frozen=True, slots=True)
class CallLeft:
    """The call stopped waiting (hung up, taken by Asterisk's safety net, ended).

    If it was ringing an agent, the offer is cancelled and the agent is free again (not a
    miss). A call the engine no longer knows is ignored.
    """

    call_id: str
    at: float


@dataclass(frozen=True, slots=True)
class OfferAnswered:
    call_id: str
    agent: str
    at: float


@dataclass(frozen=True, slots=True)
class OfferFailed:
    """No answer, busy, rejected: the call returns to its place in the queue.

    ``missed`` is False when the offer never reached the agent's phone (the AMI link was
    down, Asterisk refused the action): that is not the agent's miss."""

    call_id: str
    agent: str
    reason: str
    at: float
    missed: bool = True


@dataclass(frozen=True, slots=True)
class AgentFinished:
    """The agent's call ended or was transferred away."""

    agent: str
    at: float


@dataclass(frozen=True, slots=True)
class AgentStateSet:
    """The agent (or the API) asks for READY, PAUSED (with a reason), FRONT_DESK or OFFLINE."""

    agent: str
    state: AgentState
    at: float
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class AgentPhoneBusy:
    """The agent's phone is (no longer) busy with a call we did not route."""

    agent: str
    busy: bool
    at: float


@dataclass(frozen=True, slots=True)
class Tick:
    at: float


Event = (
    CallQueued
    | CallLeft
    | OfferAnswered
    | OfferFailed
    | AgentFinished
    | AgentStateSet
    | AgentPhoneBusy
    | Tick
)
