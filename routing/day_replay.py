"""Replays a generated day through a router on a simulated clock (discrete-event).

Theory of operation: the world (callers, phones, the staff's schedules) lives in a heap of
timestamped happenings; the router (our ``RoutingEngine`` or an ``AppQueueModel``) is only
fed ``routing.events`` and answers with ``routing.decisions``, exactly as in production.
The loop pops the earliest happening, but first sends ``Tick(d)`` whenever the router's
``next_deadline()`` ``d`` comes strictly before it. Nothing reads a clock or sleeps.

The world's rules:

* A caller is queued (``CallQueued``) at her arrival and hangs up (``CallLeft``) when her
  patience runs out, unless answered by then: that leg is *abandoned*.
* An ``Offer`` rings the agent's phone. The caller's next ring draw decides: answered after
  a short delay (``OfferAnswered``), or not, and it fails after the ring timeout
  (``OfferFailed``). Several offers of one call at once are allowed only with
  ``parallel_offers`` (app_queue's ringall); the first to answer takes the call and the
  others stop ringing (the router is told only of the answer: it cancels its other rings).
* An answered call talks for the caller's drawn talk time (a recorded call: the time she
  really talked, ``CallPlan.talk_s``), then ``AgentFinished``; the
  wrap-up is the router's. A first leg drawn for a transfer is then queued again, for the
  target service, as a new leg ``<call>-t`` with its own patience and talk time.
* An ``Overflow`` ends the leg; to a service, the caller is queued there at once (new leg
  ``<leg>><service>``) with the patience she has left and the same talk-time draw.
* Staff: READY at each shift start, PAUSED during breaks, READY after them, OFFLINE at
  shift end (the router defers what it must while the agent is busy). An agent paused by
  the router for missed offers sets herself READY again ``unpause_after_s`` later, if her
  schedule says she should be ready.

Callbacks (``routing.day_callbacks``, our engine only, when the scenario asks for them): a
caller whose patience runs out may ask to be called back; her leg still ends abandoned, and
her request is routed by the engine as a caller who entered when she asked. Its offer is
accepted after a ring draw, then the citizen's call (ring, and the talk if she answers)
keeps the agent on the call until ``AgentFinished``.

Agent times come from the router's own ``AgentStateChanged`` decisions. The world checks
the router: an offer to an agent who already rings or talks, an offer or overflow of a call
that is not waiting, raise ``SimulationError``.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Protocol

from routing.day_announcements import DayAnnouncer
from routing.day_callbacks import CallbackDesk, is_callback
from routing.day_model import DaySpec
from routing.day_records import AgentTime, DayRecord, LegRecord, Outcome
from routing.decisions import (
    NO_ANSWER_REASON,
    AgentStateChanged,
    Decision,
    Offer,
    Overflow,
)
from routing.errors import RoutingError
from routing.events import (
    AgentFinished,
    AgentStateSet,
    CallLeft,
    CallQueued,
    Event,
    OfferAnswered,
    OfferFailed,
    Tick,
)
from routing.model import OverflowKind
from routing.states import AgentState
from routing.traffic import CallPlan, RingDraws, talk_time

S = AgentState
BREAK_REASON = "pause"

# Happenings, in the heap as (at, seq, kind, payload...).
_ARRIVE, _PATIENCE, _RING_END, _TALK_END, _STAFF, _UNPAUSE = range(6)
_CB_SYNC, _CB_ACCEPT, _CB_END = range(6, 9)  # callbacks: look again, accepted, call ended
_ANNOUNCE = 9  # a waiting caller is told her position and wait (our engine only)


class SimulationError(RoutingError):
    """The router broke a rule of the world (the message names the call and the agent)."""


class Router(Protocol):
    def handle(self, event: Event) -> list[Decision]: ...

    def next_deadline(self) -> float | None: ...


@dataclass(slots=True)
class _Leg:
    leg_id: str
    plan: CallPlan
    service: str
    queued_at: float
    gives_up_at: float
    z: float
    draws: RingDraws
    first_chain: bool  # the first leg or its overflow legs (may still be transferred)
    offers: dict[str, int] = field(default_factory=dict)  # agent -> ring token
    rung: int = 0
    done: bool = False


@dataclass(slots=True)
class _Agent:
    holding: str | None = None  # the leg ringing or talking on this phone
    state: AgentState = S.OFFLINE
    reason: str | None = None
    since: float = 0.0
    scheduled: AgentState = S.OFFLINE
    logged_in: float = 0.0
    talk: float = 0.0
    wrap: float = 0.0
    answered: int = 0


class _Replay:
    def __init__(
        self,
        spec: DaySpec,
        router: Router,
        parallel_offers: bool,
        desk: CallbackDesk | None = None,
        announcer: DayAnnouncer | None = None,
    ) -> None:
        self.spec = spec
        self.desk = desk
        self.announcer = announcer
        self.router = router
        self.parallel = parallel_offers
        self.heap: list[tuple[float, int, int, str, str, int]] = []
        self.seq = 0
        self.legs: dict[str, _Leg] = {}
        self.agents = {agent: _Agent() for agent in spec.routing.agents}
        self.records: list[LegRecord] = []
        self.answered_at: dict[str, tuple[float, str]] = {}
        self.now = 0.0
        self.no_answer = {a: s.no_answer for a, s in spec.staff.items()}

    def push(self, at: float, kind: int, subject: str = "", other: str = "", n: int = 0) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (at, self.seq, kind, subject, other, n))

    # ------------------------------------------------------------------ loop

    def run(self, calls: tuple[CallPlan, ...]) -> None:
        for schedule in self.spec.staff.values():
            a = schedule.agent
            for start, end in schedule.shifts:
                self.push(start, _STAFF, a, S.READY.value)
                self.push(end, _STAFF, a, S.OFFLINE.value)
            for b in schedule.breaks:
                self.push(b.start, _STAFF, a, S.PAUSED.value)
                self.push(b.end, _STAFF, a, S.READY.value)
        self.plans = {plan.call_id: plan for plan in calls}
        for plan in calls:
            self.push(plan.arrival, _ARRIVE, plan.call_id)
        if self.desk is not None:  # closing time: the waiting callbacks leave the engine
            self.push(self.desk.close, _CB_SYNC)
        heap, router = self.heap, self.router
        last_tick, repeats = None, 0
        while True:
            deadline = router.next_deadline()
            if deadline is not None and (not heap or deadline < heap[0][0]):
                repeats = repeats + 1 if deadline == last_tick else 0
                if repeats > 3:
                    raise SimulationError(f"router deadline stuck at {deadline!r}")
                last_tick = deadline
                self.now = max(self.now, deadline)
                self.decide(router.handle(Tick(deadline)))
                continue
            if not heap:
                break
            at, _, kind, subject, other, n = heapq.heappop(heap)
            self.now = at
            if kind == _ARRIVE:
                self.arrive(subject, at)
            elif kind == _PATIENCE:
                self.give_up(subject, at)
            elif kind == _RING_END:
                self.ring_end(subject, other, n, at)
            elif kind == _TALK_END:
                self.talk_end(subject, other, at)
            elif kind == _STAFF:
                self.staff(subject, S(other), at)
            elif kind == _UNPAUSE:
                self.unpause(subject, at)
            elif kind == _ANNOUNCE:
                self.announce(subject, at)
            else:
                self.callback(kind, subject, other, at)
        for leg in self.legs.values():
            if not leg.done:
                raise SimulationError(f"call {leg.leg_id!r} never ended")

    # ------------------------------------------------------------------ happenings

    def arrive(self, leg_id: str, at: float) -> None:
        leg = self.legs.get(leg_id)
        if leg is None:  # a first leg: built from its plan
            plan = self.plans[leg_id]
            leg = _Leg(
                leg_id,
                plan,
                plan.service,
                at,
                at + plan.patience_s,
                plan.handle_z,
                RingDraws(plan.ring_seed),
                True,
            )
            self.legs[leg_id] = leg
        self.push(leg.gives_up_at, _PATIENCE, leg_id)
        self.decide(self.router.handle(CallQueued(leg_id, leg.service, at)))
        if self.announcer is not None:
            due = self.announcer.entered(leg_id, leg.service, at)
            if due is not None:
                self.push(due, _ANNOUNCE, leg_id)

    def announce(self, leg_id: str, at: float) -> None:
        leg = self.legs[leg_id]
        assert self.announcer is not None
        if leg.done:
            return
        ringing = bool(leg.offers)
        due = self.announcer.announce(leg_id, leg.service, leg.queued_at, at, ringing)
        if due is not None:
            self.push(due, _ANNOUNCE, leg_id)

    def give_up(self, leg_id: str, at: float) -> None:
        leg = self.legs[leg_id]
        if leg.done:
            return
        self.close(leg, at, Outcome.ABANDONED)
        if self.announcer is not None:
            self.announcer.left(leg_id)
        for agent in leg.offers:
            self.agents[agent].holding = None
        leg.offers.clear()
        self.decide(self.router.handle(CallLeft(leg_id, at)))
        desk = self.desk
        if desk is not None and desk.wants(leg.service, leg.plan.ring_seed, leg_id):
            traffic = self.spec.traffic.get(leg.service) or self.spec.traffic[leg.plan.service]
            due = desk.ask(leg_id, leg.service, leg.plan.ring_seed, talk_time(traffic, leg.z), at)
            if due is not None:
                self.push(due, _CB_SYNC)
            self.sync_callbacks(at)

    def ring_end(self, leg_id: str, agent: str, token: int, at: float) -> None:
        leg = self.legs[leg_id]
        if leg.offers.get(agent) != token:
            return  # cancelled: the caller left or another phone answered
        if token > 0:  # answered
            for other in leg.offers:
                self.agents[other].holding = None
            leg.offers.clear()
            self.agents[agent].holding = leg_id
            self.agents[agent].answered += 1
            self.answered_at[leg_id] = (at, agent)
            leg.done = True
            if self.announcer is not None:
                self.announcer.answered(leg_id, leg.service, at - leg.queued_at)
            self.push(at + self.talk(leg), _TALK_END, agent, leg_id)
            self.decide(self.router.handle(OfferAnswered(leg_id, agent, at)))
        else:
            del leg.offers[agent]
            self.agents[agent].holding = None
            self.decide(self.router.handle(OfferFailed(leg_id, agent, NO_ANSWER_REASON, at)))

    def talk(self, leg: _Leg) -> float:
        if leg.first_chain and leg.plan.talk_s is not None:
            return leg.plan.talk_s  # a recorded call: what she really talked
        traffic = self.spec.traffic.get(leg.service) or self.spec.traffic[leg.plan.service]
        return talk_time(traffic, leg.z)

    def talk_end(self, agent: str, leg_id: str, at: float) -> None:
        leg = self.legs[leg_id]
        answered, _ = self.answered_at.pop(leg_id)
        self.records.append(
            LegRecord(
                leg_id,
                leg.plan.call_id,
                leg.service,
                leg.queued_at,
                answered,
                Outcome.ANSWERED,
                agent,
                at,
                leg.rung,
            )
        )
        self.agents[agent].holding = None
        self.decide(self.router.handle(AgentFinished(agent, at)))
        plan = leg.plan
        if leg.first_chain and plan.transfer_to is not None and plan.transfer_to != leg.service:
            new_id = f"{plan.call_id}-t"
            self.legs[new_id] = _Leg(
                new_id,
                plan,
                plan.transfer_to,
                at,
                at + plan.transfer_patience_s,
                plan.transfer_handle_z,
                RingDraws(plan.transfer_ring_seed),
                False,
            )
            self.push(at, _ARRIVE, new_id)

    def staff(self, agent: str, state: AgentState, at: float) -> None:
        self.agents[agent].scheduled = state
        reason = BREAK_REASON if state is S.PAUSED else None
        self.decide(self.router.handle(AgentStateSet(agent, state, at, reason)))

    def unpause(self, agent: str, at: float) -> None:
        a = self.agents[agent]
        if a.state is S.PAUSED and a.reason == NO_ANSWER_REASON and a.scheduled is S.READY:
            self.decide(self.router.handle(AgentStateSet(agent, S.READY, at)))

    # ------------------------------------------------------------------ decisions

    # ------------------------------------------------------------------ callbacks

    def callback(self, kind: int, agent: str, call_id: str, at: float) -> None:
        desk = self.desk
        assert desk is not None
        if kind == _CB_SYNC:
            self.sync_callbacks(at)
        elif kind == _CB_ACCEPT:
            events, end = desk.accepted(call_id, agent, at)
            for event in events:
                self.decide(self.router.handle(event))
            self.push(end, _CB_END, agent, call_id)
        else:
            self.agents[agent].holding = None
            later = desk.ended(call_id, at)
            self.decide(self.router.handle(AgentFinished(agent, at)))
            if later is not None:
                self.push(later, _CB_SYNC)

    def sync_callbacks(self, at: float) -> None:
        assert self.desk is not None
        for event in self.desk.sync(at):
            self.decide(self.router.handle(event))

    def offer_callback(self, d: Offer) -> None:
        assert self.desk is not None
        a = self.agents[d.agent]
        if a.holding is not None:
            raise SimulationError(
                f"offer of callback {d.call_id!r} to {d.agent!r}, who holds {a.holding!r}"
            )
        a.holding = d.call_id
        delay = self.desk.offered(d.call_id, d.agent, d.at)
        self.push(d.at + delay, _CB_ACCEPT, d.agent, d.call_id)

    # ------------------------------------------------------------------ decisions

    def decide(self, decisions: list[Decision]) -> None:
        if self.announcer is not None:
            self.announcer.observe(decisions)
        for d in decisions:
            if isinstance(d, Offer):
                self.offer(d)
            elif isinstance(d, AgentStateChanged):
                self.state_changed(d)
            elif isinstance(d, Overflow):
                self.overflow(d)

    def offer(self, d: Offer) -> None:
        if self.desk is not None and is_callback(d.call_id):
            self.offer_callback(d)
            return
        leg = self.legs.get(d.call_id)
        if leg is None or leg.done:
            raise SimulationError(f"offer of call {d.call_id!r} to {d.agent!r}: not waiting")
        a = self.agents[d.agent]
        if a.holding is not None:
            raise SimulationError(
                f"offer of call {d.call_id!r} to {d.agent!r}, who holds {a.holding!r}"
            )
        if leg.offers and not self.parallel:
            raise SimulationError(f"call {d.call_id!r} offered to {d.agent!r} while ringing")
        a.holding = d.call_id
        leg.rung += 1
        ring = self.spec.ring
        answered, delay = leg.draws.next(self.no_answer.get(d.agent, 0.0), ring.answer_delay_s)
        self.seq += 1
        token = self.seq if answered else -self.seq
        leg.offers[d.agent] = token
        end = d.at + (delay if answered else ring.timeout_s)
        heapq.heappush(self.heap, (end, self.seq, _RING_END, d.call_id, d.agent, token))

    def overflow(self, d: Overflow) -> None:
        leg = self.legs.get(d.call_id)
        if leg is None or leg.done or leg.offers:
            raise SimulationError(f"overflow of call {d.call_id!r}: not waiting")
        self.close(leg, d.at, Outcome.OVERFLOWED)
        if d.target_kind is OverflowKind.SERVICE and d.target is not None:
            if leg.gives_up_at > d.at:
                new_id = f"{leg.leg_id}>{d.target}"
                self.legs[new_id] = _Leg(
                    new_id,
                    leg.plan,
                    d.target,
                    d.at,
                    leg.gives_up_at,
                    leg.z,
                    leg.draws,
                    leg.first_chain,
                )
                self.push(d.at, _ARRIVE, new_id)

    def close(self, leg: _Leg, at: float, outcome: Outcome) -> None:
        leg.done = True
        self.records.append(
            LegRecord(
                leg.leg_id,
                leg.plan.call_id,
                leg.service,
                leg.queued_at,
                at,
                outcome,
                offers=leg.rung,
            )
        )

    def state_changed(self, d: AgentStateChanged) -> None:
        a = self.agents[d.agent]
        self.account(a, d.at)
        a.state, a.reason = d.state, d.reason
        if d.state is S.PAUSED and d.reason == NO_ANSWER_REASON:
            self.push(d.at + self.spec.ring.unpause_after_s, _UNPAUSE, d.agent)

    @staticmethod
    def account(a: _Agent, at: float) -> None:
        spent = at - a.since
        if a.state is not S.OFFLINE:
            a.logged_in += spent
            if a.state is S.ON_CALL:
                a.talk += spent
            elif a.state is S.WRAP_UP:
                a.wrap += spent
        a.since = at


def replay(
    spec: DaySpec,
    calls: tuple[CallPlan, ...],
    router: Router,
    name: str,
    parallel_offers: bool = False,
    callbacks: bool = False,
    announcer: DayAnnouncer | None = None,
) -> DayRecord:
    """Run the whole day through ``router``; raises ``SimulationError`` if it breaks a rule.

    ``callbacks``: model the scenario's callbacks (``spec.callbacks``; our engine only);
    ``announcer``: tell waiting callers their position and wait, and record it (our engine
    only: it reads the engine's views)."""
    desk = CallbackDesk(spec) if callbacks and spec.callbacks.enabled else None
    run = _Replay(spec, router, parallel_offers, desk, announcer)
    run.run(calls)
    for a in run.agents.values():
        run.account(a, run.now)
    agents = {
        agent: AgentTime(agent, a.logged_in, a.talk, a.wrap, a.answered)
        for agent, a in sorted(run.agents.items())
    }
    records = desk.records() if desk is not None else ()
    said = announcer.records(run.records) if announcer is not None else ()
    return DayRecord(name, tuple(run.records), agents, run.now, records, said)
