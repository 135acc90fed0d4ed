"""What the routing engine holds, and the moves that keep its call indexes in step.

Theory of operation: one ``EngineState`` per engine, owned by ``routing.engine`` and changed
only by the event modules (``arrivals``, ``offer_outcomes``, ``agent_requests``,
``passing_time``) through ``routing.offers`` and the methods below. The static tables (who
qualifies for what from which level, who is preferred: ``routing.agent_rank``) are built
once; the indexes (ready agents and waiting calls per service and level: ``routing.pools``;
calls held for their case owner; the deadline heap) change with every event. A call is in
exactly one place: the queue index (QUEUED), a case owner's hold (RESERVED), or ringing
(out of both); ``enqueue``, ``unreserve`` and ``forget`` move it, and ``relax`` moves it up
a level when its wait passes a relaxation step.
"""

from __future__ import annotations

import math

from routing.agent_rank import agent_tables
from routing.deadlines import Deadline, DeadlineKind, Deadlines
from routing.model import AgentSpec, EngineConfig, ServiceSpec
from routing.pools import ReadyAgents, WaitingCalls
from routing.records import AgentRecord, CallRecord, CallStatus
from routing.requirements import (
    floor_levels,
    floors_due_at,
    level_in_force,
    next_step_at,
    requirements,
)
from routing.states import AgentState
from routing.wait_forecast import WaitForecast

S = AgentState


class EngineState:
    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.services: dict[str, ServiceSpec] = dict(config.services)
        self.agent_specs: dict[str, AgentSpec] = dict(config.agents)
        levels = {name: requirements(spec) for name, spec in self.services.items()}
        tables = agent_tables(self.services, self.agent_specs)
        self.tiers = tables.tiers
        self.serves = tables.serves  # services an agent can ever take
        self.first_level = tables.first_level  # (agent, service) -> level
        self.early_levels = {name: floor_levels(spec) for name, spec in self.services.items()}
        self.forecast = WaitForecast(tables.fully)
        counts = {name: len(reqs) for name, reqs in levels.items()}
        languages = {agent: spec.languages for agent, spec in self.agent_specs.items()}
        self.ready = ReadyAgents(counts, tables.entries, languages)
        self.queues = WaitingCalls(counts)
        self.online_capable = dict.fromkeys(self.services, 0)
        self.agents = {agent: AgentRecord() for agent in self.agent_specs}
        self.calls: dict[str, CallRecord] = {}
        self.reserved: dict[str, list[str]] = {}  # case owner -> call ids held for her
        self.deadlines = Deadlines()
        self.now = -math.inf
        self.generation = 0

    def enqueue(self, call: CallRecord, at: float) -> CallRecord:
        """Put the call in its service's queue at the level its wait has reached."""
        spec = self.services[call.service]
        level = level_in_force(spec, call.since, at, call.early_level)
        call = call._replace(status=CallStatus.QUEUED, level=level, agent=None)
        self.calls[call.call_id] = call
        self.queues.add(call.service, level, call.key)
        gen = call.generation
        step = next_step_at(spec, call.since, level)
        if step is not None:
            self.deadlines.push(step, DeadlineKind.RELAXATION, call.call_id, gen)
        if not call.keeps_place:
            self.deadlines.push(
                call.since + spec.max_wait_s, DeadlineKind.MAX_WAIT, call.call_id, gen
            )
            due = floors_due_at(spec, call.since)
            if level < self.early_levels[call.service] and due > at:
                self.deadlines.push(due, DeadlineKind.FLOORS_DUE, call.call_id, gen)
        return call

    def unreserve(self, call: CallRecord) -> None:
        if call.agent is not None:
            held = self.reserved[call.agent]
            held.remove(call.call_id)
            if not held:
                del self.reserved[call.agent]

    def forget(self, call: CallRecord) -> None:
        """Take the call out of every index and forget it."""
        if call.status is CallStatus.QUEUED:
            self.queues.remove(call.service, call.level, call.key)
        elif call.status is CallStatus.RESERVED:
            self.unreserve(call)
        del self.calls[call.call_id]

    def is_live(self, entry: Deadline) -> bool:
        instant, kind, subject, generation = entry
        if kind is DeadlineKind.WRAP_UP_END:
            rec = self.agents[subject]
            return rec.state is S.WRAP_UP and rec.wrap_until == instant
        call = self.calls.get(subject)
        if call is None or call.generation != generation:
            return False
        if kind is DeadlineKind.MAX_WAIT:
            return call.status in (CallStatus.QUEUED, CallStatus.RESERVED)
        if kind is DeadlineKind.RESERVATION_END:
            return call.status is CallStatus.RESERVED
        if kind is DeadlineKind.FLOORS_DUE:
            return call.status is CallStatus.QUEUED and call.level < self.early_levels[call.service]
        if call.status is not CallStatus.QUEUED:
            return False
        step = next_step_at(self.services[call.service], call.since, call.level)
        return step is not None and step <= instant

    def grant_floors(self, call: CallRecord, instant: float) -> CallRecord:
        """Apply the service's floors to a queued call now (``CallRecord.early_level``):
        it is at half its threshold and no fully qualified agent was free for it."""
        call = call._replace(early_level=self.early_levels[call.service])
        self.calls[call.call_id] = call
        return self.relax(call, instant)

    def relax(self, call: CallRecord, instant: float) -> CallRecord:
        spec = self.services[call.service]
        self.queues.remove(call.service, call.level, call.key)
        level = level_in_force(spec, call.since, instant, call.early_level)
        call = call._replace(level=level)
        self.calls[call.call_id] = call
        self.queues.add(call.service, level, call.key)
        step = next_step_at(spec, call.since, level)
        if step is not None:
            self.deadlines.push(step, DeadlineKind.RELAXATION, call.call_id, call.generation)
        return call
