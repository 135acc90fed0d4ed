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
  has the highest call priority, then waited longest, then has the smallest call id.
* A call that finds no fully qualified agent free and is forecast to miss its service-level
  threshold (``routing.wait_forecast``) has its proficiency floors at once
  (``CallRecord.early_level``); its other steps keep their configured times.
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
"""

from __future__ import annotations

import math

from routing.agent_rank import agent_tables
from routing.config import RoutingConfig
from routing.deadlines import Deadline, DeadlineKind, Deadlines
from routing.decisions import (
    NO_ANSWER_REASON,
    AgentStateChanged,
    AlertKind,
    Decision,
    Offer,
    Overflow,
    OverflowReason,
    PauseAgent,
    SupervisorAlert,
)
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
from routing.model import EngineConfig, ServiceSpec
from routing.pools import ReadyAgents, WaitingCalls
from routing.records import AgentRecord, CallRecord, CallStatus
from routing.requirements import floor_levels, level_in_force, next_step_at, requirements
from routing.states import REQUESTABLE, AgentState, check_move
from routing.views import AgentView, WaitingCall, agent_view
from routing.wait_forecast import WaitForecast

S = AgentState
DEFAULT_PAUSE_REASON = "pause"
# Tuples and module names, not frozensets and ``S.X``: in the hot path an enum member
# costs a hash call in a set and a descriptor call when read off its class (Python 3.11).
WORKING = (S.READY, S.RINGING, S.ON_CALL, S.WRAP_UP)  # freeing up soon
HOLDING = (S.WRAP_UP, S.READY)  # states in which calls may be held for a case owner
OFFLINE = S.OFFLINE


class RoutingEngine:
    def __init__(self, config: EngineConfig | RoutingConfig) -> None:
        if isinstance(config, RoutingConfig):
            config = config.to_engine()
        self._config = config
        self._services: dict[str, ServiceSpec] = dict(config.services)
        self._agent_specs = dict(config.agents)
        levels = {name: requirements(spec) for name, spec in self._services.items()}
        tables = agent_tables(self._services, self._agent_specs)
        self._tiers = tables.tiers
        self._serves = tables.serves  # services an agent can ever take
        self._first_level = tables.first_level  # (agent, service) -> level
        self._early_levels = {name: floor_levels(spec) for name, spec in self._services.items()}
        self._forecast = WaitForecast(tables.fully)
        counts = {name: len(reqs) for name, reqs in levels.items()}
        languages = {agent: spec.languages for agent, spec in self._agent_specs.items()}
        self._ready = ReadyAgents(counts, tables.entries, languages)
        self._queues = WaitingCalls(counts)
        self._online_capable = dict.fromkeys(self._services, 0)
        self._agents = {agent: AgentRecord() for agent in self._agent_specs}
        self._calls: dict[str, CallRecord] = {}
        self._reserved: dict[str, list[str]] = {}  # case owner -> call ids held for her
        self._deadlines = Deadlines()
        self._now = -math.inf
        self._generation = 0

    # ------------------------------------------------------------------ public API

    def handle(self, event: Event) -> list[Decision]:
        """Apply one event; return the decisions taken, in order."""
        if event.at < self._now:
            raise TimeWentBackwards(event.at, self._now)
        out: list[Decision] = []
        match event:
            case CallQueued():
                self._check_call_queued(event)
                self._advance(event.at, out)
                self._on_call_queued(event, out)
            case CallLeft():
                self._advance(event.at, out)
                self._on_call_left(event, out)
            case OfferAnswered():
                self._check_offer(event.call_id, event.agent)
                self._advance(event.at, out)
                self._on_offer_answered(event, out)
            case OfferFailed():
                self._check_offer(event.call_id, event.agent)
                self._advance(event.at, out)
                self._on_offer_failed(event, out)
            case AgentFinished():
                rec = self._agent_record(event.agent)
                if rec.state is not S.ON_CALL:
                    raise UnexpectedEvent(
                        f"agent {event.agent!r} finished a call but is {rec.state.name}"
                    )
                self._advance(event.at, out)
                self._on_agent_finished(event, out)
            case AgentStateSet():
                self._agent_record(event.agent)
                if event.state not in REQUESTABLE:
                    raise InvalidStateRequest(event.agent, event.state.name)
                self._advance(event.at, out)
                self._on_agent_state_set(event, out)
            case AgentPhoneBusy():
                self._agent_record(event.agent)
                self._advance(event.at, out)
                self._on_phone_busy(event, out)
            case Tick():
                self._advance(event.at, out)
        return out

    def next_deadline(self) -> float | None:
        """The earliest time at which a ``Tick`` would change something, if any."""
        # Moot entries are dropped here, not after every event: ``_advance`` checks each
        # entry it pops anyway, so only this answer needs a live entry on top.
        self._deadlines.prune(self._is_live)
        return self._deadlines.peek()

    @property
    def now(self) -> float:
        return self._now

    @property
    def config(self) -> EngineConfig:
        return self._config

    def waiting(self, service: str) -> list[WaitingCall]:
        """Calls waiting for ``service`` (queued or held for their case owner), in order."""
        if service not in self._services:
            raise UnknownService(service)
        calls = [self._calls[key[2]] for key in self._queues.keys(service)]
        for held in self._reserved.values():
            calls.extend(c for c in map(self._calls.__getitem__, held) if c.service == service)
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
        if service not in self._services:
            raise UnknownService(service)
        queues = self._queues
        count = queues.count(service) if before is None else queues.count_before(service, before)
        for held in self._reserved.values():
            for call in map(self._calls.__getitem__, held):
                if call.service == service and (before is None or call.key < before):
                    count += 1
        return count

    def agent(self, agent_id: str) -> AgentView:
        rec = self._agent_record(agent_id)  # raises UnknownAgent first
        return agent_view(self._agent_specs[agent_id], rec)

    def agents(self) -> list[AgentView]:
        return [self.agent(agent_id) for agent_id in sorted(self._agents)]

    def call(self, call_id: str) -> CallRecord | None:
        """The call's record while it waits or rings (a frozen copy), else None."""
        return self._calls.get(call_id)

    # ------------------------------------------------------------------ validation

    def _agent_record(self, agent: str) -> AgentRecord:
        rec = self._agents.get(agent)
        if rec is None:
            raise UnknownAgent(agent)
        return rec

    def _check_call_queued(self, event: CallQueued) -> None:
        if event.service not in self._services:
            raise UnknownService(event.service)
        if event.call_id in self._calls:
            raise CallAlreadyQueued(event.call_id)

    def _check_offer(self, call_id: str, agent: str) -> None:
        self._agent_record(agent)
        call = self._calls.get(call_id)
        if call is None or agent not in call.rung:
            raise UnexpectedEvent(f"call {call_id!r} is not ringing agent {agent!r}")

    # ------------------------------------------------------------------ events

    def _on_call_queued(self, event: CallQueued, out: list[Decision]) -> None:
        at, service, owner = event.at, event.service, event.case_owner
        since = at if event.since is None else min(event.since, at)
        place = None if event.place is None or event.place >= since else event.place
        self._generation += 1
        spec = self._services[service]
        owner_rec = self._agents.get(owner) if owner is not None else None
        if owner_rec is None:
            owner = None
        if owner is not None and owner_rec is not None and owner_rec.offerable:
            self._ring(self._new_call(event, since, place, owner, 0, 0, owner), at, out)
        elif self._online_capable[service] == 0 and not event.keeps_place:
            self._overflow(
                self._new_call(event, since, place, owner, 0, 0), OverflowReason.NO_AGENT, at, out
            )
        elif (
            owner is not None
            and owner_rec is not None
            and owner_rec.state is S.WRAP_UP
            and spec.case_owner_first_s > 0
        ):
            call = self._new_call(event, since, place, owner, 0, 0)
            self._calls[call.call_id] = call._replace(status=CallStatus.RESERVED, agent=owner)
            self._reserved.setdefault(owner, []).append(call.call_id)
            gen = call.generation
            self._deadlines.push(
                at + spec.case_owner_first_s, DeadlineKind.RESERVATION_END, call.call_id, gen
            )
            self._deadlines.push(since + spec.max_wait_s, DeadlineKind.MAX_WAIT, call.call_id, gen)
        else:
            # One lookup of the best fully qualified agent serves both the forecast (is one
            # free?) and, for a call at level 0 with no language, the offer itself.
            ready = self._ready
            floors = self._early_levels[service]
            fully: str | None = None
            looked = floors > 0 and not event.keeps_place
            early = 0
            if looked:
                fully = ready.best(service, 0, None, None)
                if fully is None and self._forecast_miss(service, since, at):
                    early = floors
            level = level_in_force(spec, since, at, early)
            if looked and level == 0 and event.language is None:
                agent = fully
            else:
                agent = ready.best(service, level, event.language, None)
            call = self._new_call(event, since, place, owner, level, early, agent)
            if agent is not None:
                self._ring(call, at, out)
                self._ring_also(call.call_id, at, out)
            elif since + spec.max_wait_s <= at and not call.keeps_place:
                self._overflow(call, OverflowReason.MAX_WAIT, at, out)
            else:
                self._enqueue(call, at)

    def _new_call(
        self,
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
            self._generation,
            CallStatus.ARRIVING if agent is None else CallStatus.RINGING,
            level,
            agent,
            keeps_place=event.keeps_place,
            early_level=early,
            place=place,
        )
        self._calls[call.call_id] = call
        return call

    def _on_call_left(self, event: CallLeft, out: list[Decision]) -> None:
        call = self._calls.get(event.call_id)
        if call is None:
            return
        self._forget(call)
        for agent in call.rung:
            self._end_offer(agent, self._agents[agent], event.at, out)
        for agent in call.rung:
            self._dispatch_agent(agent, event.at, out)

    def _on_offer_answered(self, event: OfferAnswered, out: list[Decision]) -> None:
        call = self._calls.pop(event.call_id)
        self._forecast.answered(event.agent, event.at)
        rec = self._agents[event.agent]
        self._commit(event.agent, rec._replace(state=S.ON_CALL, missed=0), event.at, out)
        others = [agent for agent in call.rung if agent != event.agent]
        for agent in others:  # their rings stop: not a miss, they keep their idle time
            self._end_offer(agent, self._agents[agent], event.at, out)
        for agent in others:
            self._dispatch_agent(agent, event.at, out)

    def _on_offer_failed(self, event: OfferFailed, out: list[Decision]) -> None:
        at, agent = event.at, event.agent
        call = self._calls[event.call_id]
        rec = self._agents[agent]
        missed = rec.missed + 1 if event.missed else rec.missed
        if event.missed and rec.pending is None and missed >= self._config.max_missed_offers:
            paused = rec._replace(
                state=S.PAUSED,
                reason=NO_ANSWER_REASON,
                missed=missed,
                call_id=None,
                service=None,
            )
            self._commit(agent, paused, at, out)
            out.append(PauseAgent(agent, NO_ANSWER_REASON, at))
            name = self._agent_specs[agent].name
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
            self._end_offer(agent, rec._replace(missed=missed), at, out)
        still = tuple(other for other in call.rung if other != agent)
        if still:  # other phones still ring for this call: it stays with them
            self._calls[call.call_id] = call._replace(agent=still[0], also=still[1:])
            self._dispatch_agent(agent, at, out)
            return
        spec = self._services[call.service]
        if call.keeps_place:
            self._dispatch_call(self._enqueue(call, at), at, out, avoid=agent)
        elif at >= call.since + spec.max_wait_s:
            self._overflow(call, OverflowReason.MAX_WAIT, at, out)
        elif self._online_capable[call.service] == 0:
            self._overflow(call, OverflowReason.NO_AGENT, at, out)
        else:
            self._dispatch_call(self._enqueue(call, at), at, out, avoid=agent)
        self._dispatch_agent(agent, at, out)

    def _on_agent_finished(self, event: AgentFinished, out: list[Decision]) -> None:
        at, agent = event.at, event.agent
        rec = self._agents[agent]
        service = rec.service
        wrap_up = self._services[service].wrap_up_s if service is not None else 0.0
        self._forecast.finished(agent, service, at, wrap_up)
        cleared = rec._replace(call_id=None, service=None)
        if rec.pending is not None:
            state, reason = rec.pending
            self._commit(agent, cleared._replace(state=state, reason=reason, pending=None), at, out)
        elif wrap_up > 0:
            until = at + wrap_up
            wrapping = cleared._replace(state=S.WRAP_UP, service=service, wrap_until=until)
            self._commit(agent, wrapping, at, out)
            self._deadlines.push(until, DeadlineKind.WRAP_UP_END, agent, 0)
        else:
            self._commit(agent, cleared._replace(state=S.READY, idle_since=at), at, out)
            self._dispatch_agent(agent, at, out)

    def _on_agent_state_set(self, event: AgentStateSet, out: list[Decision]) -> None:
        at, agent, target = event.at, event.agent, event.state
        reason = (event.reason or DEFAULT_PAUSE_REASON) if target is S.PAUSED else None
        rec = self._agents[agent]
        if rec.state in (S.RINGING, S.ON_CALL):
            pending = None if target is S.READY else (target, reason)
            self._agents[agent] = rec._replace(pending=pending)
            return
        if rec.state is target and rec.reason == reason:
            return
        new = rec._replace(state=target, reason=reason, wrap_until=None, service=None)
        if target is S.READY:
            missed = rec.missed if rec.state is S.WRAP_UP else 0
            new = new._replace(idle_since=at, missed=missed)
        self._commit(agent, new, at, out)
        self._dispatch_agent(agent, at, out)

    def _on_phone_busy(self, event: AgentPhoneBusy, out: list[Decision]) -> None:
        rec = self._agents[event.agent]
        if rec.phone_busy is not event.busy:
            self._commit(event.agent, rec._replace(phone_busy=event.busy), event.at, out)
            self._dispatch_agent(event.agent, event.at, out)

    # ------------------------------------------------------------------ time

    def _advance(self, at: float, out: list[Decision]) -> None:
        """Process every deadline due by ``at``, one instant at a time."""
        deadlines = self._deadlines
        while (instant := deadlines.peek()) is not None and instant <= at:
            due: list[Deadline] = []
            while (entry := deadlines.pop_due(instant)) is not None:
                due.append(entry)
            freed: list[str] = []
            moved: list[CallRecord] = []
            for entry in due:  # already sorted by kind, then subject
                if not self._is_live(entry):
                    continue
                _, kind, subject, _ = entry
                if kind is DeadlineKind.MAX_WAIT:
                    self._overflow(self._calls[subject], OverflowReason.MAX_WAIT, at, out)
                elif kind is DeadlineKind.WRAP_UP_END:
                    rec = self._agents[subject]
                    ready = rec._replace(
                        state=S.READY, idle_since=instant, wrap_until=None, service=None
                    )
                    self._commit(subject, ready, at, out)
                    freed.append(subject)
                elif kind is DeadlineKind.RESERVATION_END:
                    call = self._calls[subject]
                    self._unreserve(call)
                    moved.append(self._enqueue(call, instant))
                else:  # RELAXATION
                    moved.append(self._relax(self._calls[subject], instant))
            # Agents freed at this instant pick first, then calls that changed, best first.
            for agent in freed:
                self._dispatch_agent(agent, at, out)
            moved.sort(key=lambda c: (-self._services[c.service].priority, c.key))
            for call in moved:
                current = self._calls.get(call.call_id)
                if current is not None and current.status is CallStatus.QUEUED:
                    self._dispatch_call(current, at, out)
        self._now = at

    def _is_live(self, entry: Deadline) -> bool:
        instant, kind, subject, generation = entry
        if kind is DeadlineKind.WRAP_UP_END:
            rec = self._agents[subject]
            return rec.state is S.WRAP_UP and rec.wrap_until == instant
        call = self._calls.get(subject)
        if call is None or call.generation != generation:
            return False
        if kind is DeadlineKind.MAX_WAIT:
            return call.status in (CallStatus.QUEUED, CallStatus.RESERVED)
        if kind is DeadlineKind.RESERVATION_END:
            return call.status is CallStatus.RESERVED
        if call.status is not CallStatus.QUEUED:
            return False
        step = next_step_at(self._services[call.service], call.since, call.level)
        return step is not None and step <= instant

    def _relax(self, call: CallRecord, instant: float) -> CallRecord:
        spec = self._services[call.service]
        self._queues.remove(call.service, call.level, call.key)
        level = level_in_force(spec, call.since, instant, call.early_level)
        call = call._replace(level=level)
        self._calls[call.call_id] = call
        self._queues.add(call.service, level, call.key)
        step = next_step_at(spec, call.since, level)
        if step is not None:
            self._deadlines.push(step, DeadlineKind.RELAXATION, call.call_id, call.generation)
        return call

    # ------------------------------------------------------------------ calls

    def _enqueue(self, call: CallRecord, at: float) -> CallRecord:
        """Put the call in its service's queue at the level its wait has reached."""
        spec = self._services[call.service]
        level = level_in_force(spec, call.since, at, call.early_level)
        call = call._replace(status=CallStatus.QUEUED, level=level, agent=None)
        self._calls[call.call_id] = call
        self._queues.add(call.service, level, call.key)
        gen = call.generation
        step = next_step_at(spec, call.since, level)
        if step is not None:
            self._deadlines.push(step, DeadlineKind.RELAXATION, call.call_id, gen)
        if not call.keeps_place:
            self._deadlines.push(
                call.since + spec.max_wait_s, DeadlineKind.MAX_WAIT, call.call_id, gen
            )
        return call

    def _unreserve(self, call: CallRecord) -> None:
        if call.agent is not None:
            held = self._reserved[call.agent]
            held.remove(call.call_id)
            if not held:
                del self._reserved[call.agent]

    def _forget(self, call: CallRecord) -> None:
        """Take the call out of every index and forget it."""
        if call.status is CallStatus.QUEUED:
            self._queues.remove(call.service, call.level, call.key)
        elif call.status is CallStatus.RESERVED:
            self._unreserve(call)
        del self._calls[call.call_id]

    def _overflow(
        self, call: CallRecord, reason: OverflowReason, at: float, out: list[Decision]
    ) -> None:
        self._forget(call)
        target = self._services[call.service].overflow
        out.append(Overflow(call.call_id, call.service, target.kind, target.target, reason, at))

    def _forecast_miss(self, service: str, since: float, at: float) -> bool:
        """Whether a call of ``service`` waiting since ``since``, for which no fully qualified
        agent is free, is forecast to miss its threshold."""
        wait = self._forecast.wait(service, self._queues.count(service))
        return wait is not None and at - since + wait > self._services[service].sl_threshold_s

    def _dispatch_call(
        self, call: CallRecord, at: float, out: list[Decision], avoid: str | None = None
    ) -> None:
        agent = self._ready.best(call.service, call.level, call.language, avoid)
        if agent is not None:
            self._offer(call, agent, at, out)
            self._ring_also(call.call_id, at, out, avoid)

    def _ring_also(
        self, call_id: str, at: float, out: list[Decision], avoid: str | None = None
    ) -> None:
        """Ring up to ``ring_together - 1`` more ready agents for a call just offered.

        Only agents as qualified as the first one (same or lower first level) ring with her,
        so whoever answers first, the call never goes to someone less qualified than the
        engine's own choice would have been at this level. A call that keeps its place (a
        callback request) goes to one agent: it is shown on her page to accept, not rung.
        """
        call = self._calls[call_id]
        first = call.agent
        if self._config.ring_together <= 1 or first is None or call.keeps_place:
            return
        limit = self._first_level[(first, call.service)]
        also: list[str] = []
        while len(also) < self._config.ring_together - 1:
            agent = self._ready.best(call.service, limit, call.language, avoid)
            if agent is None or (call.language is not None and not self._speaks(agent, call)):
                break
            also.append(agent)
            out.append(Offer(call.call_id, agent, call.service, at))
            self._commit(agent, self._agents[agent].ringing(call.call_id, call.service), at, out)
        if also:
            self._calls[call_id] = call._replace(also=tuple(also))

    def _speaks(self, agent: str, call: CallRecord) -> bool:
        """Whether the agent speaks the call's language, or the first one rung did not."""
        languages = self._agent_specs[agent].languages
        first = call.agent
        assert first is not None and call.language is not None
        return call.language in languages or call.language not in self._agent_specs[first].languages

    def _offer(self, call: CallRecord, agent: str, at: float, out: list[Decision]) -> None:
        if call.status is CallStatus.QUEUED:
            self._queues.remove(call.service, call.level, call.key)
        elif call.status is CallStatus.RESERVED:
            self._unreserve(call)
        self._ring(call.ringing(agent), at, out)

    def _ring(self, call: CallRecord, at: float, out: list[Decision]) -> None:
        """Store a call now ringing its agent (out of every queue) and ring her."""
        agent = call.agent
        assert agent is not None
        self._calls[call.call_id] = call
        out.append(Offer(call.call_id, agent, call.service, at))
        self._commit(agent, self._agents[agent].ringing(call.call_id, call.service), at, out)

    # ------------------------------------------------------------------ agents

    def _dispatch_agent(self, agent: str, at: float, out: list[Decision]) -> None:
        """If the agent is offerable, offer her the best call she may take, if any."""
        if not self._agents[agent].offerable:
            return
        held = self._reserved.get(agent)
        if held:
            services = self._services
            calls = [self._calls[c] for c in held]
            best = min(calls, key=lambda c: (-services[c.service].priority, c.key))
            self._offer(best, agent, at, out)
            return
        found = self._queues.best_across(self._tiers[agent])
        if found is not None:
            self._offer(self._calls[found[1][2]], agent, at, out)

    def _end_offer(self, agent: str, rec: AgentRecord, at: float, out: list[Decision]) -> None:
        """The agent's offer failed or was cancelled: back to READY or to her request."""
        state, reason = rec.pending if rec.pending is not None else (S.READY, None)
        new = rec._replace(state=state, reason=reason, call_id=None, service=None, pending=None)
        self._commit(agent, new, at, out)

    def _commit(self, agent: str, new: AgentRecord, at: float, out: list[Decision]) -> None:
        """Store an agent's new record and keep every index and count in step with it."""
        old = self._agents[agent]
        before, after = old.state, new.state
        moved = before is not after
        if moved:
            check_move(agent, before, after)
        was_in = old.offerable
        is_in = new.offerable
        if was_in and (not is_in or old.idle_since != new.idle_since):
            self._ready.remove(agent)
        if is_in and (not was_in or old.idle_since != new.idle_since):
            self._ready.add(agent, new.idle_since)
        self._agents[agent] = new
        if moved or old.reason != new.reason:
            out.append(AgentStateChanged(agent, after, new.reason, at))
        if not moved:
            return
        if (before in WORKING) is not (after in WORKING):
            self._forecast.working_changed(agent, after in WORKING)
        if before is OFFLINE:
            for service in self._serves[agent]:
                self._online_capable[service] += 1
        elif after is OFFLINE:
            for service in self._serves[agent]:
                self._online_capable[service] -= 1
                if self._online_capable[service] == 0:
                    self._nobody_left(service, at, out)
        if before in HOLDING and after not in HOLDING and agent in self._reserved:
            for call_id in sorted(self._reserved[agent]):
                call = self._calls[call_id]
                self._unreserve(call)
                self._dispatch_call(self._enqueue(call, at), at, out)

    def _nobody_left(self, service: str, at: float, out: list[Decision]) -> None:
        label = self._services[service].label
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
            for c in self._calls.values()
            if c.service == service and c.status in waiting and not c.keeps_place
        ]
        for call in sorted(calls, key=lambda c: c.key):
            self._overflow(call, OverflowReason.NO_AGENT, at, out)
