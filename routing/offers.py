"""Who rings for what: offering a call to an agent, and keeping every index in step.

Theory of operation: the engine's invariant (no queued call has a free agent who qualifies for
it) is kept by two lookups run only for what just changed: ``dispatch_call`` for a call that
starts or resumes waiting or reaches a new level (the best ready agent, ``routing.pools``),
``dispatch_agent`` for an agent who becomes ready (the best call for her, her own work first,
``routing.agent_rank``). ``commit`` is the one way an agent's record changes: it checks the
move against ``routing.states``, keeps the ready index, the forecast's working count and the
logged-in counts in step, and carries out what the move implies (nobody left for a service:
its calls overflow; a case owner leaving wrap-up: the calls held for her are queued for all).
These functions call one another (a commit may release a held call, which rings an agent,
which is a commit), hence one module.
"""

from __future__ import annotations

from routing.decisions import (
    AgentStateChanged,
    AlertKind,
    Decision,
    Offer,
    Overflow,
    OverflowReason,
    SupervisorAlert,
)
from routing.engine_state import EngineState
from routing.pools import CallKey
from routing.records import AgentRecord, CallRecord, CallStatus
from routing.states import WORKING, AgentState, check_move

S = AgentState
# Tuples and module names, not frozensets and ``S.X``: in the hot path an enum member
# costs a hash call in a set and a descriptor call when read off its class (Python 3.11).
HOLDING = (S.WRAP_UP, S.READY)  # states in which calls may be held for a case owner
OFFLINE = S.OFFLINE


def commit(st: EngineState, agent: str, new: AgentRecord, at: float, out: list[Decision]) -> None:
    """Store an agent's new record and keep every index and count in step with it."""
    old = st.agents[agent]
    before, after = old.state, new.state
    moved = before is not after
    if moved:
        check_move(agent, before, after)
    was_in = old.offerable
    is_in = new.offerable
    if was_in and (not is_in or old.idle_since != new.idle_since):
        st.ready.remove(agent)
    if is_in and (not was_in or old.idle_since != new.idle_since):
        st.ready.add(agent, new.idle_since)
    st.agents[agent] = new
    if moved or old.reason != new.reason:
        out.append(AgentStateChanged(agent, after, new.reason, at))
    if not moved:
        return
    if (before in WORKING) is not (after in WORKING):
        st.forecast.working_changed(agent, after in WORKING)
    if before is OFFLINE:
        for service in st.serves[agent]:
            st.online_capable[service] += 1
    elif after is OFFLINE:
        for service in st.serves[agent]:
            st.online_capable[service] -= 1
            if st.online_capable[service] == 0:
                _nobody_left(st, service, at, out)
    if before in HOLDING and after not in HOLDING and agent in st.reserved:
        for call_id in sorted(st.reserved[agent]):
            call = st.calls[call_id]
            st.unreserve(call)
            dispatch_call(st, st.enqueue(call, at), at, out)


def offer(st: EngineState, call: CallRecord, agent: str, at: float, out: list[Decision]) -> None:
    if call.status is CallStatus.QUEUED:
        st.queues.remove(call.service, call.level, call.key)
    elif call.status is CallStatus.RESERVED:
        st.unreserve(call)
    ring(st, call.ringing(agent), at, out)


def ring(st: EngineState, call: CallRecord, at: float, out: list[Decision]) -> None:
    """Store a call now ringing its agent (out of every queue) and ring her."""
    agent = call.agent
    assert agent is not None
    st.calls[call.call_id] = call
    out.append(Offer(call.call_id, agent, call.service, at))
    commit(st, agent, st.agents[agent].ringing(call.call_id, call.service), at, out)


def ring_also(
    st: EngineState, call_id: str, at: float, out: list[Decision], avoid: str | None = None
) -> None:
    """Ring up to ``ring_together - 1`` more ready agents for a call just offered.

    Only agents as qualified as the first one (same or lower first level) ring with her,
    so whoever answers first, the call never goes to someone less qualified than the
    engine's own choice would have been at this level. A call that keeps its place (a
    callback request) goes to one agent: it is shown on her page to accept, not rung.
    """
    call = st.calls[call_id]
    first = call.agent
    if st.config.ring_together <= 1 or first is None or call.keeps_place:
        return
    limit = st.first_level[(first, call.service)]
    also: list[str] = []
    while len(also) < st.config.ring_together - 1:
        agent = st.ready.best(call.service, limit, call.language, avoid)
        if agent is None or (call.language is not None and not _speaks(st, agent, call)):
            break
        also.append(agent)
        out.append(Offer(call.call_id, agent, call.service, at))
        commit(st, agent, st.agents[agent].ringing(call.call_id, call.service), at, out)
    if also:
        st.calls[call_id] = call._replace(also=tuple(also))


def _speaks(st: EngineState, agent: str, call: CallRecord) -> bool:
    """Whether the agent speaks the call's language, or the first one rung did not."""
    languages = st.agent_specs[agent].languages
    first = call.agent
    assert first is not None and call.language is not None
    return call.language in languages or call.language not in st.agent_specs[first].languages


def dispatch_call(
    st: EngineState, call: CallRecord, at: float, out: list[Decision], avoid: str | None = None
) -> None:
    agent = st.ready.best(call.service, call.level, call.language, avoid)
    if agent is not None:
        offer(st, call, agent, at, out)
        ring_also(st, call.call_id, at, out, avoid)


def dispatch_agent(st: EngineState, agent: str, at: float, out: list[Decision]) -> None:
    """If the agent is offerable, offer her the best call she may take, if any."""
    if not st.agents[agent].offerable:
        return
    held = st.reserved.get(agent)
    if held:
        services = st.services
        calls = [st.calls[c] for c in held]
        best = min(calls, key=lambda c: (-services[c.service].priority, c.key))
        offer(st, best, agent, at, out)
        return
    found = _best_call(st, agent, at)
    if found is not None:
        offer(st, st.calls[found[1][2]], agent, at, out)


def _best_call(st: EngineState, agent: str, at: float) -> tuple[str, CallKey] | None:
    """The call a freed agent takes: in her first tier (services of equal priority, her own
    work before relaxed calls) where one waits, the first in order among the calls that can
    still make their service-level threshold, else the first in order.

    Between services of equal priority, answering a caller who already missed her threshold
    gains nothing on it while the other may still make hers; each service's own order is
    kept. Measured on the samples and generated days 1-30, seeds 1-3, one phone: mean gap to
    the best app_queue strategy -0.39 -> -0.16 points, qualified share unchanged. Across
    priorities (a lower-priority caller in time before a higher-priority one who missed)
    gained more (+0.29) but overrides the configured priorities: not done."""
    queues, services = st.queues, st.services
    for tier in st.tiers[agent]:
        first: tuple[CallKey, str] | None = None
        in_time: tuple[CallKey, str] | None = None
        for service, level in tier:
            key = queues.best(service, level)
            if key is None:
                continue
            if first is None or key < first[0]:
                first = (key, service)
            if at - key[1] < services[service].sl_threshold_s and (
                in_time is None or key < in_time[0]
            ):
                in_time = (key, service)
        chosen = in_time or first
        if chosen is not None:
            return chosen[1], chosen[0]
    return None


def end_offer(
    st: EngineState, agent: str, rec: AgentRecord, at: float, out: list[Decision]
) -> None:
    """The agent's offer failed or was cancelled: back to READY or to her request."""
    state, reason = rec.pending if rec.pending is not None else (S.READY, None)
    new = rec._replace(state=state, reason=reason, call_id=None, service=None, pending=None)
    commit(st, agent, new, at, out)


def overflow(
    st: EngineState, call: CallRecord, reason: OverflowReason, at: float, out: list[Decision]
) -> None:
    st.forget(call)
    target = st.services[call.service].overflow
    out.append(Overflow(call.call_id, call.service, target.kind, target.target, reason, at))


def _nobody_left(st: EngineState, service: str, at: float, out: list[Decision]) -> None:
    label = st.services[service].label
    out.append(
        SupervisorAlert(
            AlertKind.NO_AGENT,
            None,
            service,
            f"Plus aucun agent connecté ne peut prendre le service « {label} »",
            at,
        )
    )
    waiting = (CallStatus.QUEUED, CallStatus.RESERVED)
    calls = [
        c
        for c in st.calls.values()
        if c.service == service and c.status in waiting and not c.keeps_place
    ]
    for call in sorted(calls, key=lambda c: c.key):
        overflow(st, call, OverflowReason.NO_AGENT, at, out)
