"""A model of Asterisk's app_queue, driven by the same events as our engine (baseline).

Theory of operation: ``AppQueueModel(config, strategy).handle(event) -> list[Decision]`` and
``next_deadline()`` have the engine's contract, so ``routing.day_replay`` replays the very
same day through either. It is pure: no clock, no I/O, no randomness.

What is modelled (after ``queues.conf.sample`` and ``calc_metric``/``ring_one``/
``store_next_rr`` in ``apps/app_queue.c``):

* One queue per service. Its members are the agents having every required skill of the
  service (any proficiency), with ``penalty = 5 - proficiency`` (lowest over the required
  skills). Relaxation steps and extra skills do not exist in app_queue and are ignored.
* Each member gets a metric ``penalty * 1000000 + strategy part``; the queue rings the
  *available* member of lowest metric, so a higher penalty is only rung when no member of
  lower penalty is available. Strategy parts: ``ringall`` 0 (every available member with the
  best metric rings at once, the first to answer takes the call); ``leastrecent`` 0 if the
  member never had a call from this queue, else ``1000000 - seconds since her last call
  from it ended``; ``fewestcalls`` her completed calls from this queue; ``rrmemory`` her
  position ``pos`` if ``pos >= rrpos`` else ``1000 + pos``; after ringing, ``rrpos`` moves
  to the member of next-higher metric (round robin from after the member rung).
  Ties go to the first member in configuration order.
* Available: logged in, not paused, not ringing or talking in any queue (``ringinuse=no``),
  and past the ``wrapuptime`` (the service's ``wrap_up_s``) of her last call. With
  ``shared_lastcall`` her last call, call count and wrap-up (of the queue that gave the call)
  count in every queue; without, each queue only knows its own calls.
* ``autofill=yes``: a queue serves its waiting callers in arrival order, as many at once as
  it has available members. There is no global view: each queue picks on its own. When a
  member frees up, her queues try in order of ``weight`` (the service priority), then of
  their oldest waiting caller; a queue does not ring a member while a heavier queue she
  belongs to has callers (``compare_weight``).
* A ring that is not answered within ``timeout`` fails; the caller waits ``retry`` seconds
  before her queue tries again (the members are free for others meanwhile).
* The queue's timeout (the ``Queue()`` argument) is the service's ``max_wait_s``, with
  ``timeoutpriority=conf`` (a ring in progress is finished first); the caller then leaves to
  the service's overflow target, like the engine's. ``joinempty``/``leavewhenempty`` are
  ``unavailable``: a caller overflows (reason NO_AGENT) when no member is logged in.

Simplified: callers are served the instant a member frees up (app_queue polls every
second); ``autopause`` is off (no pause after missed rings); member positions are fixed
(configuration order) even when members log out; ``AgentStateChanged`` decisions are the
member's state as the wallboard would show it, wrap-up included, for the simulator's
accounting.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from routing.day_model import AppQueueSpec, Strategy
from routing.decisions import AgentStateChanged, Decision, Offer, Overflow, OverflowReason
from routing.errors import TimeWentBackwards, UnexpectedEvent, UnknownAgent, UnknownService
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
from routing.states import AgentState

S = AgentState
PENALTY_STEP = 1_000_000
_TIMEOUT, _RETRY, _WRAP_END = range(3)


@dataclass(slots=True)
class _Queue:
    spec: ServiceSpec
    members: list[str]  # configuration order: ``pos`` is the index
    penalty: dict[str, int]
    heavier: dict[str, list[str]]  # member -> her queues of higher weight
    entries: dict[str, _Entry] = field(default_factory=dict)  # arrival order
    rrpos: int = 0


@dataclass(slots=True)
class _Entry:
    call_id: str
    queue: str
    since: float
    ringing: set[str] = field(default_factory=set)
    retry_at: float | None = None


@dataclass(slots=True)
class _Member:
    queues: list[str]
    logged_in: bool = False
    paused: bool = False
    reason: str | None = None
    requested: AgentState = S.OFFLINE
    phone_busy: bool = False
    holding: str | None = None  # call ringing or talking
    talking: bool = False
    call_queue: str | None = None
    last_call: dict[str, float] = field(default_factory=dict)  # queue -> end of last call
    calls: dict[str, int] = field(default_factory=dict)  # queue -> completed calls
    blocked_until: dict[str, float] = field(default_factory=dict)  # queue -> end of wrap-up
    wrap_until: float = 0.0
    shown: tuple[AgentState, str | None] = (S.OFFLINE, None)


class AppQueueModel:
    def __init__(
        self, config: EngineConfig, strategy: Strategy, options: AppQueueSpec | None = None
    ) -> None:
        self.strategy = strategy
        self.options = options or AppQueueSpec()
        agents = list(config.agents.values())
        self._members: dict[str, _Member] = {a.agent: _Member([]) for a in agents}
        self._queues: dict[str, _Queue] = {}
        for name, spec in config.services.items():
            penalty: dict[str, int] = {}
            for a in agents:
                levels = [a.skills.get(skill, 0) for skill in spec.required_skills]
                if levels and min(levels) >= 1:
                    penalty[a.agent] = max(0, 5 - min(levels))
                    self._members[a.agent].queues.append(name)
            self._queues[name] = _Queue(spec, list(penalty), penalty, {})
        for q in self._queues.values():
            for agent in q.members:
                q.heavier[agent] = [
                    other
                    for other in self._members[agent].queues
                    if self._queues[other].spec.priority > q.spec.priority
                ]
        self._calls: dict[str, _Entry] = {}
        self._deadlines: list[tuple[float, int, int, str]] = []
        self._seq = 0
        self._now = float("-inf")
        self._emptied: list[_Queue] = []  # queues left without callers: lighter ones may ring

    # ------------------------------------------------------------------ public API

    def handle(self, event: Event) -> list[Decision]:
        """Apply one event; return the decisions taken, in order (the engine's contract)."""
        if event.at < self._now:
            raise TimeWentBackwards(event.at, self._now)
        out: list[Decision] = []
        self._advance(event.at, out)
        at = event.at
        match event:
            case CallQueued():
                self._queued(event, out)
            case CallLeft():
                entry = self._calls.get(event.call_id)
                if entry is not None:
                    self._drop(entry)
                    freed = sorted(entry.ringing)
                    for agent in freed:
                        self._members[agent].holding = None
                        self._show(agent, at, out)
                    self._dispatch_members(freed, at, out)
            case OfferAnswered():
                entry = self._ringing(event.call_id, event.agent)
                self._drop(entry)
                others = sorted(entry.ringing - {event.agent})
                m = self._members[event.agent]
                m.talking, m.call_queue = True, entry.queue
                self._show(event.agent, at, out)
                for agent in others:
                    self._members[agent].holding = None
                    self._show(agent, at, out)
                self._dispatch_members(others, at, out)
            case OfferFailed():
                entry = self._ringing(event.call_id, event.agent)
                entry.ringing.discard(event.agent)
                self._members[event.agent].holding = None
                self._show(event.agent, at, out)
                if not entry.ringing:
                    self._round_failed(entry, at, out)
                self._dispatch_members([event.agent], at, out)
            case AgentFinished():
                self._finished(event.agent, at, out)
            case AgentStateSet():
                self._state_set(event, out)
            case AgentPhoneBusy():
                self._member(event.agent).phone_busy = event.busy
                self._dispatch_members([event.agent], at, out)
            case Tick():
                pass
        self._release(at, out)
        self._now = at
        return out

    def next_deadline(self) -> float | None:
        while self._deadlines and not self._live(self._deadlines[0]):
            heapq.heappop(self._deadlines)
        return self._deadlines[0][0] if self._deadlines else None

    def members(self, service: str) -> list[tuple[str, int]]:
        """The queue's members and their penalties, in position order."""
        q = self._queues.get(service)
        if q is None:
            raise UnknownService(service)
        return [(agent, q.penalty[agent]) for agent in q.members]

    def rrpos(self, service: str) -> int:
        return self._queues[service].rrpos

    # ------------------------------------------------------------------ events

    def _member(self, agent: str) -> _Member:
        m = self._members.get(agent)
        if m is None:
            raise UnknownAgent(agent)
        return m

    def _ringing(self, call_id: str, agent: str) -> _Entry:
        entry = self._calls.get(call_id)
        if entry is None or agent not in entry.ringing:
            raise UnexpectedEvent(f"call {call_id!r} is not ringing agent {agent!r}")
        return entry

    def _queued(self, event: CallQueued, out: list[Decision]) -> None:
        q = self._queues.get(event.service)
        if q is None:
            raise UnknownService(event.service)
        if event.call_id in self._calls:
            raise UnexpectedEvent(f"call {event.call_id!r} is already queued")
        at = event.at
        if not any(self._members[a].logged_in for a in q.members):
            self._overflow(event.call_id, q, OverflowReason.NO_AGENT, at, out)
            return
        entry = _Entry(event.call_id, event.service, at)
        q.entries[event.call_id] = entry
        self._calls[event.call_id] = entry
        self._push(at + q.spec.max_wait_s, _TIMEOUT, event.call_id)
        self._dispatch(q, at, out)

    def _round_failed(self, entry: _Entry, at: float, out: list[Decision]) -> None:
        q = self._queues[entry.queue]
        if at >= entry.since + q.spec.max_wait_s:
            self._drop(entry)
            self._overflow(entry.call_id, q, OverflowReason.MAX_WAIT, at, out)
        elif not any(self._members[a].logged_in for a in q.members):
            self._drop(entry)
            self._overflow(entry.call_id, q, OverflowReason.NO_AGENT, at, out)
        else:
            entry.retry_at = at + self.options.retry_s
            self._push(entry.retry_at, _RETRY, entry.call_id)

    def _finished(self, agent: str, at: float, out: list[Decision]) -> None:
        m = self._member(agent)
        if not m.talking or m.call_queue is None:
            raise UnexpectedEvent(f"agent {agent!r} finished a call but is not on one")
        home = m.call_queue
        m.talking, m.holding, m.call_queue = False, None, None
        wrap = self._queues[home].spec.wrap_up_s
        for name in m.queues if self.options.shared_lastcall else [home]:
            m.last_call[name] = at
            m.calls[name] = m.calls.get(name, 0) + 1
            m.blocked_until[name] = at + wrap
        m.wrap_until = at + wrap
        if wrap > 0:
            self._push(at + wrap, _WRAP_END, agent)
        self._show(agent, at, out)
        self._dispatch_members([agent], at, out)

    def _state_set(self, event: AgentStateSet, out: list[Decision]) -> None:
        m, at = self._member(event.agent), event.at
        target = event.state
        m.requested = target
        m.logged_in = target is not S.OFFLINE
        m.paused = target in (S.PAUSED, S.FRONT_DESK)
        m.reason = (event.reason or "pause") if target is S.PAUSED else None
        self._show(event.agent, at, out)
        if m.logged_in:
            self._dispatch_members([event.agent], at, out)
            return
        for name in m.queues:  # leavewhenempty
            q = self._queues[name]
            if any(self._members[a].logged_in for a in q.members):
                continue
            for entry in [e for e in q.entries.values() if not e.ringing]:
                self._drop(entry)
                self._overflow(entry.call_id, q, OverflowReason.NO_AGENT, at, out)

    # ------------------------------------------------------------------ time

    def _push(self, at: float, kind: int, subject: str) -> None:
        self._seq += 1
        heapq.heappush(self._deadlines, (at, self._seq, kind, subject))

    def _live(self, deadline: tuple[float, int, int, str]) -> bool:
        at, _, kind, subject = deadline
        if kind == _WRAP_END:
            return self._members[subject].wrap_until == at
        entry = self._calls.get(subject)
        if entry is None:
            return False
        if kind == _RETRY:
            return entry.retry_at == at
        # A timeout during a ring is handled when the ring fails.
        return not entry.ringing and entry.since + self._queues[entry.queue].spec.max_wait_s == at

    def _advance(self, at: float, out: list[Decision]) -> None:
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] <= at:
            deadline = heapq.heappop(deadlines)
            if not self._live(deadline):
                continue
            instant, _, kind, subject = deadline
            if kind == _TIMEOUT:
                entry = self._calls[subject]
                q = self._queues[entry.queue]
                self._drop(entry)
                self._overflow(subject, q, OverflowReason.MAX_WAIT, instant, out)
            elif kind == _RETRY:
                entry = self._calls[subject]
                entry.retry_at = None
                self._dispatch(self._queues[entry.queue], instant, out)
            else:
                self._show(subject, instant, out)
                self._dispatch_members([subject], instant, out)
            self._release(instant, out)

    # ------------------------------------------------------------------ calls

    def _drop(self, entry: _Entry) -> None:
        del self._calls[entry.call_id]
        q = self._queues[entry.queue]
        del q.entries[entry.call_id]
        if not q.entries:
            self._emptied.append(q)

    def _release(self, at: float, out: list[Decision]) -> None:
        """Queues that emptied no longer hold their members back from lighter queues."""
        while self._emptied:
            q = self._emptied.pop()
            if not q.entries:
                self._dispatch_members(q.members, at, out)

    def _overflow(
        self, call_id: str, q: _Queue, reason: OverflowReason, at: float, out: list[Decision]
    ) -> None:
        target = q.spec.overflow
        out.append(Overflow(call_id, q.spec.name, target.kind, target.target, reason, at))

    def _available(self, agent: str, q: _Queue, at: float) -> bool:
        m = self._members[agent]
        if not m.logged_in or m.paused or m.phone_busy or m.holding is not None:
            return False
        if m.blocked_until.get(q.spec.name, 0.0) > at:
            return False
        return not any(self._queues[h].entries for h in q.heavier[agent])

    def _metric(self, q: _Queue, pos: int, agent: str, at: float) -> float:
        base = float(q.penalty[agent] * PENALTY_STEP)
        m = self._members[agent]
        name = q.spec.name
        if self.strategy is Strategy.LEASTRECENT:
            last = m.last_call.get(name)
            return base if last is None else base + PENALTY_STEP - (at - last)
        if self.strategy is Strategy.FEWESTCALLS:
            return base + m.calls.get(name, 0)
        if self.strategy is Strategy.RRMEMORY:
            return base + (pos if pos >= q.rrpos else 1000 + pos)
        return base  # RINGALL: everyone equal, except for penalty

    def _dispatch(self, q: _Queue, at: float, out: list[Decision]) -> None:
        """Ring members for this queue's waiting callers, oldest first, while any is free."""
        for entry in q.entries.values():
            if entry.ringing or entry.retry_at is not None:
                continue
            metrics = [
                (self._metric(q, pos, agent, at), pos, agent)
                for pos, agent in enumerate(q.members)
                if self._available(agent, q, at)
            ]
            if not metrics:
                return
            best = min(metrics)
            if self.strategy is Strategy.RINGALL:
                chosen = [agent for metric, _, agent in metrics if metric == best[0]]
            else:
                chosen = [best[2]]
                if self.strategy is Strategy.RRMEMORY:
                    self._store_next_rr(q, best[0], at)
            for agent in chosen:
                entry.ringing.add(agent)
                self._members[agent].holding = entry.call_id
                out.append(Offer(entry.call_id, agent, q.spec.name, at))
                self._show(agent, at, out)

    def _store_next_rr(self, q: _Queue, rung: float, at: float) -> None:
        """``rrpos`` becomes the position of the member with the next metric after the rung one."""
        after = [
            (metric, pos)
            for pos, agent in enumerate(q.members)
            if (metric := self._metric(q, pos, agent, at)) > rung
        ]
        if after:
            q.rrpos = min(after)[1]
        elif any(pos > q.rrpos for pos in range(len(q.members))):
            q.rrpos = 0
        else:
            q.rrpos += 1

    def _dispatch_members(self, agents: list[str], at: float, out: list[Decision]) -> None:
        """Let the queues of freed members try, heaviest first, then oldest caller first."""
        names = {name for agent in agents for name in self._members[agent].queues}
        queues = [self._queues[n] for n in names if self._queues[n].entries]
        queues.sort(key=lambda q: (-q.spec.priority, next(iter(q.entries.values())).since))
        for q in queues:
            self._dispatch(q, at, out)

    # ------------------------------------------------------------------ display

    def _show(self, agent: str, at: float, out: list[Decision]) -> None:
        m = self._members[agent]
        shown: tuple[AgentState, str | None]
        if m.holding is not None or m.talking:
            shown = (S.ON_CALL if m.talking else S.RINGING, None)
        elif not m.logged_in:
            shown = (S.OFFLINE, None)
        elif m.paused:
            shown = (m.requested, m.reason)
        elif m.wrap_until > at:
            shown = (S.WRAP_UP, None)
        else:
            shown = (S.READY, None)
        if shown != m.shown:
            m.shown = shown
            out.append(AgentStateChanged(agent, shown[0], shown[1], at))
