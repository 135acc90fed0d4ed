"""A callback request and the one table of its allowed moves.

Theory of operation: a request is a frozen dataclass replaced on every move (``move``
refuses a move absent from ``TRANSITIONS``). Its life:

* ``PENDING``: waiting for its turn; routed as a caller who entered at ``asked_at`` once it is
  due (``rules.is_due``: inside its window, the service open, past ``not_before``);
* ``OFFERED``: shown to one agent (Accepter / Reporter); declined or unanswered, it is
  ``PENDING`` again, in the same place;
* ``DIALLING``: committed to the database *before* the AMI Originate, with the attempt's
  ``action_id``: a product restarted mid-attempt finds it dialling and never dials again;
* ``REACHED``, ``FAILED`` (every attempt used, or the number does not work), ``CANCELLED``
  (the citizen called again and was served, or staff cancelled it), ``EXPIRED`` (too old):
  final.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from routing.callbacks.errors import IllegalCallbackMove


class CallbackState(enum.Enum):
    PENDING = "pending"
    OFFERED = "offered"
    DIALLING = "dialling"
    REACHED = "reached"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Window(enum.Enum):
    """When the citizen asked to be called back (what the menu and the agent offer)."""

    MORNING = "ce_matin"
    AFTERNOON = "cet_apres_midi"
    REOPENING = "a_la_reouverture"


class Source(enum.Enum):
    MENU = "menu"  # the voice menu's callback node
    OVERFLOW = "overflow"  # a wait past the service's maximum, overflow kind ``callback``
    AGENT = "agent"  # an agent's « à rappeler »
    WAIT = "wait"  # « tapez 1 pour être rappelé » while waiting (cti-wait)


WINDOW_LABELS = {
    Window.MORNING: "ce matin",
    Window.AFTERNOON: "cet après-midi",
    Window.REOPENING: "à la réouverture",
}

SOURCE_LABELS = {
    Source.MENU: "menu vocal",
    Source.OVERFLOW: "attente trop longue",
    Source.AGENT: "à rappeler",
    Source.WAIT: "touche 1 pendant l'attente",
}

STATE_LABELS = {
    CallbackState.PENDING: "en attente",
    CallbackState.OFFERED: "proposé à un agent",
    CallbackState.DIALLING: "appel en cours",
    CallbackState.REACHED: "rappelé",
    CallbackState.FAILED: "échec",
    CallbackState.CANCELLED: "annulé",
    CallbackState.EXPIRED: "expiré",
}

S = CallbackState
FINAL = frozenset({S.REACHED, S.FAILED, S.CANCELLED, S.EXPIRED})

#: Every allowed move.
TRANSITIONS: dict[CallbackState, frozenset[CallbackState]] = {
    S.PENDING: frozenset({S.OFFERED, S.CANCELLED, S.EXPIRED, S.FAILED}),
    S.OFFERED: frozenset({S.PENDING, S.DIALLING, S.CANCELLED, S.EXPIRED}),
    # An attempt ends reached, back in line for a retry, or failed; a restart that finds an
    # attempt it cannot follow any more closes it too (FAILED or back to PENDING).
    S.DIALLING: frozenset({S.REACHED, S.PENDING, S.FAILED}),
    S.REACHED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
    S.EXPIRED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class CallbackRequest:
    """One citizen's request to be called back.

    ``number`` is E.164 (``+33612345678``), or None when the caller could not give one (the
    request is then recorded, for the record, as ``FAILED``). ``asked_at`` is her place in
    line. ``window_start``/``window_end``: when she asked to be called (``window_end`` None:
    until the service closes). ``not_before``: the next attempt's earliest time.
    """

    id: str
    number: str | None
    service: str
    asked_at: datetime
    window: Window
    window_start: datetime
    window_end: datetime | None
    source: Source
    menu_path: tuple[str, ...] = ()
    citizen_id: int | None = None
    citizen_name: str | None = None
    note: str = ""
    requested_by: str | None = None  # the agent (username) who asked, for « à rappeler »
    call_id: str | None = None  # the call she asked from, when she asked from one
    state: CallbackState = S.PENDING
    attempts: int = 0
    not_before: datetime | None = None
    agent: str | None = None  # the agent it is offered to, or who dials it
    action_id: str | None = None  # the current attempt's AMI ActionID
    outcome: str | None = None  # last attempt's result, in the dialplan's words (NOANSWER...)
    updated_at: datetime | None = None

    @property
    def final(self) -> bool:
        return self.state in FINAL


def move(
    request: CallbackRequest, target: CallbackState, at: datetime, **changes: object
) -> CallbackRequest:
    """``request`` in state ``target`` (with ``changes``); raises ``IllegalCallbackMove``."""
    if target not in TRANSITIONS[request.state]:
        raise IllegalCallbackMove(request.id, request.state.value, target.value)
    return replace(request, state=target, updated_at=at, **changes)  # type: ignore[arg-type]
