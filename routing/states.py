"""Agent states and the one table of allowed moves between them.

Theory of operation: like h11's state machine, every legal move is listed in ``TRANSITIONS``
and nowhere else. The engine decides *which* move an event causes; ``check_move`` only
refuses moves absent from the table, which would be an engine bug. Moves requested from the
agent's page while the agent is ringing or on a call are not moves yet: the engine keeps them
pending and applies them when the offer or the call ends.
"""

from __future__ import annotations

import enum

from routing.errors import IllegalTransition


class AgentState(enum.Enum):
    OFFLINE = "offline"
    READY = "ready"
    PAUSED = "paused"
    FRONT_DESK = "front_desk"  # « au guichet »: serving visitors at the desk
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"


S = AgentState

#: Every allowed move. Same-state updates (a new pause reason) are not moves.
TRANSITIONS: dict[AgentState, frozenset[AgentState]] = {
    S.OFFLINE: frozenset({S.READY, S.PAUSED, S.FRONT_DESK}),
    S.READY: frozenset({S.RINGING, S.PAUSED, S.FRONT_DESK, S.OFFLINE}),
    S.PAUSED: frozenset({S.READY, S.FRONT_DESK, S.OFFLINE}),
    S.FRONT_DESK: frozenset({S.READY, S.PAUSED, S.OFFLINE}),
    # Offer resolved: answered, failed/cancelled (back to READY, or the pending request, or
    # PAUSED after too many misses).
    S.RINGING: frozenset({S.ON_CALL, S.READY, S.PAUSED, S.FRONT_DESK, S.OFFLINE}),
    # Call ended: wrap-up, or straight to READY (no wrap-up) or to the pending request.
    S.ON_CALL: frozenset({S.WRAP_UP, S.READY, S.PAUSED, S.FRONT_DESK, S.OFFLINE}),
    S.WRAP_UP: frozenset({S.READY, S.PAUSED, S.FRONT_DESK, S.OFFLINE}),
}

#: States of an agent who will take calls again soon: counted on by both wait forecasts
#: (``routing.wait_forecast`` for the early floors, ``routing.caller_forecast`` for what
#: callers are told); paused, at the front desk or offline, nobody knows when she comes back.
#: A tuple: membership then tests identity first, where a set would call the enum's hash.
WORKING: tuple[AgentState, ...] = (S.READY, S.RINGING, S.ON_CALL, S.WRAP_UP)

#: States an agent (or the API acting for her) may ask for.
REQUESTABLE: frozenset[AgentState] = frozenset({S.READY, S.PAUSED, S.FRONT_DESK, S.OFFLINE})


# The same table as pairs of names: checked on every move, and a str pair hashes in C
# where an enum member's hash is a Python call.
_MOVES = frozenset((s.name, t.name) for s, targets in TRANSITIONS.items() for t in targets)
_READY = S.READY


def check_move(agent: str, source: AgentState, target: AgentState) -> None:
    if (source._name_, target._name_) not in _MOVES:
        raise IllegalTransition(agent, source.name, target.name)


def offerable(state: AgentState, phone_busy: bool) -> bool:
    """Whether the engine may ring this agent now: READY, and her phone not busy with a call
    it did not route. The engine's indexes and the decisions' explanations both ask this."""
    return state is _READY and not phone_busy
