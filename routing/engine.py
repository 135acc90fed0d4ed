"""The skill-based routing engine: a pure state machine from events to decisions.

Theory of operation: ``handle(event)`` first rejects an impossible event (raising, state
untouched), then brings the engine's time up to ``event.at`` by processing every deadline due
(max waits, ends of wrap-up, ends of case-owner reservations, relaxation steps) in time order,
then applies the event, and returns the decisions taken, in order. Nothing here reads a clock,
does I/O or draws random numbers: the same events give the same decisions.

After every event this holds: no queued call has a READY, not phone-busy agent who qualifies
for it at its current relaxation level. It is kept by two exact lookups in ``routing.pools``,
run only for what just changed: a call that starts (or resumes) waiting or reaches a new level
looks for the best ready agent; an agent who becomes ready looks for the best waiting call.

Rules worth knowing (the rest is in the event docstrings):

* The best agent for a call meets the requirement at the lowest level, then is the least
  needed by the other services, then has the best proficiency (lowest, then total), then
  the longest idle time, then the smallest extension (``routing.agent_rank``). Agents
  speaking the call's language are preferred; if no ready one qualifies, the language is
  ignored.
* The best call for an agent is in the highest-priority service she fully qualifies for;
  only if none waits, in the highest-priority service she may take once relaxed; then it
  has the highest call priority, then waited longest, then has the smallest call id. Between
  services of equal priority, a call that can still make its service-level threshold goes
  before one that has missed it (``routing.offers``); each service keeps its own order.
* A call that finds no fully qualified agent free and is forecast to miss its service-level
  threshold (``routing.wait_forecast``) has its proficiency floors at once
  (``CallRecord.early_level``); its other steps keep their configured times. A call still
  queued at half its threshold gets its floors then, whatever the forecast said
  (``routing.requirements.floors_due_at``).
* ``idle_since`` is set whenever an agent enters READY, except when an offer she did not
  take (failed or cancelled) returns her to READY: ringing is not work.
* A failed offer puts the call back in its place (it keeps its arrival time) and counts a
  miss (unless the offer never reached her phone: ``OfferFailed.missed`` False); at
  ``max_missed_offers`` consecutive misses the agent is paused ("absence de réponse").
  The call is then offered to another ready agent if one qualifies; if none, the agent
  who missed it, if still ready, takes the best call for her, which may be that same
  call again. A call past its max wait when its offer fails overflows at once.
* Asking for PAUSED, FRONT_DESK or OFFLINE while RINGING or ON_CALL does not interrupt: the
  request is kept and applied when the offer fails or is cancelled, or when the call ends
  (skipping the wrap-up). Asking for READY cancels such a request. During WRAP_UP the
  request applies at once (READY ends the wrap-up early). Asking for READY from PAUSED,
  FRONT_DESK or OFFLINE also resets the missed-offer count.
* Case owner: a call whose case owner is READY (and not phone-busy) rings the owner first,
  whatever her skills. If the owner is in WRAP_UP, the call is held for her until she is
  ready or ``case_owner_first_s`` after queueing, whichever comes first, then queued for all.
  Held calls stay held while she is READY but phone-busy, and are released as soon as she
  is in any state other than WRAP_UP or READY (including ringing for one of them).
* A call overflows when its wait reaches the service's max wait while waiting (not while
  ringing), and with reason NO_AGENT on arrival, or when the last logged-in agent who could
  ever qualify (with every relaxation step) goes offline, if nobody logged in could ever
  take it.
* A call queued with ``keeps_place`` (a callback request) never overflows: max wait and
  "nobody left" do not apply to it; it waits, in its place, until taken or withdrawn.
* ``CallQueued`` for an unknown service raises ``UnknownService`` (the shell must only queue
  to configured services); for a call still waiting or ringing, ``CallAlreadyQueued``.

Where each part lives: this module checks events, brings time forward and answers the views;
the state and its indexes are ``routing.engine_state``; time passing (max waits, wrap-up and
hold ends, relaxation) is ``routing.passing_time``; a call arriving, ``routing.arrivals``;
how an offer ends, ``routing.offer_outcomes``; an agent's own requests,
``routing.agent_requests``; who rings for what and the one way an agent's record changes,
``routing.offers``.
"""

from __future__ import annotations

from routing.agent_requests import on_agent_finished, on_agent_state_set, on_phone_busy
from routing.arrivals import on_call_queued
from routing.config import RoutingConfig
from routing.decisions import Decision
from routing.engine_state import EngineState
from routing.errors import (
    CallAlreadyQueued,
    InvalidStateRequest,
    TimeWentBackwards,
    UnexpectedEvent,
    UnknownAgent,
    UnknownService,
)
from routing.events import (
    AgentFinished,
    AgentPhoneBusy,
    AgentStateSet,
    CallLeft,
    CallQueued,
    Event,
    OfferAnswered,
    OfferFailed,
    Tick,
)
from routing.model import EngineConfig
from routing.offer_outcomes import on_call_left, on_offer_answered, on_offer_failed
from routing.passing_time import advance
from routing.records import AgentRecord, CallRecord, CallStatus
from routing.states import REQUESTABLE, AgentState
from routing.views import AgentView, WaitingCall, agent_view

S = AgentState


class RoutingEngine:
    def __init__(self, config: EngineConfig | RoutingConfig) -> None:
        if isinstance(config, RoutingConfig):
            config = config.to_engine()
        self._st = EngineState(config)

    # ------------------------------------------------------------------ public API

    def handle(self, event: Event) -> list[Decision]:
        """Apply one event; return the decisions taken, in order."""
        st = self._st
        if event.at < st.now:
            raise TimeWentBackwards(event.at, st.now)
        out: list[Decision] = []
        match event:
            case CallQueued():
                self._check_call_queued(event)
                advance(st, event.at, out)
                on_call_queued(st, event, out)
            case CallLeft():
                advance(st, event.at, out)
                on_call_left(st, event, out)
            case OfferAnswered():
                self._check_offer(event.call_id, event.agent)
                advance(st, event.at, out)
                on_offer_answered(st, event, out)
            case OfferFailed():
                self._check_offer(event.call_id, event.agent)
                advance(st, event.at, out)
                on_offer_failed(st, event, out)
            case AgentFinished():
                rec = self._agent_record(event.agent)
                if rec.state is not S.ON_CALL:
                    raise UnexpectedEvent(
                        f"agent {event.agent!r} finished a call but is {rec.state.name}"
                    )
                advance(st, event.at, out)
                on_agent_finished(st, event, out)
            case AgentStateSet():
                self._agent_record(event.agent)
                if event.state not in REQUESTABLE:
                    raise InvalidStateRequest(event.agent, event.state.name)
                advance(st, event.at, out)
                on_agent_state_set(st, event, out)
            case AgentPhoneBusy():
                self._agent_record(event.agent)
                advance(st, event.at, out)
                on_phone_busy(st, event, out)
            case Tick():
                advance(st, event.at, out)
        return out

    def next_deadline(self) -> float | None:
        """The earliest time at which a ``Tick`` would change something, if any."""
        st = self._st
        # Moot entries are dropped here, not after every event: ``advance`` checks each
        # entry it pops anyway, so only this answer needs a live entry on top.
        st.deadlines.prune(st.is_live)
        return st.deadlines.peek()

    @property
    def now(self) -> float:
        return self._st.now

    @property
    def config(self) -> EngineConfig:
        return self._st.config

    def waiting(self, service: str) -> list[WaitingCall]:
        """Calls waiting for ``service`` (queued or held for their case owner), in order."""
        st = self._st
        if service not in st.services:
            raise UnknownService(service)
        calls = [st.calls[key[2]] for key in st.queues.keys(service)]
        for held in st.reserved.values():
            calls.extend(c for c in map(st.calls.__getitem__, held) if c.service == service)
        calls.sort(key=lambda c: c.key)
        return [
            WaitingCall(
                c.call_id,
                c.service,
                c.priority,
                c.since,
                position,
                c.agent if c.status is CallStatus.RESERVED else None,
                c.language,
                c.place,
            )
            for position, c in enumerate(calls, start=1)
        ]

    def count_waiting(self, service: str, before: tuple[int, float, str] | None = None) -> int:
        """Calls waiting for ``service`` (queued or held), those whose ``CallRecord.key``
        comes before ``before`` if given: a caller's place without listing the line
        (``routing.caller_forecast``)."""
        st = self._st
        if service not in st.services:
            raise UnknownService(service)
        queues = st.queues
        count = queues.count(service) if before is None else queues.count_before(service, before)
        for held in st.reserved.values():
            for call in map(st.calls.__getitem__, held):
                if call.service == service and (before is None or call.key < before):
                    count += 1
        return count

    def agent(self, agent_id: str) -> AgentView:
        rec = self._agent_record(agent_id)  # raises UnknownAgent first
        return agent_view(self._st.agent_specs[agent_id], rec)

    def agents(self) -> list[AgentView]:
        return [self.agent(agent_id) for agent_id in sorted(self._st.agents)]

    def call(self, call_id: str) -> CallRecord | None:
        """The call's record while it waits or rings (an immutable copy), else None."""
        return self._st.calls.get(call_id)

    # ------------------------------------------------------------------ validation

    def _agent_record(self, agent: str) -> AgentRecord:
        rec = self._st.agents.get(agent)
        if rec is None:
            raise UnknownAgent(agent)
        return rec

    def _check_call_queued(self, event: CallQueued) -> None:
        st = self._st
        if event.service not in st.services:
            raise UnknownService(event.service)
        if event.call_id in st.calls:
            raise CallAlreadyQueued(event.call_id)

    def _check_offer(self, call_id: str, agent: str) -> None:
        st = self._st
        self._agent_record(agent)
        call = st.calls.get(call_id)
        if call is None or agent not in call.rung:
            raise UnexpectedEvent(f"call {call_id!r} is not ringing agent {agent!r}")

    # ------------------------------------------------------------------ events
