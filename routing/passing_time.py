"""What the mere passing of time does: max waits, ends of wrap-up and of holds, relaxation.

Theory of operation: ``advance`` processes every deadline due by the event's time, one
instant at a time and in the order ``routing.deadlines`` gives (kind, then subject); moot
entries are skipped. A call still queued at half its service-level threshold has its
proficiency floors from then on (``routing.requirements.floors_due_at``). At each instant
the agents freed first pick a call, then the calls that changed (released from a hold,
relaxed a level, given their floors) look for an agent, best call first.
"""

from __future__ import annotations

from routing.deadlines import Deadline, DeadlineKind
from routing.decisions import (
    Decision,
    OverflowReason,
)
from routing.engine_state import EngineState
from routing.offers import commit, dispatch_agent, dispatch_call, overflow
from routing.records import CallRecord, CallStatus
from routing.states import AgentState

S = AgentState


def advance(st: EngineState, at: float, out: list[Decision]) -> None:
    """Process every deadline due by ``at``, one instant at a time."""
    deadlines = st.deadlines
    while (instant := deadlines.peek()) is not None and instant <= at:
        due: list[Deadline] = []
        while (entry := deadlines.pop_due(instant)) is not None:
            due.append(entry)
        freed: list[str] = []
        moved: list[CallRecord] = []
        for entry in due:  # already sorted by kind, then subject
            if not st.is_live(entry):
                continue
            _, kind, subject, _ = entry
            if kind is DeadlineKind.MAX_WAIT:
                overflow(st, st.calls[subject], OverflowReason.MAX_WAIT, at, out)
            elif kind is DeadlineKind.WRAP_UP_END:
                rec = st.agents[subject]
                ready = rec._replace(
                    state=S.READY, idle_since=instant, wrap_until=None, service=None
                )
                commit(st, subject, ready, at, out)
                freed.append(subject)
            elif kind is DeadlineKind.RESERVATION_END:
                call = st.calls[subject]
                st.unreserve(call)
                moved.append(st.enqueue(call, instant))
            elif kind is DeadlineKind.FLOORS_DUE:
                moved.append(st.grant_floors(st.calls[subject], instant))
            else:  # RELAXATION
                moved.append(st.relax(st.calls[subject], instant))
        # Agents freed at this instant pick first, then calls that changed, best first.
        for agent in freed:
            dispatch_agent(st, agent, at, out)
        moved.sort(key=lambda c: (-st.services[c.service].priority, c.key))
        for call in moved:
            current = st.calls.get(call.call_id)
            if current is not None and current.status is CallStatus.QUEUED:
                dispatch_call(st, current, at, out)
    st.now = at
