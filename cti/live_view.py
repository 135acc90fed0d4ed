"""The live calls board: a pure fold of domain events into "what is happening now".

Pages that (re)connect get this snapshot first, then the events that follow, so they never
need to have seen a call arrive to show it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from cti.tracker import events as ev

_STAGE_BY_EVENT = {
    ev.CallArrived: "arrivé",
    ev.CallWaiting: "en attente",
    ev.CallOffered: "sonne",
    ev.CallAnswered: "en communication",
    ev.CallNoAnswer: "en attente",
    ev.CallTransferred: "transféré",
    ev.CallSafetyNet: "file de secours",
}


@dataclass(slots=True)
class LiveCall:
    call_id: str
    caller_number: str | None
    caller_withheld: bool
    arrived_at: float
    stage: str
    since: float
    service: str | None = None
    agent: str | None = None


class LiveView:
    """Live calls plus the last ``history`` domain events."""

    def __init__(self, history: int = 200) -> None:
        self.calls: dict[str, LiveCall] = {}
        # The events themselves: turned into dicts only when a page asks for the snapshot.
        self.recent: deque[ev.DomainEvent] = deque(maxlen=history)
        self.ended_today = 0

    def apply(self, event: ev.DomainEvent) -> None:
        self.recent.append(event)
        if isinstance(event, ev.CallEnded):
            self.calls.pop(event.call_id, None)
            self.ended_today += 1
            return
        call = self.calls.get(event.call_id)
        if call is None:
            call = LiveCall(
                event.call_id,
                event.caller_number,
                event.caller_withheld,
                event.at,
                "arrivé",
                event.at,
            )
            self.calls[event.call_id] = call
        # The number comes once the presentation is known, and goes for good if withheld.
        call.caller_withheld = event.caller_withheld
        if event.caller_withheld:
            call.caller_number = None
        elif event.caller_number is not None:
            call.caller_number = event.caller_number
        stage = _STAGE_BY_EVENT.get(type(event))
        if stage is not None and stage != call.stage:
            call.stage, call.since = stage, event.at
        service = getattr(event, "service", None)
        if service:
            call.service = service
        if isinstance(event, ev.CallOffered | ev.CallAnswered):
            call.agent = event.agent
        elif isinstance(event, ev.CallTransferred):
            call.agent = event.to_agent
        elif isinstance(event, ev.CallWaiting | ev.CallNoAnswer):
            call.agent = None

    def snapshot(self) -> dict[str, Any]:
        return {
            "calls": [asdict(c) for c in sorted(self.calls.values(), key=lambda c: c.arrived_at)],
            "recent": [event.to_dict() for event in self.recent],
            "ended": self.ended_today,
        }
