"""What an agent does to her own state: ends a call, asks for a state, gets her phone busy.

Theory of operation: a request made while ringing or on a call is kept and applied when the
offer or the call ends; during wrap-up it applies at once; an agent who becomes offerable is
offered the best call for her at once (``routing.offers.dispatch_agent``).
"""

from __future__ import annotations

from routing.deadlines import DeadlineKind
from routing.decisions import (
    Decision,
)
from routing.engine_state import EngineState
from routing.events import (
    AgentFinished,
    AgentPhoneBusy,
    AgentStateSet,
)
from routing.offers import commit, dispatch_agent
from routing.states import AgentState

S = AgentState
DEFAULT_PAUSE_REASON = "pause"


def on_agent_finished(st: EngineState, event: AgentFinished, out: list[Decision]) -> None:
    at, agent = event.at, event.agent
    rec = st.agents[agent]
    service = rec.service
    wrap_up = st.services[service].wrap_up_s if service is not None else 0.0
    st.forecast.finished(agent, service, at, wrap_up)
    cleared = rec._replace(call_id=None, service=None)
    if rec.pending is not None:
        state, reason = rec.pending
        commit(st, agent, cleared._replace(state=state, reason=reason, pending=None), at, out)
    elif wrap_up > 0:
        until = at + wrap_up
        wrapping = cleared._replace(state=S.WRAP_UP, service=service, wrap_until=until)
        commit(st, agent, wrapping, at, out)
        st.deadlines.push(until, DeadlineKind.WRAP_UP_END, agent, 0)
    else:
        commit(st, agent, cleared._replace(state=S.READY, idle_since=at), at, out)
        dispatch_agent(st, agent, at, out)


def on_agent_state_set(st: EngineState, event: AgentStateSet, out: list[Decision]) -> None:
    at, agent, target = event.at, event.agent, event.state
    reason = (event.reason or DEFAULT_PAUSE_REASON) if target is S.PAUSED else None
    rec = st.agents[agent]
    if rec.state in (S.RINGING, S.ON_CALL):
        pending = None if target is S.READY else (target, reason)
        st.agents[agent] = rec._replace(pending=pending)
        return
    if rec.state is target and rec.reason == reason:
        return
    new = rec._replace(state=target, reason=reason, wrap_until=None, service=None)
    if target is S.READY:
        missed = rec.missed if rec.state is S.WRAP_UP else 0
        new = new._replace(idle_since=at, missed=missed)
    commit(st, agent, new, at, out)
    dispatch_agent(st, agent, at, out)


def on_phone_busy(st: EngineState, event: AgentPhoneBusy, out: list[Decision]) -> None:
    rec = st.agents[event.agent]
    if rec.phone_busy is not event.busy:
        commit(st, event.agent, rec._replace(phone_busy=event.busy), event.at, out)
        dispatch_agent(st, event.agent, event.at, out)
