"""A call starts waiting: ring its case owner, hold it for her, offer it, or queue it.

Theory of operation: the rules are in ``routing.engine``'s docstring (case owner first, a
call nobody logged in can take overflows at once, floors applied early for a call forecast
to miss its threshold, ``routing.wait_forecast``). This is the arriving call's hot path
(``bench.routing_bench`` (a)): the record is built once, already ringing if an agent is
found, and the lookup of the best fully qualified agent serves both the forecast and, for a
call at level 0 with no language, the offer itself.
"""

from __future__ import annotations

from routing.deadlines import DeadlineKind
from routing.decisions import (
    Decision,
    OverflowReason,
)
from routing.engine_state import EngineState
from routing.events import (
    CallQueued,
)
from routing.offers import overflow, ring, ring_also
from routing.records import CallRecord, CallStatus
from routing.requirements import level_in_force
from routing.states import AgentState

S = AgentState


def on_call_queued(st: EngineState, event: CallQueued, out: list[Decision]) -> None:
    at, service, owner = event.at, event.service, event.case_owner
    since = at if event.since is None else min(event.since, at)
    place = None if event.place is None or event.place >= since else event.place
    st.generation += 1
    spec = st.services[service]
    owner_rec = st.agents.get(owner) if owner is not None else None
    if owner_rec is None:
        owner = None
    if owner is not None and owner_rec is not None and owner_rec.offerable:
        ring(st, _new_call(st, event, since, place, owner, 0, 0, owner), at, out)
    elif st.online_capable[service] == 0 and not event.keeps_place:
        overflow(
            st, _new_call(st, event, since, place, owner, 0, 0), OverflowReason.NO_AGENT, at, out
        )
    elif (
        owner is not None
        and owner_rec is not None
        and owner_rec.state is S.WRAP_UP
        and spec.case_owner_first_s > 0
    ):
        call = _new_call(st, event, since, place, owner, 0, 0)
        st.calls[call.call_id] = call._replace(status=CallStatus.RESERVED, agent=owner)
        st.reserved.setdefault(owner, []).append(call.call_id)
        gen = call.generation
        st.deadlines.push(
            at + spec.case_owner_first_s, DeadlineKind.RESERVATION_END, call.call_id, gen
        )
        st.deadlines.push(since + spec.max_wait_s, DeadlineKind.MAX_WAIT, call.call_id, gen)
    else:
        # One lookup of the best fully qualified agent serves both the forecast (is one
        # free?) and, for a call at level 0 with no language, the offer itself.
        ready = st.ready
        floors = st.early_levels[service]
        fully: str | None = None
        looked = floors > 0 and not event.keeps_place
        early = 0
        if looked:
            fully = ready.best(service, 0, None, None)
            if fully is None and _forecast_miss(st, service, since, at):
                early = floors
        level = level_in_force(spec, since, at, early)
        if looked and level == 0 and event.language is None:
            agent = fully
        else:
            agent = ready.best(service, level, event.language, None)
        call = _new_call(st, event, since, place, owner, level, early, agent)
        if agent is not None:
            ring(st, call, at, out)
            ring_also(st, call.call_id, at, out)
        elif since + spec.max_wait_s <= at and not call.keeps_place:
            overflow(st, call, OverflowReason.MAX_WAIT, at, out)
        else:
            st.enqueue(call, at)


def _new_call(
    st: EngineState,
    event: CallQueued,
    since: float,
    place: float | None,
    owner: str | None,
    level: int,
    early: int,
    agent: str | None = None,
) -> CallRecord:
    """The record of a call just queued, stored (not yet in any queue), ringing ``agent``
    if given (built once in that state: the arriving call's hot path)."""
    call = CallRecord(
        event.call_id,
        event.service,
        event.priority,
        since,
        event.language,
        owner,
        st.generation,
        CallStatus.ARRIVING if agent is None else CallStatus.RINGING,
        level,
        agent,
        keeps_place=event.keeps_place,
        early_level=early,
        place=place,
    )
    st.calls[call.call_id] = call
    return call


def _forecast_miss(st: EngineState, service: str, since: float, at: float) -> bool:
    """Whether a call of ``service`` waiting since ``since``, for which no fully qualified
    agent is free, is forecast to miss its threshold."""
    wait = st.forecast.wait(service, st.queues.count(service))
    return wait is not None and at - since + wait > st.services[service].sl_threshold_s
