"""How an offer ends: answered, failed (no answer, busy, refused) or cancelled (the caller left).

Theory of operation: whoever answers takes the call and the other phones stop ringing (not a
miss). A failed offer counts a miss, pauses the agent at ``max_missed_offers`` in a row, and
puts the call back in its place; a call that leaves is forgotten and its agents are free
again. Every agent freed here is then offered the best call for her.
"""

from __future__ import annotations

from routing.decisions import (
    NO_ANSWER_REASON,
    AlertKind,
    Decision,
    OverflowReason,
    PauseAgent,
    SupervisorAlert,
)
from routing.engine_state import EngineState
from routing.events import (
    CallLeft,
    OfferAnswered,
    OfferFailed,
)
from routing.offers import commit, dispatch_agent, dispatch_call, end_offer, overflow
from routing.states import AgentState

S = AgentState


def on_call_left(st: EngineState, event: CallLeft, out: list[Decision]) -> None:
    call = st.calls.get(event.call_id)
    if call is None:
        return
    st.forget(call)
    for agent in call.rung:
        end_offer(st, agent, st.agents[agent], event.at, out)
    for agent in call.rung:
        dispatch_agent(st, agent, event.at, out)


def on_offer_answered(st: EngineState, event: OfferAnswered, out: list[Decision]) -> None:
    call = st.calls.pop(event.call_id)
    st.forecast.answered(event.agent, event.at)
    rec = st.agents[event.agent]
    commit(st, event.agent, rec._replace(state=S.ON_CALL, missed=0), event.at, out)
    others = [agent for agent in call.rung if agent != event.agent]
    for agent in others:  # their rings stop: not a miss, they keep their idle time
        end_offer(st, agent, st.agents[agent], event.at, out)
    for agent in others:
        dispatch_agent(st, agent, event.at, out)


def on_offer_failed(st: EngineState, event: OfferFailed, out: list[Decision]) -> None:
    at, agent = event.at, event.agent
    call = st.calls[event.call_id]
    rec = st.agents[agent]
    missed = rec.missed + 1 if event.missed else rec.missed
    if event.missed and rec.pending is None and missed >= st.config.max_missed_offers:
        paused = rec._replace(
            state=S.PAUSED,
            reason=NO_ANSWER_REASON,
            missed=missed,
            call_id=None,
            service=None,
        )
        commit(st, agent, paused, at, out)
        out.append(PauseAgent(agent, NO_ANSWER_REASON, at))
        name = st.agent_specs[agent].name
        out.append(
            SupervisorAlert(
                AlertKind.MISSED_OFFERS,
                agent,
                call.service,
                f"{name} ({agent}) mis(e) en pause après {missed} appels sans réponse",
                at,
            )
        )
    else:
        end_offer(st, agent, rec._replace(missed=missed), at, out)
    still = tuple(other for other in call.rung if other != agent)
    if still:  # other phones still ring for this call: it stays with them
        st.calls[call.call_id] = call._replace(agent=still[0], also=still[1:])
        dispatch_agent(st, agent, at, out)
        return
    spec = st.services[call.service]
    if call.keeps_place:
        dispatch_call(st, st.enqueue(call, at), at, out, avoid=agent)
    elif at >= call.since + spec.max_wait_s:
        overflow(st, call, OverflowReason.MAX_WAIT, at, out)
    elif st.online_capable[call.service] == 0:
        overflow(st, call, OverflowReason.NO_AGENT, at, out)
    else:
        dispatch_call(st, st.enqueue(call, at), at, out, avoid=agent)
    dispatch_agent(st, agent, at, out)
